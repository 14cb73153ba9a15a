package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
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
	began := time.Now()
	s := newStack(t, stackOptions{Accounts: 10, Agent: true})
	nora, admin := s.token("nora@"), s.token("admin@")
	ctx, runIn, shot, link, server := s.ctx, s.runIn, s.shot, s.link, s.server
	globe := func(state string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`outpost-offline .sync-button[data-state="` + state + `"]`))
	}

	s.signIn(nora)
	runIn(ctx, "open the canvas app", chromedp.WaitVisible(chromedp.Search(`//button[contains(., "Field Inspections")]`)),
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
	// A required text column refuses an empty or blank text, naming it.
	for _, blank := range []string{"", "   "} {
		if got := eval[string](t, frame, `Outpost.Tables.update('workorder', '`+rowID+`', {name: '`+blank+`'}).then(() => 'saved', e => e.status + ' ' + e.code + ' ' + e.target + ': ' + e.message)`); !strings.HasPrefix(got, `400 invalid name: column "name" of table "workorder" is required`) {
			t.Fatalf("a blank name through the host API: %s", got)
		}
	}
	runIn(frame, "inspection", chromedp.Click(chromedp.CSS(`input[value="Failed"]`)), fill(`#notes`, "Compressor rattles"),
		chromedp.Click(chromedp.CSS(`#done`)), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	runIn(frame, "inspection result",
		chromedp.WaitVisible(chromedp.Search(`//p[@id="message" and contains(., "Inspection recorded on this device")]`)),
		globe("NotConnectedPendingUpsync"))
	// A site photo taken offline (the input opens the camera on a phone)
	// goes into the work order's image column through Outpost.Files; the
	// app shows it from the device and reads back its very bytes.
	photo := photoFile(t, s.tmp)
	// The app places the Offline template's <outpost-file> field.
	runIn(frame, "photo offline", chromedp.WaitReady(chromedp.CSS(`outpost-file input[type="file"][accept="image/*"][capture]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`outpost-file input[type="file"]`), []string{photo.path}),
		chromedp.WaitVisible(chromedp.Search(`//outpost-file/p[@role="status" and contains(., "Photo stored on this device; it uploads when the connection returns")]`)),
		chromedp.WaitVisible(chromedp.CSS(`outpost-file img[src^="blob:"]`)), poll(`document.querySelector('outpost-file img').naturalWidth === 64`, 5*time.Second),
		chromedp.WaitVisible(chromedp.Search(`//outpost-file/label[.="Replace photo"]`)), chromedp.WaitVisible(chromedp.Search(`//outpost-file/button[.="Remove photo"]`)))
	readPhoto := `Outpost.Files.get('workorder', '` + rowID + `', 'photo').then(async f => f.name + ' ' + f.type + ' ' + f.size + ' ' +
		btoa(String.fromCharCode(...new Uint8Array(await f.blob.arrayBuffer()))))`
	if got, want := eval[string](t, frame, readPhoto), "site-photo.png image/png "+fmt.Sprint(len(photo.content))+" "+base64.StdEncoding.EncodeToString(photo.content); got != want {
		t.Fatalf("the photo read back through the host API: %.80s…, want %.80s…", got, want)
	}
	// The same checks as a form's image field: an image column takes
	// images of at most 10 MiB, and only file and image columns take files.
	refusals := map[string]string{
		`Outpost.Files.put('workorder', '` + rowID + `', 'photo', new Blob(['notes'], {type: 'text/plain'}), 'notes.txt')`:                   "400 invalid photo: Photo takes images",
		`Outpost.Files.put('workorder', '` + rowID + `', 'photo', new Blob(['these are notes'], {type: 'image/png'}), 'notes.png')`:          "400 invalid content: image column \"photo\"",
		`Outpost.Files.put('workorder', '` + rowID + `', 'photo', new Blob([new Uint8Array((10 << 20) + 1)], {type: 'image/png'}), 'x.png')`: "413 too_large photo: Photo takes files of at most 10.0 MiB",
		`Outpost.Files.put('workorder', '` + rowID + `', 'photo', 'not a blob')`:                                                             "400 invalid file: give the file",
		`Outpost.Files.get('workorder', '` + rowID + `', 'name')`:                                                                            "400 invalid column: \"name\" is not a file or image column",
	}
	for call, want := range refusals {
		if got := eval[string](t, frame, call+`.then(() => 'stored', e => e.status + ' ' + e.code + ' ' + e.target + ': ' + e.message)`); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s, want %s…", call, got, want)
		}
	}
	runIn(ctx, "screenshot", shot("canvas-offline"))

	// The globe opens Device status, which counts the two changes (the
	// inspection and the photo).
	runIn(frame, "globe", chromedp.Click(chromedp.CSS(`outpost-offline .sync-button`)))
	runIn(ctx, "status", chromedp.WaitVisible(chromedp.CSS(`.status-page`)),
		poll(`document.querySelector('[data-testid="pending-count"]').textContent === '2'`, 5*time.Second))

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
	// The server holds the photo's very bytes (its files API).
	if got := serverBytes(t, server+"/api/files/workorder("+rowID+")/photo", admin); !bytes.Equal(got, photo.content) {
		t.Fatalf("the server's photo has %d bytes, not the %d taken in the canvas app", len(got), len(photo.content))
	}
	runIn(ctx, "screenshot", shot("canvas"))
	t.Logf("canvas browser test took %v", time.Since(began).Round(time.Millisecond))
}
