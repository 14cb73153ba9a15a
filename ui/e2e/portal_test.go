package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPortalMakerFlows walks the maker's flows of the seeds in the portal,
// served by `outpost demo` under /portal/: a technician (token sign-in) is
// refused; the maker signs in with a password and the keyboard, creates a custom table, adds a column
// and turns on Can be taken offline, browses rows with a $filter (and sees
// the API's error at the box); creates a profile, adds three tables with
// rules and relationships, watches the transitive relationship count, sees
// a custom filter's error at the field, validates, previews for a
// technician (the same figures the API gives) and publishes; gives an app
// that profile and publishes it; a canvas app outside every solution is
// refused Can be used offline. At 1280×800
// and at a tablet's 820×1180, every control has a label.
func TestPortalMakerFlows(t *testing.T) {
	began := time.Now()
	pe := startPortal(t)
	ctx, server, shots := pe.ctx, pe.server, pe.shots
	run, shot, text, labelled := pe.run, pe.shot, pe.text, pe.labelled
	nora, maker := pe.token("nora@"), pe.token("maker@")
	makerName, makerPassword := pe.login("maker@")

	// A technician signs in and gets the refusal page, nothing else.
	run("technician", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)), chromedp.Navigate(server+"/portal"), visible(`#username`), shot("portal-signin"),
		click(`.signin button.link`), visible(`#token`), fill(`#token`, nora), click(`button[type="submit"]`), visible(`.refusal`), shot("portal-refusal"))
	if n := eval[int](t, ctx, `document.querySelectorAll('.navbar, table').length`); n != 0 {
		t.Errorf("the refusal page shows %d navigation bars or tables", n)
	}
	labelled("refusal")
	run("sign out", click(`.refusal button`), visible(`#username`))

	// A wrong password is refused at the form; then the maker signs in
	// with a password, with the keyboard only (a session cookie).
	run("wrong password", fill(`#username`, makerName), fill(`#password`, "not-the-password"), click(`.signin button[type="submit"]`),
		visible(`#signin-error`), chromedp.Reload(), visible(`#username`))
	run("keyboard sign-in", chromedp.KeyEvent("\t"), poll(`document.activeElement?.id === 'username'`, 5*time.Second),
		chromedp.KeyEvent(makerName), chromedp.KeyEvent("\t"), poll(`document.activeElement?.id === 'password'`, 5*time.Second),
		chromedp.KeyEvent(makerPassword), chromedp.KeyEvent("\r"), visible(`.navbar`), contains(`main`, "Field Technician"))
	if n := eval[int](t, ctx, `Object.keys(sessionStorage).length`); n != 0 {
		t.Errorf("a password sign-in keeps %d items in session storage; the session is the cookie", n)
	}
	labelled("profiles")
	run("profiles list", shot("portal-profiles"))
	if s := text(`table.rows tbody`); !strings.Contains(s, "Published (version") {
		t.Errorf("the profile list shows no published state: %q", s)
	}

	// Tables: a custom table with a lookup column, then Can be taken offline.
	run("tables", click(`.navbar a[href="#/tables"]`), visible(`#nt-name`), contains(`table.rows`, "Work Order"), shot("portal-tables"))
	labelled("tables")
	run("create table", fill(`#nt-name`, "inspection"), fill(`#nt-display`, "Inspection"), click(`form[aria-label="New table"] button[type="submit"]`),
		visible(`input[name="offline"]`))
	run("add column", fill(`#nc-name`, "workorderid"), selectValue(`#nc-type`, "lookup"), visible(`#nc-target`), fill(`#nc-target`, "workorder"),
		click(`form[aria-label="Add column"] button[type="submit"]`), contains(`main`, "→ workorder"), contains(`main`, "inspection_workorderid"))
	// Edit a choice column (display name, a new option); the change is
	// seen through the API.
	run("add choice", fill(`#nc-name`, "grade"), selectValue(`#nc-type`, "choice"), visible(`#nc-options`), fill(`#nc-options`, "Good, Poor"),
		click(`form[aria-label="Add column"] button[type="submit"]`), contains(`main`, "Good, Poor"))
	run("edit column", click(`button[aria-label="Edit grade"]`), visible(`form[aria-label="Edit column grade"]`),
		fill(`#ec-grade-display`, "Condition"), fill(`#ec-grade-add`, "Broken"), shot("portal-edit-column"),
		click(`form[aria-label="Edit column grade"] button[type="submit"]`), contains(`tr[data-column="grade"]`, "Good, Poor, Broken"),
		contains(`tr[data-column="grade"]`, "Condition"))
	var inspection struct {
		Columns []struct {
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
			Options     []struct {
				Value int    `json:"value"`
				Label string `json:"label"`
			} `json:"options"`
		} `json:"columns"`
	}
	serverGet(t, server+"/api/metadata/tables/inspection", maker, &inspection)
	for _, c := range inspection.Columns {
		if c.Name == "grade" && (c.DisplayName != "Condition" || len(c.Options) != 3 || c.Options[2].Label != "Broken" || c.Options[2].Value != 3) {
			t.Errorf("the edited grade column reads %+v through the API", c)
		}
	}
	// The primary name stays required: the API's refusal shows at the field.
	run("refused edit", click(`button[aria-label="Edit name"]`), visible(`form[aria-label="Edit column name"]`),
		click(`form[aria-label="Edit column name"] input[name="required"]`), click(`form[aria-label="Edit column name"] button[type="submit"]`),
		contains(`#ec-name-required-error`, "stays required"), click(`form[aria-label="Edit column name"] button[type="button"]`))
	run("take offline", click(`input[name="offline"]`), visible(`[role="alertdialog"]`), contains(`[role="alertdialog"]`, "cannot be turned off"),
		shot("portal-table-offline-warning"), click(`[role="alertdialog"] button.primary`), contains(`.panel`, "It cannot be turned off"))
	labelled("table")
	run("data browser", script(`(location.hash = '#/tables/account', true)`), visible(`#data-filter`), visible(`table.data tbody tr`),
		fill(`#data-filter`, "address1_city eq"), click(`form[aria-label="Filter rows"] button`), visible(`#data-filter-error`), shot("portal-data-filter-error"),
		fill(`#data-filter`, "address1_city ne 'Nowhere'"), click(`form[aria-label="Filter rows"] button`),
		poll(`!document.querySelector('#data-filter-error')`, 5*time.Second))

	// A profile of three tables: work orders (the user's rows), their
	// accounts (related) and those accounts' contacts (related).
	run("new profile", click(`.navbar a[href="#/profiles"]`), visible(`#np-name`), fill(`#np-name`, "Inspections"),
		click(`form[aria-label="New profile"] button[type="submit"]`), visible(`#add-table`), contains(`.profile-state`, "never published"))
	if opts := eval[string](t, ctx, `[...document.querySelectorAll('#add-table option')].map(o => o.value).join(',')`); strings.Contains(opts, "appmodule") || !strings.Contains(opts, "inspection") {
		t.Errorf("Add table offers %s; it must offer only offline tables (inspection is one now)", opts)
	}
	if rules := eval[string](t, ctx, `(document.querySelector('#add-table').value = 'product', document.querySelector('#add-table').dispatchEvent(new Event('change', {bubbles: true})), '')`); rules != "" {
		t.Fatal(rules)
	}
	// product is organization owned: Organization rows is not offered.
	run("rules follow ownership", visible(`input[name="rule"][value="all"]`))
	if n := eval[int](t, ctx, `document.querySelectorAll('input[name="rule"][value="organization"]').length`); n != 0 {
		t.Errorf("an organization-owned table is offered Organization rows")
	}
	run("workorder", selectValue(`#add-table`, "workorder"), visible(`input[name="userRows"]`),
		click(`input[name="rule"][value="custom"]`), visible(`#filter-text`), fill(`#filter-text`, "nosuch eq 1"),
		click(`.item-editor button[type="submit"]`), visible(`#filter-error`), contains(`#filter-error`, `unknown column "nosuch"`), shot("portal-filter-error"),
		click(`input[name="rule"][value="organization"]`), visible(`input[name="userRows"]`),
		click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved workorder"))
	run("account", selectValue(`#add-table`, "account"), visible(`input[name="rule"][value="related"]`), click(`input[name="rule"][value="related"]`),
		click(`input[name="relationships"][value="workorder_customerid"]`), click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved account"))
	run("contact", selectValue(`#add-table`, "contact"), visible(`input[name="rule"][value="related"]`), click(`input[name="rule"][value="related"]`),
		click(`input[name="relationships"][value="contact_parentcustomerid"]`),
		// The count is live: before saving, contact counts its chain through account to workorder.
		contains(`.item-list li:nth-child(3) .rel-count`, "2/15"),
		click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved contact"),
		script(`(document.activeElement.blur(), scrollTo(0, 0), true)`), shot("portal-profile-editor"))
	if s := text(`.item-list`); !strings.Contains(s, "1/15") || !strings.Contains(s, "2/15") || !strings.Contains(s, "0/15") {
		t.Errorf("relationship counts: %q", s)
	}
	labelled("profile editor")

	// Validate, preview for Nora, publish.
	run("validate", click(`button.validate`), contains(`.banner[role="status"][aria-live]`, "No problems"))
	noraID := eval[string](t, ctx, `[...document.querySelectorAll('#preview-user option')].find(o => o.textContent.includes('nora@')).value`)
	run("preview", selectValue(`#preview-user`, noraID), click(`form[aria-label="Preview"] button`), visible(`.preview-rows tbody tr`),
		script(`(document.querySelectorAll('.preview-rows details').forEach(d => d.open = true), document.querySelector('.preview').scrollIntoView(), true)`), shot("portal-preview"))
	id := eval[string](t, ctx, `decodeURIComponent(location.hash.split('/').pop())`)
	var pv struct {
		TotalRows int64 `json:"totalRows"`
		Items     []struct {
			Table string `json:"table"`
			Rows  int64  `json:"rows"`
			SQL   string `json:"sql"`
		} `json:"items"`
	}
	serverGet(t, server+"/api/offline/profiles/"+id+"/preview?user="+noraID, maker, &pv)
	if len(pv.Items) != 3 || pv.TotalRows == 0 {
		t.Fatalf("the API's preview for Nora: %+v", pv)
	}
	shown := eval[string](t, ctx, `[...document.querySelectorAll('.preview-rows tbody tr')].map(r => r.cells[0].textContent + '=' + r.cells[1].textContent).join(' ')`)
	var want []string
	for _, it := range pv.Items {
		want = append(want, fmt.Sprintf("%s=%d", it.Table, it.Rows))
		if sql := eval[string](t, ctx, `[...document.querySelectorAll('.preview-rows tbody tr')].find(r => r.cells[0].textContent === '`+it.Table+`').querySelector('pre.sql').textContent`); sql != it.SQL {
			t.Errorf("%s: the page shows SQL %q, the API %q", it.Table, sql, it.SQL)
		}
	}
	if shown != strings.Join(want, " ") {
		t.Errorf("preview rows: the page shows %q, the API %q", shown, strings.Join(want, " "))
	}
	run("publish", click(`button.publish`), contains(`.profile-state`, "Published (version"))

	// Apps: Field Service takes the new profile and is published; a
	// canvas app outside any solution is refused Can be used offline.
	run("apps", click(`.navbar a[href="#/apps"]`), visible(`.app-card-portal`), contains(`main`, "Field Service"))
	fs := eval[string](t, ctx, `[...document.querySelectorAll('.app-card-portal')].find(li => li.querySelector('h2').textContent.startsWith('Field Service')).getAttribute('aria-labelledby').replace('-name', '')`)
	inspections := eval[string](t, ctx, `[...document.querySelector('#`+fs+`-profile').options].find(o => o.textContent === 'Inspections').value`)
	run("app offline profile", selectValue(`#`+fs+`-profile`, inspections), click(`li[aria-labelledby="`+fs+`-name"] .actions button:not(.primary)`))
	var fsApp struct {
		ProfileID string `json:"profileId"`
	}
	for deadline := time.Now().Add(5 * time.Second); fsApp.ProfileID != inspections && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		serverGet(t, server+"/api/offline/apps/"+strings.TrimPrefix(fs, "app-"), maker, &fsApp)
	}
	if fsApp.ProfileID != inspections {
		t.Fatalf("Field Service's profile is %s after Save, want Inspections (%s)", fsApp.ProfileID, inspections)
	}
	run("app publish", click(`li[aria-labelledby="`+fs+`-name"] .actions button.primary`), shot("portal-apps"))
	if e := eval[int](t, ctx, `document.querySelectorAll('li[aria-labelledby="`+fs+`-name"] .field-error').length`); e != 0 {
		t.Errorf("publishing Field Service shows an error")
	}
	run("canvas app", fill(`#na-name`, "sitesurvey"), selectValue(`#na-kind`, "canvas"), click(`form[aria-label="New app"] button[type="submit"]`),
		contains(`main`, "sitesurvey"))
	cv := eval[string](t, ctx, `[...document.querySelectorAll('.app-card-portal')].find(li => li.querySelector('h2').textContent.startsWith('sitesurvey')).getAttribute('aria-labelledby').replace('-name', '')`)
	run("canvas needs a solution", contains(`li[aria-labelledby="`+cv+`-name"]`, "only once it is in a solution"),
		click(`li[aria-labelledby="`+cv+`-name"] input[name="offline"]`), visible(`#`+cv+`-profile`), selectValue(`#`+cv+`-profile`, inspections),
		click(`li[aria-labelledby="`+cv+`-name"] .actions button:not(.primary)`), visible(`li[aria-labelledby="`+cv+`-name"] .field-error`),
		contains(`li[aria-labelledby="`+cv+`-name"] .field-error`, "solution"))
	labelled("apps")

	// A tablet: the editor folds into one column, nothing scrolls sideways.
	run("tablet", chromedp.EmulateViewport(820, 1180, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		script(`(location.hash = '#/profiles/`+id+`', true)`), visible(`.item-list`), click(`.item-list li:nth-child(1) button`), visible(`.item-editor form`),
		script(`(scrollTo(0, 0), true)`), shot("portal-profile-editor-tablet"))
	if over := eval[bool](t, ctx, `document.documentElement.scrollWidth > innerWidth`); over {
		t.Errorf("at 820 px the editor scrolls sideways")
	}
	labelled("tablet editor")
	t.Logf("portal browser test took %v; screenshots in %s", time.Since(began).Round(time.Millisecond), shots)
}

// selectValue picks an option of a select as a person would (the page sees a change event).
func selectValue(sel, value string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	vb, _ := json.Marshal(value)
	return script(`(() => { const el = document.querySelector(` + string(sb) + `); el.focus(); el.value = ` + string(vb) + `; el.dispatchEvent(new Event('change', {bubbles: true})); return el.value === ` + string(vb) + ` })()`)
}
