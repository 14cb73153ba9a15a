package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// portalSession is the shared setup of the portal's browser tests: the
// stack's demo server (conflict detection as the demo starts it), Chromium
// at 1280×800, and the steps every page needs (run with the page's text on
// failure, waiting for text, the every-control-has-a-label check).
type portalSession struct {
	*stack
	demoOut string
}

// newPortalSession builds the binary, starts the demo with accounts per
// technician and a browser; everything stops when the test ends.
func newPortalSession(t *testing.T, accounts int) *portalSession {
	t.Helper()
	s := newStack(t, stackOptions{Accounts: accounts, Width: 1280, Height: 800, Conflicts: true})
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1))); err != nil {
		t.Fatal(err)
	}
	return &portalSession{stack: s, demoOut: s.demo.output()}
}

// signInAsMaker opens the portal and signs in with the demo maker's
// password, unless the maker's session is still open.
func (p *portalSession) signInAsMaker() {
	p.t.Helper()
	pw := regexp.MustCompile(`(?m)^\s+(maker@\S+)\s.*?\s(\S+)\s+opt_\S+$`).FindStringSubmatch(p.demoOut)
	if pw == nil {
		p.t.Fatalf("no password for the maker in:\n%s", p.demoOut)
	}
	p.run("open the portal", chromedp.Navigate(p.server+"/portal/"), poll(`!!document.querySelector('.navbar, #username')`, 10*time.Second))
	if eval[bool](p.t, p.ctx, `!!document.querySelector('.navbar')`) {
		return // the session is still open
	}
	p.run("maker signs in", fill(`#username`, pw[1]), fill(`#password`, pw[2]), p.click(`.signin button[type="submit"]`), p.visible(`.navbar`))
}

// run does steps within 30 s, failing with the page's text.
func (p *portalSession) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.runIn(p.ctx, what, steps...)
}

func (p *portalSession) runIn(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

func (p *portalSession) click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

func (p *portalSession) visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// contains waits until the element's text contains want.
func (p *portalSession) contains(sel, want string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	wb, _ := json.Marshal(want)
	return poll(`(document.querySelector(`+string(sb)+`)?.textContent ?? '').includes(`+string(wb)+`)`, 10*time.Second)
}

// labelled fails when a visible control has no label a screen reader can announce.
func (p *portalSession) labelled(page string) {
	p.t.Helper()
	missing := eval[string](p.t, p.ctx, `[...document.querySelectorAll('input, select, textarea, button')]
		.filter(el => el.offsetParent !== null)
		.filter(el => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
		.map(el => el.outerHTML.slice(0, 80)).join('\n')`)
	if missing != "" {
		p.t.Errorf("%s: controls without a label:\n%s", page, missing)
	}
}
