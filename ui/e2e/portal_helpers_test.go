package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// portalEnv is a portal browser test's setting: the stack's demo server
// (conflict detection as the demo starts it), the users it printed, and
// Chromium at 1280×800.
type portalEnv struct {
	*stack
	out string // what the demo printed: users, passwords, tokens
}

// startPortal builds the binary, starts the demo and a headless Chromium.
func startPortal(t *testing.T) *portalEnv {
	t.Helper()
	s := newStack(t, stackOptions{Accounts: 5, Width: 1280, Height: 800, Conflicts: true})
	return &portalEnv{stack: s, out: s.demo.output()}
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
