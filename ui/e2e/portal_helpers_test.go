package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// portalEnv is a portal browser test's setting: `outpost demo` served on
// a free port, the users it printed, and Chromium at 1280×800.
type portalEnv struct {
	t      *testing.T
	ctx    context.Context
	server string // the demo's base URL
	out    string // what the demo printed: users, passwords, tokens
	shots  string // where screenshots go
	bin    string // the outpost binary the demo runs
	tmp    string // the test's directory (device homes go here)
}

// startPortal builds the binary, starts the demo and a headless Chromium.
func startPortal(t *testing.T) *portalEnv {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is required (apt-get install -y chromium; .ci/run installs it)")
	}
	tmp := t.TempDir()
	bin := buildBinary(t, tmp)
	m, out := start(t, bin, regexp.MustCompile(`serving at (http://\S+)[\s\S]*Press Ctrl\+C`), "demo", "--data", filepath.Join(tmp, "demo"), "--addr", "127.0.0.1:0", "--accounts", "5")
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(tmp, "chromium")), chromedp.WindowSize(1280, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelT(); cancel(); cancelA() })
	return &portalEnv{t: t, ctx: ctx, server: m[1], out: out.String(), shots: screenshotDir(t), bin: bin, tmp: tmp}
}

// token is the API token the demo printed for a user (by login prefix).
func (p *portalEnv) token(user string) string {
	p.t.Helper()
	mm := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(user) + `\S*\s.*\s(opt_\S+)$`).FindStringSubmatch(p.out)
	if mm == nil {
		p.t.Fatalf("no token for %s in:\n%s", user, p.out)
	}
	return mm[1]
}

// login is a user's full login name and the password the demo printed.
func (p *portalEnv) login(user string) (name, password string) {
	p.t.Helper()
	mm := regexp.MustCompile(`(?m)^\s+(` + regexp.QuoteMeta(user) + `\S*)\s.*?\s(\S+)\s+opt_\S+$`).FindStringSubmatch(p.out)
	if mm == nil {
		p.t.Fatalf("no password for %s in:\n%s", user, p.out)
	}
	return mm[1], mm[2]
}

// run does the steps within 20 s, or fails with the page's text.
func (p *portalEnv) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

// shot saves a screenshot as name.png.
func (p *portalEnv) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(p.shots, name+".png"), buf, 0o644)
	})
}

// text is the text of the first element sel matches.
func (p *portalEnv) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// labelled fails when a visible control has no label a screen reader can announce.
func (p *portalEnv) labelled(page string) {
	p.t.Helper()
	missing := eval[string](p.t, p.ctx, `[...document.querySelectorAll('input, select, textarea, button')]
		.filter(el => el.offsetParent !== null)
		.filter(el => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
		.map(el => el.outerHTML.slice(0, 80)).join('\n')`)
	if missing != "" {
		p.t.Errorf("%s: controls without a label:\n%s", page, missing)
	}
}

// noSideways fails when the page scrolls sideways.
func (p *portalEnv) noSideways(page string) {
	p.t.Helper()
	if eval[bool](p.t, p.ctx, `document.documentElement.scrollWidth > innerWidth`) {
		p.t.Errorf("%s scrolls sideways at %d px", page, eval[int](p.t, p.ctx, `innerWidth`))
	}
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// contains waits until the first element sel matches contains want.
func contains(sel, want string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	wb, _ := json.Marshal(want)
	return poll(`(document.querySelector(`+string(sb)+`)?.textContent ?? '').includes(`+string(wb)+`)`, 10*time.Second)
}
