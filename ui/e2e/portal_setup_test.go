package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// portalDemo is portalEnv with what the profile pages' test needs beyond
// it: token sign-in, waiting for a control's value, the REST API as a user
// and `outpost device` against the demo.
type portalDemo struct{ *portalEnv }

func newPortalDemo(t *testing.T) *portalDemo { return &portalDemo{startPortal(t)} }

// try does steps and returns their error instead of failing the test.
func (p *portalDemo) try(steps ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(sctx, steps...)
}

// value waits until the form control's value is want.
func (p *portalDemo) value(sel, want string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	wb, _ := json.Marshal(want)
	return poll(`document.querySelector(`+string(sb)+`)?.value === `+string(wb), 10*time.Second)
}

// eval returns a string expression's value in the page.
func (p *portalDemo) eval(expr string) string {
	p.t.Helper()
	return eval[string](p.t, p.ctx, expr)
}

// signInWithToken signs in to the portal with an API token.
func (p *portalDemo) signInWithToken(token string) {
	p.t.Helper()
	p.run("token sign-in", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)), chromedp.Navigate(p.server+"/portal"), visible(`#username`),
		click(`.signin button.link`), visible(`#token`), fill(`#token`, token), click(`button[type="submit"]`), visible(`.navbar`))
}

// api sends a request to the demo server as the token's user and decodes
// the reply into out (when not nil); a status of 300 or more fails the test.
func (p *portalDemo) api(method, path, token string, body, out any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.server+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		p.t.Fatalf("%s %s: %s %s", method, path, resp.Status, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			p.t.Fatalf("%s %s: %v in %s", method, path, err, rb)
		}
	}
}

// device runs `outpost device --home HOME args...` and returns its output.
func (p *portalDemo) device(home string, args ...string) (string, error) {
	cmd := exec.Command(p.bin, append([]string{"device", "--home", filepath.Join(p.tmp, home)}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
