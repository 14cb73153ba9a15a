package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// canvasFrame returns a context that runs actions inside the canvas app's
// frame. The frame is sandboxed without same-origin, so Chrome may run it
// as a target of its own; the context attaches to it.
func canvasFrame(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.Contains(info.URL, "/canvas/") {
				fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				return fctx
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no target for the canvas app's frame")
	return nil
}

// TestCanvasOffline runs the demo's canvas app "Field Inspections" in the
// player: its bundle downloaded with the app, in a sandboxed frame that
// reads and writes the device's store only through the host API; the
// Offline template's globe follows Connection.Sync and opens Device
// status; an inspection recorded while the link to the server is cut
// uploads when it returns.
func TestCanvasOffline(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is required (apt-get install -y chromium; .ci/run installs it)")
	}
	began := time.Now()
	tmp := t.TempDir()
	bin := buildBinary(t, tmp)
	shots := screenshotDir(t)

	m, demoOut := start(t, bin, regexp.MustCompile(`serving at (http://\S+)[\s\S]*Press Ctrl\+C`), "demo", "--data", filepath.Join(tmp, "demo"), "--addr", "127.0.0.1:0", "--accounts", "10")
	server := m[1]
	token := func(user string) string {
		mm := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(user) + `\S*\s.*\s(opt_\S+)$`).FindStringSubmatch(demoOut.String())
		if mm == nil {
			t.Fatalf("no token for %s in:\n%s", user, demoOut.String())
		}
		return mm[1]
	}
	nora, admin := token("nora@"), token("admin@")
	serverCall(t, "PUT", server+"/api/sync/v1/settings", admin, map[string]bool{"conflictDetection": false})

	link := newLinkProxy(t, strings.TrimPrefix(server, "http://"))
	m, _ = start(t, bin, regexp.MustCompile(`(http://127\.0\.0\.1:\d+/\?key=\S+)`), "device", "--home", filepath.Join(tmp, "device"), "serve", "--addr", "127.0.0.1:0", "--retry", "500ms")
	playerURL := m[1]

	ctx, cancel := browser(t, tmp)
	defer cancel()
	runIn := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
		}
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	globe := func(s string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`outpost-offline .sync-button[data-state="` + s + `"]`))
	}

	runIn(ctx, "sign in and open the canvas app", chromedp.Navigate(playerURL), chromedp.WaitVisible(chromedp.CSS(`input[name="server"]`)),
		chromedp.Click(chromedp.CSS(`[role="tab"]:nth-child(2)`)),
		fill(`input[name="server"]`, link.url()),
		fill(`input[name="token"]`, nora), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[contains(., "Field Inspections")]`)),
		chromedp.Click(chromedp.Search(`//button[contains(., "Field Inspections")]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe.canvas-frame[sandbox="allow-scripts allow-forms"]`)))
	frame := canvasFrame(t, ctx)

	// The app lists the device's work orders through the host API; the
	// player inserted the Offline template (the app's offline switch is on).
	runIn(frame, "list", chromedp.WaitVisible(chromedp.CSS(`#orders li button`)), globe("Connected"))
	if on := eval[bool](t, frame, `Outpost.Host.OfflineEnabled`); !on {
		t.Fatal("Host.OfflineEnabled is false for an offline canvas app")
	}
	// The frame has an opaque origin: the agent's API is out of its reach,
	// with or without the session cookie.
	if got := eval[string](t, frame, `fetch('/api/session').then(r => 'reached: ' + r.status, e => 'blocked')`); got != "blocked" {
		t.Fatalf("the canvas frame fetched the local API: %s", got)
	}
	if got := eval[string](t, frame, `String(window.origin)`); got != "null" {
		t.Fatalf("the canvas frame's origin is %q, want null (opaque)", got)
	}
	// Tables outside the app are refused.
	if got := eval[string](t, frame, `Outpost.Tables.list('task').then(() => 'listed', e => e.target + ': ' + e.message)`); !strings.HasPrefix(got, `table: table "task" is not in this app`) {
		t.Fatalf("listing a table outside the app: %s", got)
	}

	// The link to the server goes; the change events reach the app.
	link.cut()
	runIn(frame, "record offline", chromedp.Click(chromedp.CSS(`#orders li:first-child button`)),
		chromedp.WaitVisible(chromedp.CSS(`#inspection`)))
	rowID := eval[string](t, frame, `Outpost.Tables.list('workorder', {orderby: 'scheduledstart', top: 1}).then(p => p.rows[0].workorderid)`)
	// Writes get the device library's checks, as forms do: a choice
	// column takes only its options.
	if got := eval[string](t, frame, `Outpost.Tables.update('workorder', '`+rowID+`', {priority: 7}).then(() => 'saved', e => e.status + ' ' + e.code + ' ' + e.target)`); got != "400 invalid priority" {
		t.Fatalf("a value outside a choice's options through the host API: %s", got)
	}
	runIn(frame, "inspection", chromedp.Click(chromedp.CSS(`input[value="Failed"]`)), fill(`#notes`, "Compressor rattles"),
		chromedp.Click(chromedp.CSS(`#done`)), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	runIn(frame, "inspection result",
		chromedp.WaitVisible(chromedp.Search(`//p[@id="message" and contains(., "Inspection recorded on this device")]`)),
		globe("NotConnectedPendingUpsync"))
	runIn(ctx, "screenshot", shot("canvas-offline"))

	// The globe opens Device status, which counts the one change.
	runIn(frame, "globe", chromedp.Click(chromedp.CSS(`outpost-offline .sync-button`)))
	runIn(ctx, "status", chromedp.WaitVisible(chromedp.CSS(`.status-page`)),
		poll(`document.querySelector('[data-testid="pending-count"]').textContent === '1'`, 5*time.Second))

	// Back in the app, the link returns: the change uploads and the app
	// hears Connection.Sync change to Connected.
	runIn(ctx, "back to the app", chromedp.Click(chromedp.CSS(`a.brand`)), chromedp.WaitVisible(chromedp.CSS(`iframe.canvas-frame`)))
	frame = canvasFrame(t, ctx)
	runIn(frame, "reopened", chromedp.WaitVisible(chromedp.CSS(`#orders li button`)), globe("NotConnectedPendingUpsync"),
		script(`(() => { window.heard = []; Outpost.Connection.onChange(s => heard.push(s)); return true })()`))
	link.restore()
	runIn(frame, "upload", globe("Connected"), poll(`heard.includes('Connected') && Outpost.Connection.Sync === 'Connected'`, 5*time.Second))
	var wo struct {
		Description string `json:"description"`
		Completed   bool   `json:"completed"`
	}
	serverGet(t, server+"/api/data/workorder("+rowID+")?$select=description,completed", admin, &wo)
	if !strings.Contains(wo.Description, ": Failed — Compressor rattles") || !wo.Completed {
		t.Fatalf("the server's work order after upload: %+v", wo)
	}
	runIn(ctx, "screenshot", shot("canvas"))
	t.Logf("canvas browser test took %v", time.Since(began).Round(time.Millisecond))
}
