package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// portalDemo is the shared setup of the portal's browser tests: the binary,
// `outpost demo` serving the portal, the demo's tokens and a browser, with
// the steps the tests are written in.
type portalDemo struct {
	t      *testing.T
	ctx    context.Context
	bin    string
	tmp    string
	server string
	shots  string
	out    string
}

// newPortalDemo builds the binary, starts a demo with five accounts per
// technician and a headless Chromium at 1280×860.
func newPortalDemo(t *testing.T) *portalDemo {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is required (apt-get install -y chromium; .ci/run installs it)")
	}
	tmp := t.TempDir()
	p := &portalDemo{t: t, tmp: tmp, bin: buildBinary(t, tmp), shots: screenshotDir(t)}
	m, out := start(t, p.bin, regexp.MustCompile(`serving at (http://\S+)[\s\S]*Press Ctrl\+C`), "demo", "--data", filepath.Join(tmp, "demo"), "--addr", "127.0.0.1:0", "--accounts", "5")
	p.server, p.out = m[1], out.String()
	ctx, cancel := browser(t, tmp)
	t.Cleanup(cancel)
	p.ctx = ctx
	return p
}

// token is the API token `outpost demo` printed for the user whose login starts with user.
func (p *portalDemo) token(user string) string {
	p.t.Helper()
	mm := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(user) + `\S*\s.*\s(opt_\S+)$`).FindStringSubmatch(p.out)
	if mm == nil {
		p.t.Fatalf("no token for %s in:\n%s", user, p.out)
	}
	return mm[1]
}

// run does steps, failing the test with the page's text when one fails.
func (p *portalDemo) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

// try does steps and returns their error instead of failing the test.
func (p *portalDemo) try(steps ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(sctx, steps...)
}

// shot saves a screenshot as name.png in the screenshot directory.
func (p *portalDemo) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(p.shots, name+".png"), buf, 0o644)
	})
}

func (p *portalDemo) click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

func (p *portalDemo) visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// contains waits until the element's text includes want.
func (p *portalDemo) contains(sel, want string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	wb, _ := json.Marshal(want)
	return poll(`(document.querySelector(`+string(sb)+`)?.textContent ?? '').includes(`+string(wb)+`)`, 10*time.Second)
}

// value waits until the form control's value is want.
func (p *portalDemo) value(sel, want string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	wb, _ := json.Marshal(want)
	return poll(`document.querySelector(`+string(sb)+`)?.value === `+string(wb), 10*time.Second)
}

// eval returns an expression's value in the page.
func (p *portalDemo) eval(expr string) string {
	p.t.Helper()
	return eval[string](p.t, p.ctx, expr)
}

// labelled fails when a visible control has no label a screen reader can announce.
func (p *portalDemo) labelled(page string) {
	p.t.Helper()
	missing := p.eval(`[...document.querySelectorAll('input, select, textarea, button')]
		.filter(el => el.offsetParent !== null)
		.filter(el => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
		.map(el => el.outerHTML.slice(0, 80)).join('\n')`)
	if missing != "" {
		p.t.Errorf("%s: controls without a label:\n%s", page, missing)
	}
}

// signInWithToken signs in to the portal with an API token.
func (p *portalDemo) signInWithToken(token string) {
	p.t.Helper()
	p.run("token sign-in", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)), chromedp.Navigate(p.server+"/portal"), p.visible(`#username`),
		p.click(`.signin button.link`), p.visible(`#token`), fill(`#token`, token), p.click(`button[type="submit"]`), p.visible(`.navbar`))
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
