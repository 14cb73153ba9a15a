package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPlayerOffline is the field worker's day in the browser: sign in,
// first sync with progress, a view and a form; the link to the server is
// cut; a row edited and one created offline; the icon and Device status
// show them pending; the link comes back and they upload; then two
// offline edits that the server refuses (conflict detection on) appear in
// Sync Errors, and retry and discard resolve them. Desktop and phone.
func TestPlayerOffline(t *testing.T) {
	began := time.Now()
	s := newStack(t, stackOptions{Accounts: 30, Agent: true})
	nora, admin := s.token("nora@"), s.token("admin@")
	run, shot, text, state, link, server, ctx := s.run, s.shot, s.text, syncState, s.link, s.server, s.ctx

	// Sign in (through the proxy) and pick the app.
	run("sign in", chromedp.Navigate(s.playerURL), chromedp.WaitVisible(chromedp.CSS(`input[name="server"]`)),
		chromedp.Click(chromedp.CSS(`[role="tab"]:nth-child(1)`)), shot("signin"),
		chromedp.Click(chromedp.CSS(`[role="tab"]:nth-child(2)`)),
		fill(`input[name="server"]`, link.url()),
		fill(`input[name="token"]`, nora), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.app-card`)), shot("apps"))

	// First sync, slowed so its progress shows.
	link.slow(150 * time.Millisecond)
	// The progress is recorded as it changes, so that a first sync that
	// finishes between two polls (a busy machine) still shows it was seen.
	run("watch progress", script(`(() => { window.seenProgress = '';
		new MutationObserver(() => { const t = document.querySelector('.progress-text')?.textContent ?? '';
			if (/[1-9][0-9]* of [0-9]+ rows/.test(t)) window.seenProgress = t }).observe(document.body, {subtree: true, childList: true, characterData: true});
		return true })()`))
	run("first sync", chromedp.Click(chromedp.Search(`//button[contains(., "Field Service")]`)),
		poll(`window.seenProgress !== ''`, 30*time.Second),
		shot("first-sync"))
	link.slow(0)
	run("view", chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)), state("Connected"), shot("view"))
	if n := text(`.pager span`); !strings.Contains(n, "of") {
		t.Fatalf("pager reads %q", n)
	}

	// Quick search narrows the list.
	first := text(`table.rows tbody tr td a`)
	word := strings.Fields(first)[0] // a work order number: WO-00123
	run("search", fill(`input.search`, word),
		poll(`document.querySelectorAll('table.rows tbody tr').length === 1`, 5*time.Second),
		fill(`input.search`, ""))

	// A form; then the link to the server is cut and the row edited.
	run("form", chromedp.Click(chromedp.CSS(`table.rows tbody tr td a`)), chromedp.WaitVisible(chromedp.CSS(`#f-description`)),
		poll(`document.querySelector('#f-customerid').selectedOptions[0].textContent.endsWith('Ltd')`, 5*time.Second), shot("form"))
	rowID := eval[string](t, ctx, `decodeURIComponent(location.hash.split('/').pop())`)
	woName := eval[string](t, ctx, `document.querySelector('#f-name').value`)

	// The customer's form lists its work orders (the 1:N relationship of
	// the profile); one opens its own form.
	run("related rows", chromedp.Click(chromedp.CSS(`a.open-lookup`)), chromedp.WaitVisible(chromedp.CSS(`section.related .related-rows li a`)),
		poll(`[...document.querySelectorAll('section.related .related-rows li a')].some(a => a.textContent === `+strconv.Quote(woName)+`)`, 5*time.Second),
		chromedp.ScrollIntoView(chromedp.CSS(`section.related`)), shot("form-related"),
		chromedp.Click(chromedp.Search(`//section[contains(@class,"related")]//a[.=`+strconv.Quote(woName)+`]`)),
		poll(`decodeURIComponent(location.hash.split('/').pop()) === `+strconv.Quote(rowID)+` && document.querySelector('#f-name') && document.querySelector('#f-name').value === `+strconv.Quote(woName), 5*time.Second))
	link.cut()
	run("edit offline", fill(`#f-description`, "Filter replaced offline"),
		chromedp.Click(chromedp.Search(`//button[.="Save"]`)), chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Saved on this device")]`)))
	// A photo taken offline (on a phone the input opens the camera) is on
	// the form at once, from the device's store.
	photo := photoFile(t, s.tmp)
	run("photo offline", chromedp.ScrollIntoView(chromedp.CSS(`.type-image`)),
		chromedp.WaitVisible(chromedp.CSS(`input#f-photo[type="file"][accept="image/*"][capture]`), chromedp.NodeReady),
		chromedp.SetUploadFiles(chromedp.CSS(`#f-photo`), []string{photo.path}),
		poll(`(() => { const img = document.querySelector('.type-image img.file-preview'); return !!img && img.complete && img.naturalWidth === 64 })()`, 10*time.Second),
		shot("form-photo"))
	// A file that is no image is refused at the field, with the reason.
	run("not a photo", chromedp.SetUploadFiles(chromedp.CSS(`#f-photo`), []string{notAnImage(t, s.tmp)}),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"type-image")]//p[@role="alert" and contains(., "PNG, JPEG")]`)))
	run("create offline", chromedp.Navigate(s.page("#/form/workorder/new")), chromedp.WaitVisible(chromedp.CSS(`#f-name`)),
		fill(`#f-name`, "Call back about the noise"),
		poll(`document.querySelectorAll('#f-customerid option').length > 2`, 5*time.Second),
		script(`(() => { const s = document.querySelector('#f-customerid'); s.value = s.options[1].value; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`),
		chromedp.Click(chromedp.Search(`//button[.="Save"]`)), chromedp.WaitVisible(chromedp.Search(`//h1[.="Call back about the noise"]`)),
		state("NotConnectedPendingUpsync"), shot("offline-pending"))
	run("status offline", chromedp.Click(chromedp.CSS(`.sync-button`)), chromedp.WaitVisible(chromedp.CSS(`.status-page`)),
		poll(`document.querySelector('[data-testid="pending-count"]').textContent === '3' && document.querySelectorAll('.pending-list li').length === 3`, 5*time.Second),
		shot("status-offline"))
	if n := text(`[data-testid="network"]`); n != "no connection to the server" {
		t.Fatalf("network reads %q offline", n)
	}

	// The link comes back: the changes upload and the icon reaches Connected.
	link.restore()
	run("upload", state("Connected"), poll(`document.querySelector('[data-testid="pending-count"]').textContent === '0'`, 10*time.Second))
	var wo struct {
		Description string `json:"description"`
	}
	serverGet(t, server+"/api/data/workorder("+rowID+")?$select=description", admin, &wo)
	if wo.Description != "Filter replaced offline" {
		t.Fatalf("the server's row after upload: %+v", wo)
	}
	// The server holds the photo's very bytes (its files API).
	if got := serverBytes(t, server+"/api/files/workorder("+rowID+")/photo", admin); !bytes.Equal(got, photo.content) {
		t.Fatalf("the server's photo has %d bytes, not the %d taken", len(got), len(photo.content))
	}

	// Conflicts: with conflict detection on, two rows edited offline that
	// the server changed meanwhile are rejected.
	serverCall(t, "PUT", server+"/api/sync/v1/settings", admin, map[string]bool{"conflictDetection": true})
	run("two rows", chromedp.Navigate(s.page("#/")), chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr:nth-child(3)`)))
	ids := eval[[]string](t, ctx, `[...document.querySelectorAll('table.rows tbody tr td a')].slice(1, 3).map(a => decodeURIComponent(a.hash.split('/').pop()))`)
	link.cut()
	for i, id := range ids {
		run("conflicting edit", chromedp.Navigate(s.page("#/form/workorder/"+id)), chromedp.WaitVisible(chromedp.CSS(`#f-description`)),
			poll(`document.querySelector('#f-description').value !== undefined`, 5*time.Second),
			fill(`#f-description`, fmt.Sprintf("device edit %d", i)),
			chromedp.Click(chromedp.Search(`//button[.="Save"]`)), chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Saved on this device")]`)))
		serverCall(t, "PATCH", server+"/api/data/workorder("+id+")", admin, map[string]any{"description": fmt.Sprintf("office edit %d", i)})
	}
	link.restore()
	run("sync errors", chromedp.Click(chromedp.CSS(`.sync-button`)), chromedp.WaitVisible(chromedp.CSS(`.status-page`)),
		poll(`document.querySelectorAll('.sync-error').length === 2`, 15*time.Second),
		state("ConnectedWithWarning"), shot("sync-errors"))
	run("retry", chromedp.Click(chromedp.CSS(`.sync-error:nth-child(1) button:nth-child(1)`)),
		poll(`document.querySelectorAll('.sync-error').length === 1`, 10*time.Second))
	retried := eval[string](t, ctx, `document.querySelector('.sync-error code').textContent`)
	run("discard", chromedp.Click(chromedp.CSS(`.sync-error:nth-child(1) button:nth-child(2)`)),
		poll(`document.querySelectorAll('.sync-error').length === 0`, 10*time.Second),
		state("Connected"), shot("status"))
	for i, id := range ids {
		serverGet(t, server+"/api/data/workorder("+id+")?$select=description", admin, &wo)
		discarded := strings.HasSuffix(id, strings.TrimPrefix(retried, "…")) // the short id of the error left
		want := fmt.Sprintf("device edit %d", i)
		if discarded {
			want = fmt.Sprintf("office edit %d", i)
		}
		if wo.Description != want {
			t.Errorf("row %s after retry/discard: %q, want %q", id, wo.Description, want)
		}
	}

	// The phone: the same screens at 360×740.
	run("phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(s.page("#/")), chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)), shot("phone-view"),
		chromedp.Click(chromedp.CSS(`table.rows tbody tr td a`)), chromedp.WaitVisible(chromedp.CSS(`#f-description`)), shot("phone-form"),
		chromedp.Click(chromedp.CSS(`.sync-button`)), chromedp.WaitVisible(chromedp.CSS(`.status-page`)), shot("phone-status"))
	t.Logf("browser test took %v; screenshots in %s", time.Since(began).Round(time.Millisecond), s.shots)
}

