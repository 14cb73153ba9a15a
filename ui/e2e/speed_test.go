package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPlayerSpeed measures (and prints; timings are never asserted) how
// fast the player shows a view over the local store: the first screen and
// quick searches, which must find what they look for. CI runs it on the
// small demo; OUTPOST_PLAYER_SPEED=10000 seeds 10,000 accounts per
// technician (100,000 work orders for Nora) for the figures in
// docs/benchmarks.md.
func TestPlayerSpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OUTPOST_PLAYER_SPEED"))
	if n <= 0 {
		n = 20
	}
	s := newStack(t, stackOptions{Accounts: n, Agent: true})
	// The player signs in to the server directly, not through the link
	// proxy: its delays have no place in a measurement.
	server, nora, base, ctx := s.server, s.token("nora@"), s.base, s.ctx
	must := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	began := time.Now()
	must("sign in", chromedp.Navigate(s.playerURL), chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)),
		fill(`input[name="server"]`, server), fill(`input[name="token"]`, nora), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.Click(chromedp.Search(`//button[contains(., "Field Service")]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)))
	t.Logf("sign-in, first sync and first screen (%s): %v", eval[string](t, ctx, `document.querySelector(".pager span").textContent`), time.Since(began).Round(time.Millisecond))
	total := eval[float64](t, ctx, `fetch('/api/status').then(r => r.json()).then(s => s.tables.reduce((n, t) => n + t.rows, 0))`)
	// The first screen: from the route change to the rows on screen.
	for i := 0; i < 3; i++ {
		must("away", chromedp.Navigate(base+"/#/status"), chromedp.WaitVisible(chromedp.CSS(`.status-page`)))
		ms := eval[float64](t, ctx, `new Promise(done => { const t0 = performance.now(); location.hash = '#/view/Open%20work%20orders';
			const check = () => document.querySelector('table.rows tbody tr') ? requestAnimationFrame(() => done(performance.now() - t0)) : requestAnimationFrame(check); check(); })`)
		t.Logf("view first screen over %.0f local rows: %.0f ms", total, ms)
	}
	// Quick search: the agent's answer, and the screen (with the list's 150 ms typing pause).
	for _, q := range []string{"WO-0001", "filter", "zzz-absent"} {
		api := eval[float64](t, ctx, `(async () => { const t0 = performance.now(); await fetch('/api/tables/workorder/rows?view=Open%20work%20orders&top=50&search=`+q+`').then(r => r.json()); return performance.now() - t0 })()`)
		screen := eval[float64](t, ctx, `new Promise(done => { const before = document.querySelector('.pager span').textContent; const el = document.querySelector('input.search');
			const t0 = performance.now(); el.value = '`+q+`'; el.dispatchEvent(new Event('input', {bubbles: true}));
			const check = () => document.querySelector('.pager span').textContent !== before ? done(performance.now() - t0) : requestAnimationFrame(check); check(); })`)
		pager := eval[string](t, ctx, `document.querySelector('.pager span').textContent`)
		t.Logf("search %q: agent answers in %.0f ms; the screen shows it after %.0f ms (150 ms of it is the typing pause); the pager reads %q", q, api, screen, pager)
		rows := eval[float64](t, ctx, `document.querySelectorAll('table.rows tbody tr').length`)
		if found := rows > 0; found != (q != "zzz-absent") {
			t.Errorf("search %q shows %v rows", q, rows)
		}
		must("clear", fill(`input.search`, ""), chromedp.Sleep(300*time.Millisecond))
	}
}
