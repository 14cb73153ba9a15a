package e2e

// Shared setup for the portal's browser tests: a demo server and its
// accounts, an empty second server, the device CLI, and a browser page
// with the steps the tests use.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// demoServer is a running `outpost demo` and what it printed.
type demoServer struct {
	url string
	out string
}

// account returns the login, password and token the demo printed for the
// user whose login starts with prefix ("nora@").
func (d *demoServer) account(t *testing.T, prefix string) (login, password, token string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+(` + regexp.QuoteMeta(prefix) + `\S*)\s.*?\s(\S+)\s+(opt_\S+)$`).FindStringSubmatch(d.out)
	if m == nil {
		t.Fatalf("no account %s in the demo's output:\n%s", prefix, d.out)
	}
	return m[1], m[2], m[3]
}

// appID returns the id of the demo's offline app named name.
func (d *demoServer) appID(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(name) + `\s+\S+\s+([0-9a-f-]{36})$`).FindStringSubmatch(d.out)
	if m == nil {
		t.Fatalf("no app %s in the demo's output:\n%s", name, d.out)
	}
	return m[1]
}

// startEmptyServer runs `outpost serve` on a new data directory with one
// System Administrator and returns its address and that user's token.
func startEmptyServer(t *testing.T, bin, dir string) (url, adminToken string) {
	t.Helper()
	data := filepath.Join(dir, "second")
	admin := func(args ...string) string {
		out, err := exec.Command(bin, append([]string{"admin", "--data", data}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("outpost admin %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	admin("user", "create", "--name", "Ada Admin", "--domain", "ada@fabrikam.example", "--role", "System Administrator")
	tok := admin("token", "create", "--user", "ada@fabrikam.example")
	tok = tok[strings.LastIndex(tok, "\n")+1:]
	m, _ := start(t, bin, regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`), "serve", "--data", data, "--addr", "127.0.0.1:0")
	return "http://" + m[1], tok
}

// deviceCLI runs `outpost device` commands with their own home.
type deviceCLI struct {
	bin, home string
}

// run runs one command with stdin and returns its output and error.
func (d deviceCLI) run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(d.bin, append([]string{"device", "--home", d.home}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs a command that has to succeed.
func (d deviceCLI) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := d.run(stdin, args...)
	if err != nil {
		t.Fatalf("outpost device %v: %v\n%s", args, err, out)
	}
	return out
}

// portalPage is a browser tab with the steps the portal tests use.
type portalPage struct {
	t         *testing.T
	ctx       context.Context
	shots     string
	downloads string
}

// newPortalPage is the stack's browser with downloads going to a
// directory of their own.
func newPortalPage(t *testing.T, s *stack) *portalPage {
	t.Helper()
	p := &portalPage{t: t, ctx: s.ctx, shots: s.shots, downloads: filepath.Join(s.tmp, "downloads")}
	if err := os.MkdirAll(p.downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	p.run("downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: p.downloads})
		return err
	}))
	return p
}

// run does steps, failing with the page's text when one fails.
func (p *portalPage) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

func (p *portalPage) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(p.shots, name+".png"), buf, 0o644)
	})
}

func (p *portalPage) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// labelled fails when a visible control has no label a screen reader can announce.
func (p *portalPage) labelled(page string) {
	p.t.Helper()
	missing := eval[string](p.t, p.ctx, `[...document.querySelectorAll('input, select, textarea, button')]
		.filter(el => el.offsetParent !== null)
		.filter(el => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
		.map(el => el.outerHTML.slice(0, 80)).join('\n')`)
	if missing != "" {
		p.t.Errorf("%s: controls without a label:\n%s", page, missing)
	}
}

// fits fails when the page scrolls sideways.
func (p *portalPage) fits(page string) {
	p.t.Helper()
	if eval[bool](p.t, p.ctx, `document.documentElement.scrollWidth > innerWidth`) {
		p.t.Errorf("%s scrolls sideways at %d px", page, eval[int](p.t, p.ctx, `innerWidth`))
	}
}

// signIn opens server's portal and signs in with token.
func (p *portalPage) signIn(server, token string) {
	p.t.Helper()
	p.run("sign in to "+server, chromedp.Navigate(server+"/portal/"), visible(`#username, .navbar, .refusal`),
		script(`(sessionStorage.clear(), true)`), chromedp.Reload(), visible(`#username`),
		chromedp.Click(chromedp.CSS(`.signin button.link`)), visible(`#token`), fill(`#token`, token),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), visible(`.navbar, .refusal`))
}

// open moves the portal to #/route and waits for sel.
func (p *portalPage) open(route, sel string) {
	p.t.Helper()
	rb, _ := json.Marshal("#/" + route)
	p.run("open "+route, script(`(location.hash = `+string(rb)+`, true)`), visible(sel))
}

// download waits for the browser to have saved name in its download directory.
func (p *portalPage) download(name string) string {
	p.t.Helper()
	path := filepath.Join(p.downloads, name)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return path
			}
		}
	}
	entries, _ := os.ReadDir(p.downloads)
	p.t.Fatalf("the browser did not save %s; the download directory has %v", name, entries)
	return ""
}