// photo is a PNG written for the file input.
type photo struct {
	path    string
	content []byte
}

// photoFile writes a 64×64 PNG into dir.
func photoFile(t *testing.T, dir string) photo {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "site-photo.png")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return photo{path, b.Bytes()}
}

// notAnImage writes a text file with an image's name.
func notAnImage(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(path, []byte("these are notes, not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlayerSearchPager pages through a quick search that matches more
// rows than the agent counts (its cap lowered to 20 here; 5,000 by
// default): the pager reads "of 60+", Next stays on past the count, and
// the last page has the exact total, every row of the view once.
func TestPlayerSearchPager(t *testing.T) {
	s := newStack(t, stackOptions{Accounts: 20, Agent: true, AgentArgs: []string{"--search-count-cap", "20"}})
	ctx, run := s.ctx, s.run
	s.signIn(s.token("nora@"))
	pager := `document.querySelector('.pager span').textContent`
	run("view", chromedp.Click(chromedp.Search(`//button[contains(., "Field Service")]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)), poll(pager+` !== ''`, 5*time.Second))
	all := eval[string](t, ctx, pager)
	viewTotal := all[strings.LastIndex(all, " ")+1:]
	// Every work order's name starts with "WO-".
	run("search", fill(`input.search`, "WO-"), poll(pager+` === '1–50 of 60+'`, 5*time.Second))
	seen := map[string]bool{}
	for page := 1; ; page++ {
		for _, id := range eval[[]string](t, ctx, `[...document.querySelectorAll('table.rows tbody tr td a')].map(a => a.hash)`) {
			seen[id] = true
		}
		if eval[bool](t, ctx, `document.querySelector('.pager button:last-child').disabled`) {
			break
		}
		if page > 20 {
			t.Fatalf("the search's pages go on past %d rows", len(seen))
		}
		before := eval[string](t, ctx, pager)
		run("next", chromedp.Click(chromedp.CSS(`.pager button:last-child`)), poll(pager+` !== '`+before+`'`, 5*time.Second))
		t.Logf("page %d: %s", page+1, eval[string](t, ctx, pager))
	}
	last := eval[string](t, ctx, pager)
	if strings.HasSuffix(last, "+") || !strings.HasSuffix(last, " of "+viewTotal) {
		t.Fatalf("the search's last page reads %q; the view has %s rows", last, viewTotal)
	}
	if got := fmt.Sprint(len(seen)); got != strings.ReplaceAll(viewTotal, ",", "") {
		t.Fatalf("the search's pages showed %s rows; the view has %s", got, viewTotal)
	}
}
