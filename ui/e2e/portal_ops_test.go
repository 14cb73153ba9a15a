package e2e

import (
	"archive/zip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPortalSolutions is the administrator's day in the portal beyond
// making: a solution gets the demo's app, Add required objects adds its
// profile and tables and says why, Export downloads the archive, and a
// second, empty server imports it through its own portal, showing what it
// created and that the profile still needs publishing. A technician's
// upload that the server rejects is found on Sync errors filtered by user
// and table, opened (action data, request data, the row) and resolved; the
// device shows on Devices with its last sync, is revoked there, and its
// next sync is refused. A maker who is not an administrator is refused
// Sync errors and Devices as the API refuses them. At 1280×800 and 820×1180
// every control is labelled and nothing scrolls sideways.
func TestPortalSolutions(t *testing.T) {
	began := time.Now()
	s := newStack(t, stackOptions{Accounts: 3, Width: 1280, Height: 800, Conflicts: true})
	tmp, bin := s.tmp, s.bin
	demo := &demoServer{url: s.server, out: s.demo.output()}
	_, _, admin := demo.account(t, "admin@")
	_, _, maker := demo.account(t, "maker@")
	noraLogin, noraPassword, nora := demo.account(t, "nora@")
	fieldService := demo.appID(t, "Field Service")
	p := newPortalPage(t, s)
	desktop := chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1))
	tablet := chromedp.EmulateViewport(820, 1180, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait)

	// A technician gets the refusal page; a maker who is not an
	// administrator gets the API's refusal on Sync errors and Devices.
	p.run("viewport", desktop)
	p.signIn(demo.url, nora)
	p.run("technician refused", visible(`.refusal`))
	p.signIn(demo.url, maker)
	p.open("sync-errors", `.refusal`)
	if s := p.text(`.refusal .notice`); !strings.Contains(s, "only administrators may list other users' sync errors") {
		t.Errorf("a maker's Sync errors page says %q, not the API's refusal", s)
	}
	p.open("devices", `.refusal`)
	if s := p.text(`.refusal .notice`); !strings.Contains(s, "only administrators may list every device") {
		t.Errorf("a maker's Devices page says %q, not the API's refusal", s)
	}

	// Solutions: create one, add the demo's app, Add required objects.
	p.signIn(demo.url, admin)
	p.open("solutions", `#ns-uniqueName`)
	p.labelled("solutions")
	p.run("bad unique name", fill(`#ns-uniqueName`, "Field Kit"), click(`form[aria-label="New solution"] button[type="submit"]`),
		visible(`#ns-error`), contains(`#ns-error`, "is not valid"))
	if inv := eval[string](t, p.ctx, `document.querySelector('#ns-uniqueName').getAttribute('aria-invalid')`); inv != "true" {
		t.Errorf("the unique name's error is not at the field (aria-invalid %q)", inv)
	}
	p.run("create solution", fill(`#ns-uniqueName`, "fieldkit"), fill(`#ns-name`, "Field kit"), click(`form[aria-label="New solution"] button[type="submit"]`),
		visible(`#ac-kind`), contains(`h1`, "Field kit"))
	p.run("add the app", poll(`[...document.querySelectorAll('#ac-id option')].some(o => o.value === '`+fieldService+`')`, 10*time.Second),
		selectValue(`#ac-id`, fieldService), click(`form[aria-label="Add component"] button[type="submit"]`),
		visible(`table.components tr[data-id="`+fieldService+`"]`))
	// With the keyboard: from Add component, Tab reaches Add required objects.
	p.run("add required objects", script(`(document.querySelector('form[aria-label="Add component"] button').focus(), true)`),
		chromedp.KeyEvent("\t"), poll(`document.activeElement?.classList.contains('add-required')`, 5*time.Second),
		chromedp.KeyEvent("\r"), visible(`.required-result li`))
	added := eval[[]string](t, p.ctx, `[...document.querySelectorAll('.required-result li')].map(li => li.textContent)`)
	want := []string{`Offline profile Field Technician: the offline profile of app "Field Service"`, `Table Work Order (workorder): app "Field Service" uses the table`}
	for _, w := range want {
		found := false
		for _, a := range added {
			found = found || a == w
		}
		if !found {
			t.Errorf("Add required objects shows %q; want a line %q", added, w)
		}
	}
	if n := eval[int](t, p.ctx, `document.querySelectorAll('table.components tbody tr').length`); n != 1+len(added) {
		t.Errorf("the solution lists %d components after adding %d required to the app", n, len(added))
	}
	p.labelled("solution")
	p.run("solution shot", script(`(document.activeElement.blur(), true)`), p.shot("portal-solutions"))
	p.run("export", click(`button.export`), contains(`.banner[role="status"]`, "Downloaded fieldkit.zip"))
	archive := p.download("fieldkit.zip")
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatalf("the downloaded archive: %v", err)
	}
	if len(zr.File) == 0 || zr.File[0].Name != "manifest.json" {
		t.Errorf("the archive holds %v, want manifest.json", zr.File)
	}
	zr.Close()

	// A second, empty server imports the archive through its portal.
	second, ada := startEmptyServer(t, bin, tmp)
	p.signIn(second, ada)
	p.open("solutions", `#import-file`)
	p.run("import", chromedp.SetUploadFiles(chromedp.CSS(`#import-file`), []string{archive}),
		click(`form[aria-label="Import a solution"] button[type="submit"]`), visible(`.import-result`))
	created := eval[[]string](t, p.ctx, `[...document.querySelectorAll('.import-result ul.created li')].map(li => li.textContent)`)
	for _, w := range []string{"table workorder", "solution fieldkit", "profile Field Technician", "modeldriven app Field Service"} {
		if !strings.Contains(strings.Join(created, "\n"), w) {
			t.Errorf("the import shows created %q; want %q among them", created, w)
		}
	}
	if s := p.text(`.next-steps`); !strings.Contains(s, `profile "Field Technician" was imported as a draft: validate and publish it`) {
		t.Errorf("the import's republish prompt reads %q", s)
	}
	p.run("import shot", p.shot("portal-solutions-import"))
	var sols struct {
		Value []struct {
			UniqueName string `json:"uniqueName"`
		} `json:"value"`
	}
	serverGet(t, second+"/api/offline/solutions", ada, &sols)
	if len(sols.Value) != 1 || sols.Value[0].UniqueName != "fieldkit" {
		t.Errorf("the second server's solutions after the import: %+v", sols)
	}
	p.run("bad archive", chromedp.SetUploadFiles(chromedp.CSS(`#import-file`), []string{bin}),
		click(`form[aria-label="Import a solution"] button[type="submit"]`), visible(`#import-error`))

	// A Sync Error: Nora's device changes a work order the office changed
	// meanwhile, with conflict detection on.
	wo := regexp.MustCompile(`export WO=(\S+)`).FindStringSubmatch(demo.out)[1]
	serverCall(t, "PUT", demo.url+"/api/sync/v1/settings", admin, map[string]bool{"conflictDetection": true})
	dev := deviceCLI{bin: bin, home: filepath.Join(tmp, "device")}
	dev.must(t, noraPassword+"\n", "login", "--server", demo.url, "--user", noraLogin)
	dev.must(t, "", "open", fieldService)
	dev.must(t, "", "sync")
	dev.must(t, "", "update", "workorder", wo, "description=Replaced on site")
	serverCall(t, "PATCH", demo.url+"/api/data/workorder("+wo+")", admin, map[string]any{"description": "Changed in the office"})
	if out := dev.must(t, "", "sync"); !strings.Contains(out, "1 rejected") {
		t.Fatalf("the device's sync did not reject the change:\n%s", out)
	}

	p.signIn(demo.url, admin)
	p.open("sync-errors", `#se-user`)
	p.run("users", poll(`[...document.querySelectorAll('#se-user option')].some(o => o.textContent.includes('nora@'))`, 10*time.Second))
	noraID := eval[string](t, p.ctx, `[...document.querySelectorAll('#se-user option')].find(o => o.textContent.includes('nora@')).value`)
	p.run("filter by user", selectValue(`#se-user`, noraID), selectValue(`#se-table`, "workorder"),
		poll(`document.querySelectorAll('table.sync-errors tbody tr').length === 1`, 10*time.Second))
	p.labelled("sync errors")
	if s := p.text(`table.sync-errors tbody tr`); !strings.Contains(s, "changed on the server") || !strings.Contains(s, "Conflict") || !strings.Contains(s, "nora@") {
		t.Errorf("the sync error row reads %q", s)
	}
	p.run("another user", selectValue(`#se-user`, eval[string](t, p.ctx, `[...document.querySelectorAll('#se-user option')].find(o => o.textContent.includes('ned@')).value`)),
		visible(`p.empty`), selectValue(`#se-user`, noraID), visible(`table.sync-errors tbody tr`))
	p.run("detail", click(`table.sync-errors .open-error`), visible(`.error-detail .regarding-row`),
		contains(`.error-detail .action-data`, "Replaced on site"), contains(`.error-detail .request-data`, "deviceId"),
		contains(`.error-detail .regarding-row`, "Changed in the office"), p.shot("portal-sync-errors"))
	p.labelled("sync error detail")

	// Devices, before the error is resolved: the last sync rejected a change.
	p.open("devices", `table.devices tbody tr`)
	if s := p.text(`table.devices tbody tr`); !strings.Contains(s, "nora@") || !strings.Contains(s, "Changes rejected") {
		t.Errorf("the device row reads %q", s)
	}
	// The per-sync telemetry: the last sync's kind and outcome, and the
	// device's recent syncs.
	if s := p.text(`table.devices tbody tr td.last-telemetry`); !strings.Contains(s, "Upload") && !strings.Contains(s, "Delta") && !strings.Contains(s, "First sync") ||
		!strings.Contains(s, "OK") && !strings.Contains(s, "Error") {
		t.Errorf("the devices page shows no last sync kind and outcome for Nora's device: %q", s)
	}
	p.run("recent syncs", click(`table.devices button.recent-syncs-toggle`), visible(`table.recent-syncs tbody tr`))
	if s := p.text(`table.recent-syncs tbody`); !strings.Contains(s, "First sync") {
		t.Errorf("Nora's device's recent syncs show no first sync: %q", s)
	}
	p.run("hide recent syncs", click(`table.devices button.recent-syncs-toggle`))
	if n := p.text(`table.devices tbody tr td.errors`); n != "1" {
		t.Errorf("the device shows %q active sync errors, want 1", n)
	}
	p.labelled("devices")
	p.run("devices shot", p.shot("portal-devices"))

	// Resolve on Sync errors; the API agrees.
	p.open("sync-errors", `#se-user`)
	p.run("resolve", selectValue(`#se-user`, noraID), visible(`table.sync-errors tbody tr`), click(`table.sync-errors .open-error`),
		// The row it regards loads after the detail opens and moves the
		// buttons below it down: click once it is there.
		visible(`.error-detail pre.regarding-row`), visible(`.error-detail button.resolve`), click(`.error-detail button.resolve`), contains(`.error-detail .state`, "Resolved"))
	var list struct {
		Errors []struct {
			State int `json:"statecode"`
		} `json:"errors"`
	}
	serverGet(t, demo.url+"/api/sync/v1/errors?user="+noraID+"&table=workorder", admin, &list)
	if len(list.Errors) != 1 || list.Errors[0].State != 1 {
		t.Errorf("after Resolve the API lists %+v", list.Errors)
	}

	// Tablet: one column, nothing sideways, every control labelled.
	p.run("tablet", tablet)
	for _, pg := range []struct{ route, sel string }{{"solutions/fieldkit", `table.components`}, {"sync-errors", `#se-state`}, {"devices", `table.devices`}} {
		p.open(pg.route, pg.sel)
		if pg.route == "sync-errors" {
			p.run("tablet detail", selectValue(`#se-state`, ""), visible(`table.sync-errors .open-error`), click(`table.sync-errors .open-error`), visible(`.error-detail`))
		}
		p.fits(pg.route)
		p.labelled(pg.route + " (tablet)")
		p.run("tablet shot", script(`(scrollTo(0, 0), true)`), p.shot("portal-"+strings.SplitN(pg.route, "/", 2)[0]+"-tablet"))
	}
	p.run("desktop", desktop)

	// Revoke the device; its next sync is refused.
	p.open("devices", `table.devices button.revoke`)
	p.run("revoke", click(`table.devices button.revoke`), visible(`[role="alertdialog"]`),
		poll(`document.activeElement?.classList.contains('confirm-revoke')`, 5*time.Second), chromedp.KeyEvent("\r"),
		contains(`.banner[role="status"]`, "Revoked"), visible(`p.empty`))
	p.run("show revoked", click(`input[name="revoked"]`), visible(`table.devices .warn-badge`))
	if out, err := dev.run("", "sync"); err == nil || !strings.Contains(strings.ToLower(out), "revoked") {
		t.Errorf("the revoked device's sync: %v\n%s", err, out)
	}
	t.Logf("portal solutions, sync errors and devices took %v; screenshots in %s", time.Since(began).Round(time.Millisecond), p.shots)
}
