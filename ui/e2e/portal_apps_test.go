package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/outposthq/outpost/demo"
)

// TestPortalApps walks the Apps pages: the maker creates a model-driven
// app, gives it tables, a view (columns, sort, search column; a bad filter
// is refused at the field, then a good one) and a form (a section of
// fields, one required, one read-only); turns on Can be used offline with
// "New profile with current app data" and reads what could not be
// generated; publishes; sees Needs republish after the profile is
// published again and clears it. A technician's player opens the app and
// shows that view and form (and the agent's API returns them). A canvas
// app refuses a bad bundle with the check's error, takes the demo's
// bundle, is refused an auto-generated profile outside a solution (the
// rule explained at the switch), and gets one once it is in a solution.
func TestPortalApps(t *testing.T) {
	began := time.Now()
	p := newPortalSession(t, 5)
	nora, maker := p.token("nora@"), p.token("maker@")
	p.signInAsMaker()

	// A model-driven app and its page.
	p.run("new app", script(`(location.hash = '#/apps', true)`), p.visible(`#na-name`), fill(`#na-name`, "Inspection desk"),
		p.click(`form[aria-label="New app"] button[type="submit"]`), p.contains(`.app-cards`, "Inspection desk"))
	appID := eval[string](t, p.ctx, `[...document.querySelectorAll('.app-card-portal')].find(li => li.querySelector('h2').textContent.startsWith('Inspection desk')).getAttribute('aria-labelledby').replace(/^app-/, '').replace(/-name$/, '')`)
	card := `li[aria-labelledby="app-` + appID + `-name"]`
	p.run("open the app", p.click(card+` a.edit-app`), p.visible(`#app-add-table`), p.contains(`h1`, "Model-driven app"))

	// Tables, a view and a form.
	addTable := func(name string) {
		t.Helper()
		p.run("add table "+name, selectValue(`#app-add-table`, name), p.click(`button.add-table`), p.contains(`ul.chips`, name))
	}
	addTable("workorder")
	addTable("product")
	p.run("view", p.click(`button.add-view`), p.visible(`#view-0-name`), fill(`#view-0-name`, "Open work orders"),
		p.click(`.view-editor input[name="viewColumn"][value="priority"]`), p.click(`.view-editor input[name="viewColumn"][value="scheduledstart"]`),
		selectValue(`#view-0-sort`, "scheduledstart"), selectValue(`#view-0-dir`, "desc"),
		p.click(`.view-editor input[name="searchColumn"][value="name"]`),
		fill(`#view-0-filter`, "completed eq"), p.click(`button.save-definition`), p.visible(`#view-0-filter-error`),
		p.contains(`#view-0-filter-error`, `definition.views[0].filterText:1:13: expected a value after "eq"`),
		script(`(document.querySelector('.view-editor').scrollIntoView(), scrollBy(0, -64), true)`), p.shot("portal-apps-view-filter-error"),
		fill(`#view-0-filter`, "completed eq false"))
	// The text becomes the builder's tree (the server's parse); a condition
	// built in the builder becomes text (the server's printing).
	const builtFilter = "completed eq false and priority ge 2"
	p.run("view filter in the builder", poll(`document.querySelector('#view-0-filter-fb-0-col')?.value === 'completed' && document.querySelector('#view-0-filter-fb-0-val')?.value === 'false'`, 5*time.Second),
		p.click(`.view-editor .fb-add-condition`), p.visible(`#view-0-filter-fb-1-col`),
		selectValue(`#view-0-filter-fb-1-col`, "priority"), poll(`[...document.querySelectorAll('#view-0-filter-fb-1-op option')].some(o => o.value === 'ge')`, 5*time.Second),
		selectValue(`#view-0-filter-fb-1-op`, "ge"), p.visible(`select#view-0-filter-fb-1-val`), selectValue(`#view-0-filter-fb-1-val`, "2"),
		poll(`document.querySelector('#view-0-filter').value === '`+builtFilter+`' && !document.querySelector('#view-0-filter-error')`, 5*time.Second),
		script(`(document.querySelector('.view-editor .view-filter').scrollIntoView(), scrollBy(0, -72), true)`), p.shot("portal-apps-view-filter-builder"))
	p.run("form", p.click(`button.add-form`), p.visible(`#form-0-name`), fill(`#form-0-name`, "Work order"), fill(`#form-0-s0-name`, "Job"))
	for _, c := range []string{"name", "customerid", "description"} {
		p.run("field "+c, selectValue(`#form-0-s0-add`, c), p.click(`.form-editor button.add-field`), p.visible(`tr[data-field="`+c+`"]`))
	}
	p.run("required and read-only", p.click(`tr[data-field="description"] input[name="required"]`), p.click(`tr[data-field="customerid"] input[name="readOnly"]`),
		p.click(`button.save-definition`), p.contains(`form.definition .banner[role="status"]`, "Saved"),
		script(`(document.querySelector('.form-editor').scrollIntoView(), scrollBy(0, -64), true)`), p.shot("portal-apps-form"),
		script(`(document.querySelector('.view-editor').scrollIntoView(), scrollBy(0, -64), true)`), p.shot("portal-apps-view"))
	p.labelled("app editor")

	var app struct {
		NeedsRepublish bool   `json:"needsRepublish"`
		ProfileID      string `json:"profileId"`
		Definition     struct {
			Tables []string `json:"tables"`
			Views  []struct {
				Name, Table, OrderBy, FilterText string
				Columns, SearchColumns           []string
				Filter                           any
			} `json:"views"`
			Forms []struct {
				Name, Table                 string
				Columns, Required, ReadOnly []string
				Sections                    []struct {
					Name    string
					Columns []string
				}
			} `json:"forms"`
		} `json:"definition"`
	}
	serverGet(t, p.server+"/api/offline/apps/"+appID, maker, &app)
	d := app.Definition
	if len(d.Views) != 1 || len(d.Forms) != 1 {
		t.Fatalf("saved definition: %+v", d)
	}
	if v := d.Views[0]; v.Name != "Open work orders" || v.Table != "workorder" || !reflect.DeepEqual(v.Columns, []string{"name", "priority", "scheduledstart"}) ||
		v.OrderBy != "scheduledstart desc" || !reflect.DeepEqual(v.SearchColumns, []string{"name"}) || v.FilterText != builtFilter {
		t.Errorf("saved view: %+v", v)
	}
	var wantTree any
	if err := json.Unmarshal([]byte(`{"and":[{"column":"completed","operator":"eq","value":false},{"column":"priority","operator":"ge","value":2}]}`), &wantTree); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Views[0].Filter, wantTree) {
		t.Errorf("saved view's filter tree: %v, want %v", d.Views[0].Filter, wantTree)
	}
	if f := d.Forms[0]; f.Name != "Work order" || len(f.Sections) != 1 || f.Sections[0].Name != "Job" || !reflect.DeepEqual(f.Columns, []string{"name", "customerid", "description"}) ||
		!reflect.DeepEqual(f.Required, []string{"description"}) || !reflect.DeepEqual(f.ReadOnly, []string{"customerid"}) {
		t.Errorf("saved form: %+v", f)
	}

	// Can be used offline with a new profile made from the app; publish.
	profileSel := `#app-` + appID + `-profile`
	p.run("new profile with current app data", script(`(scrollTo(0, 0), true)`), p.click(`input[name="offline"]`), p.visible(profileSel),
		selectValue(profileSel, "__generate"), p.contains(`.generate-help`, "What could not be generated"),
		p.click(`.app-card-portal .actions button:not(.primary)`), p.visible(`.generated`),
		p.contains(`.generated`, "now its offline profile"), p.contains(`.not-generated`, `table "product" is organization owned: it got All rows instead of user's rows; review it`),
		p.shot("portal-apps-generated"))
	p.run("publish", p.click(`.app-card-portal .actions button.primary`), p.contains(`.app-card-portal .app-notice`, "Published."))
	serverGet(t, p.server+"/api/offline/apps/"+appID, maker, &app)
	if app.ProfileID == "" || app.NeedsRepublish {
		t.Fatalf("after publishing: profile %q, needs republish %v", app.ProfileID, app.NeedsRepublish)
	}
	// Publishing the profile again puts the app behind it: the badge shows
	// until the app is published.
	serverCall(t, "POST", p.server+"/api/offline/profiles/"+app.ProfileID+"/publish", maker, nil)
	p.run("needs republish", chromedp.Reload(), p.visible(`.app-card-portal .badge`), p.contains(`.app-card-portal .badge`, "Needs republish"), p.shot("portal-apps-needs-republish"),
		p.click(`.app-card-portal .actions button.primary`), p.contains(`.app-card-portal .app-notice`, "Published."),
		poll(`!document.querySelector('.app-card-portal .badge')`, 5*time.Second))

	// The technician's player shows that view and form.
	m, _ := start(t, p.bin, regexp.MustCompile(`(http://127\.0\.0\.1:\d+/\?key=\S+)`), "device", "--home", filepath.Join(p.tmp, "device"), "serve", "--addr", "127.0.0.1:0", "--retry", "500ms")
	p.run("player", chromedp.Navigate(m[1]), p.visible(`input[name="server"]`), p.click(`[role="tab"]:nth-child(2)`),
		fill(`input[name="server"]`, p.server), fill(`input[name="token"]`, nora), p.click(`button[type="submit"]`), p.visible(`.app-card`),
		chromedp.Click(chromedp.Search(`//button[contains(., "Inspection desk")]`)), p.visible(`table.rows tbody tr`),
		p.contains(`nav.views`, "Open work orders"), p.contains(`th[aria-sort="descending"]`, "Scheduled"), p.shot("portal-apps-player-view"))
	if heads := eval[string](t, p.ctx, `[...document.querySelectorAll('table.rows thead th')].map(th => th.textContent.trim()).join('|')`); !strings.Contains(heads, "Priority") || strings.Count(heads, "|") != 2 {
		t.Errorf("the player's view shows columns %q, want name, priority and scheduled start", heads)
	}
	var agentApp struct {
		Views []struct {
			Name, Filter, OrderBy string
			Columns               []string
		} `json:"views"`
		Forms []struct {
			Name     string
			Required []string
			ReadOnly []string `json:"readOnly"`
		} `json:"forms"`
	}
	got := eval[string](t, p.ctx, `fetch('/api/app').then(r => r.text())`)
	if err := json.Unmarshal([]byte(got), &agentApp); err != nil || len(agentApp.Views) == 0 || agentApp.Views[0].Name != "Open work orders" || agentApp.Views[0].Filter != builtFilter ||
		agentApp.Views[0].OrderBy != "scheduledstart desc" || len(agentApp.Forms) != 1 || !reflect.DeepEqual(agentApp.Forms[0].Required, []string{"description"}) {
		t.Errorf("the agent's app: %v %s", err, got)
	}
	p.run("player form", p.click(`table.rows tbody tr td a`), p.visible(`form fieldset.section legend`), p.contains(`form fieldset.section legend`, "Job"),
		p.shot("portal-apps-player-form"))
	if req := eval[string](t, p.ctx, `[...document.querySelectorAll('form fieldset.section label')].filter(l => l.querySelector('.required')).map(l => l.textContent).join('|')`); !strings.Contains(req, "Description") {
		t.Errorf("the player's form marks %q required, want Description", req)
	}
	if ro := eval[bool](t, p.ctx, `(() => { const l = [...document.querySelectorAll('form fieldset.section label')].find(l => l.textContent.startsWith('Customer')); const el = l && document.getElementById(l.htmlFor); return !!el && (el.readOnly || el.disabled) })()`); !ro {
		t.Errorf("the player's form lets the read-only customer change")
	}

	// A canvas app: its web bundle, and its profile.
	bad := filepath.Join(p.tmp, "notes.zip")
	good := filepath.Join(p.tmp, "field-inspections.zip")
	zb, err := demo.FieldInspectionsBundle()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("these are notes, not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, zb, 0o644); err != nil {
		t.Fatal(err)
	}
	p.signInAsMaker()
	p.run("canvas app", script(`(location.hash = '#/apps', true)`), p.visible(`#na-name`), fill(`#na-name`, "Site survey"), selectValue(`#na-kind`, "canvas"),
		p.click(`form[aria-label="New app"] button[type="submit"]`), p.contains(`.app-cards`, "Site survey"))
	canvasID := eval[string](t, p.ctx, `[...document.querySelectorAll('.app-card-portal')].find(li => li.querySelector('h2').textContent.startsWith('Site survey')).getAttribute('aria-labelledby').replace(/^app-/, '').replace(/-name$/, '')`)
	p.run("canvas page", p.click(`li[aria-labelledby="app-`+canvasID+`-name"] a.edit-app`), p.visible(`#bundle-file`),
		p.contains(`.bundle-state`, "No bundle uploaded yet"))
	if n := eval[int](t, p.ctx, `document.querySelectorAll('.view-editor, .form-editor, button.add-view').length`); n != 0 {
		t.Errorf("a canvas app's page offers views or forms (%d)", n)
	}
	addTable("workorder")
	p.run("bad bundle", p.click(`button.save-definition`), p.contains(`form.definition .banner[role="status"]`, "Saved"),
		chromedp.SetUploadFiles(chromedp.CSS(`#bundle-file`), []string{bad}), p.click(`form[aria-label="Upload the web bundle"] button`),
		p.visible(`#bundle-error`), p.contains(`#bundle-error`, "the bundle is not a zip archive"),
		script(`(document.querySelector('.bundle').scrollIntoView(), scrollBy(0, -64), true)`), p.shot("portal-apps-bundle-error"))
	p.run("good bundle", chromedp.SetUploadFiles(chromedp.CSS(`#bundle-file`), []string{good}), p.click(`form[aria-label="Upload the web bundle"] button`),
		p.visible(`.bundle-done`), p.contains(`.bundle-done`, "index.html"), p.contains(`.bundle-state`, "Uploaded bundle"),
		poll(`!document.querySelector('#bundle-error')`, 5*time.Second), p.shot("portal-apps-canvas-bundle"))
	p.labelled("canvas app page")

	canvasProfile := `#app-` + canvasID + `-profile`
	p.run("auto-generated outside a solution", script(`(scrollTo(0, 0), true)`), p.contains(`.app-card-portal`, "only once it is in a solution"),
		p.click(`input[name="offline"]`), p.visible(canvasProfile), selectValue(canvasProfile, "__generate"),
		p.click(`.app-card-portal .actions button:not(.primary)`), p.visible(`.app-card-portal .field-error`),
		p.contains(`.app-card-portal .field-error`, "must be in a solution"), p.shot("portal-apps-canvas-solution"))
	serverCall(t, "POST", p.server+"/api/offline/solutions/"+demo.SolutionName+"/components", maker, map[string]string{"kind": "app", "id": canvasID})
	p.run("auto-generated profile", chromedp.Reload(), p.visible(`input[name="offline"]`), p.contains(`.app-card-portal`, "in "+demo.SolutionName),
		p.click(`input[name="offline"]`), p.visible(canvasProfile), selectValue(canvasProfile, "__generate"),
		p.click(`.app-card-portal .actions button:not(.primary)`), p.visible(`.generated`), p.contains(`.generated`, "now its offline profile"),
		p.contains(`.generated`, "Everything the app uses was generated"))
	t.Logf("apps browser test took %v; screenshots in %s", time.Since(began).Round(time.Millisecond), p.shots)
}
