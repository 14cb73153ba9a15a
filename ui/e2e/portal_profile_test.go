package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPortalProfilePages walks the offline profile pages against `outpost
// demo`: clone a profile and delete the copy (the one apps use is refused);
// change a published profile, see the draft beside the published version
// and discard it; add a 16th relationship and see the error naming the
// chain, then fix it; build a custom filter with the expression builder and
// see the same filter as text (and the other way round); restrict Users
// with offline access; preview for a technician, publish, and have the
// technician's device (`outpost device`) sync exactly the rows the preview
// showed, while a technician left out is refused at open.
func TestPortalProfilePages(t *testing.T) {
	began := time.Now()
	p := newPortalDemo(t)
	maker, nora, sam := p.token("maker@"), p.token("nora@"), p.token("sam@")
	p.signInWithToken(maker)

	type profileJSON struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Draft      bool   `json:"draft"`
		Assignment struct {
			Mode  string   `json:"mode"`
			Users []string `json:"users"`
		} `json:"assignment"`
		Items []struct {
			Table  string `json:"table"`
			Filter any    `json:"filter"`
		} `json:"items"`
	}
	var list struct{ Value []profileJSON }
	p.api("GET", "/api/offline/profiles", maker, nil, &list)
	var ft profileJSON
	for _, x := range list.Value {
		if x.Name == "Field Technician" {
			ft = x
		}
	}
	if ft.ID == "" {
		t.Fatalf("no Field Technician profile in %+v", list)
	}

	// Clone and delete; the profile apps use cannot be deleted.
	p.run("clone", contains(`table.rows`, "Field Technician"), script(`(window.confirm = () => true, true)`),
		click(`button[aria-label="Clone Field Technician"]`), contains(`h1`, "Copy of Field Technician"), contains(`.profile-state`, "never published"))
	if n := p.eval(`String(document.querySelectorAll('.item-list li').length)`); n != strconv.Itoa(len(ft.Items)) {
		t.Errorf("the clone has %s tables, the original %d", n, len(ft.Items))
	}
	p.run("list with the copy", click(`.navbar a[href="#/profiles"]`), contains(`table.rows`, "Copy of Field Technician"),
		click(`button[aria-label="Delete Field Technician"]`), contains(`table.rows .field-error`, "used by"), p.shot("portal-profiles-actions"))
	p.labelled("profiles")
	p.run("delete the copy", click(`button[aria-label="Delete Copy of Field Technician"]`),
		poll(`!document.querySelector('table.rows').textContent.includes('Copy of')`, 10*time.Second))
	p.api("GET", "/api/offline/profiles", maker, nil, &list)
	if len(list.Value) != 1 {
		t.Errorf("after deleting the copy the server has %d profiles", len(list.Value))
	}

	// A change to the published profile: the draft beside the published
	// version, then Discard.
	p.run("edit published", script(`(location.hash = '#/profiles/`+ft.ID+`', true)`), visible(`.item-list`),
		script(`([...document.querySelectorAll('.item-list .item-button')].find(b => b.textContent.includes('Product')).click(), true)`),
		visible(`#interval`), selectValue(`#interval`, "60"), click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved product"),
		contains(`.profile-state`, "draft has changes"), visible(`.side-by-side tr.changed`),
		script(`(document.querySelector('.published').scrollIntoView(), true)`), p.shot("portal-draft-published"))
	if s := p.eval(`document.querySelector('.side-by-side tr.changed').textContent`); !strings.Contains(s, "every 60 min") || !strings.Contains(s, "every 1440 min") {
		t.Errorf("the changed row shows %q; want the draft's 60 and the published 1440 minutes", s)
	}
	p.run("discard", click(`button.discard`), contains(`.banner[role="status"]`, "Discarded"),
		poll(`!document.querySelector('.profile-state').textContent.includes('draft') && !document.querySelector('.side-by-side tr.changed')`, 10*time.Second))
	var after profileJSON
	p.api("GET", "/api/offline/profiles/"+ft.ID, maker, nil, &after)
	if after.Draft {
		t.Errorf("after Discard the server still has a draft")
	}
	p.run("app usage", contains(`.app-usage`, "Field Service"))

	// The 16th relationship: a work-order filter with 15 links, then account
	// related through work orders makes account's count 16.
	var links []string
	for i := range 15 {
		links = append(links, fmt.Sprintf("customerid/name ne 'n%d'", i))
	}
	var wide profileJSON
	p.api("POST", "/api/offline/profiles", maker, map[string]any{"name": "Wide", "items": []map[string]any{
		{"table": "workorder", "rule": "custom", "filterText": strings.Join(links, " and ")}}}, &wide)
	p.run("sixteenth", script(`(location.hash = '#/profiles/`+wide.ID+`', true)`), contains(`.item-list li:nth-child(1) .rel-count`, "15/15"),
		selectValue(`#add-table`, "account"), click(`input[name="rule"][value="related"]`), click(`input[name="relationships"][value="workorder_customerid"]`),
		contains(`.item-list li:nth-child(2) .rel-count`, ">15/15"),
		contains(`.item-list li:nth-child(2) .field-error`, "the 16th is account -[workorder_customerid 1:N]-> workorder"),
		script(`(scrollTo(0, 0), true)`), p.shot("portal-relationship-limit"))
	p.run("fix it", click(`input[name="relationships"][value="workorder_customerid"]`), click(`input[name="rule"][value="all"]`),
		contains(`.item-list li:nth-child(2) .rel-count`, "0/15"), poll(`!document.querySelector('.item-list .field-error')`, 10*time.Second),
		click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved account"),
		click(`button.validate`), contains(`.banner[role="status"][aria-live]`, "No problems"))

	// The expression builder: conditions, an or group with a user and a
	// date operator, a link to the customer account; the text follows.
	top := `[data-path="fb"] > .fb-actions `
	p.run("builder profile", click(`.navbar a[href="#/profiles"]`), visible(`#np-name`), fill(`#np-name`, "Builder"),
		click(`form[aria-label="New profile"] button[type="submit"]`), visible(`#add-table`),
		selectValue(`#add-table`, "workorder"), click(`input[name="rule"][value="custom"]`), visible(`.filter-builder`),
		click(top+`.fb-add-condition`), visible(`#fb-0-col`), selectValue(`#fb-0-col`, "priority"), p.value(`#fb-0-col`, "priority"),
		selectValue(`#fb-0-op`, "ge"), p.value(`#fb-0-op`, "ge"), selectValue(`#fb-0-val`, "2"),
		click(top+`.fb-add-group`), visible(`#fb-1-kind`), p.value(`#fb-1-kind`, "or"),
		click(`[data-path="fb-1"] > .fb-actions .fb-add-condition`), visible(`#fb-1-0-col`), selectValue(`#fb-1-0-col`, "ownerid"), p.value(`#fb-1-0-col`, "ownerid"),
		selectValue(`#fb-1-0-op`, "eq-useroruserteams"), poll(`!document.querySelector('#fb-1-0-val')`, 5*time.Second),
		click(`[data-path="fb-1"] > .fb-actions .fb-add-condition`), visible(`#fb-1-1-col`), selectValue(`#fb-1-1-col`, "scheduledstart"), p.value(`#fb-1-1-col`, "scheduledstart"),
		selectValue(`#fb-1-1-op`, "next-x-days"), visible(`#fb-1-1-val[type="number"]`), fill(`#fb-1-1-val`, "7"),
		click(top+`.fb-add-link`), visible(`#fb-2-rel`), selectValue(`#fb-2-rel`, "workorder_customerid"),
		click(`[data-path="fb-2-f"] > .fb-actions .fb-add-condition`), visible(`#fb-2-f-0-col`), selectValue(`#fb-2-f-0-col`, "address1_city"), p.value(`#fb-2-f-0-col`, "address1_city"),
		selectValue(`#fb-2-f-0-op`, "ne"), p.value(`#fb-2-f-0-op`, "ne"), fill(`#fb-2-f-0-val`, "Nowhere"))
	const built = `priority ge 2 and (Microsoft.Dynamics.CRM.EqUserOrUserTeams(PropertyName='ownerid') or Microsoft.Dynamics.CRM.NextXDays(PropertyName='scheduledstart',PropertyValue=7)) and workorder_customerid/any(x1: x1/address1_city ne 'Nowhere')`
	if err := p.try(p.value(`#filter-text`, built)); err != nil {
		t.Fatalf("the builder's filter as text is %q, want %q", p.eval(`document.querySelector('#filter-text').value`), built)
	}
	p.run("builder shot", script(`(document.activeElement.blur(), document.querySelector('#filter-text').scrollIntoView({block: 'end'}), scrollBy(0, 40), true)`), p.shot("portal-expression-builder"))
	p.labelled("expression builder")
	// Text to tree: the builder follows the text.
	p.run("text to tree", fill(`#filter-text`, "priority eq 3 or completed eq true"), p.value(`#fb-kind`, "or"),
		p.value(`#fb-0-col`, "priority"), p.value(`#fb-0-op`, "eq"), p.value(`#fb-0-val`, "3"), p.value(`#fb-1-col`, "completed"), p.value(`#fb-1-val`, "true"),
		poll(`!document.querySelector('#fb-2-rel')`, 5*time.Second),
		fill(`#filter-text`, built), p.value(`#fb-2-rel`, "workorder_customerid"), p.value(`#fb-2-f-0-val`, "Nowhere"), p.value(`#fb-1-0-op`, "eq-useroruserteams"),
		click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved workorder"),
		selectValue(`#add-table`, "account"), click(`input[name="rule"][value="related"]`), click(`input[name="relationships"][value="workorder_customerid"]`),
		click(`.item-editor button[type="submit"]`), contains(`.banner[role="status"]`, "Saved account"),
		contains(`.item-list li:nth-child(1) .rel-count`, "2/15"), contains(`.item-list li:nth-child(2) .rel-count`, "1/15"))
	var builder profileJSON
	id := p.eval(`decodeURIComponent(location.hash.split('/').pop())`)
	p.api("GET", "/api/offline/profiles/"+id, maker, nil, &builder)
	if len(builder.Items) != 2 || builder.Items[1].Table != "workorder" || builder.Items[1].Filter == nil {
		t.Fatalf("the saved profile: %+v", builder)
	}

	// Users with offline access: restricted to Nora.
	noraID := p.eval(`[...document.querySelectorAll('#preview-user option')].find(o => o.textContent.includes('nora@')).value`)
	p.run("restrict", click(`input[name="access"][value="restricted"]`), visible(`input[name="access-user"]`), visible(`input[name="access-team"]`),
		click(`input[name="access-user"][value="`+noraID+`"]`), click(`.save-access`), contains(`.banner[role="status"]`, "Saved who has offline access"),
		script(`(document.querySelector('.access').scrollIntoView(), true)`), p.shot("portal-offline-access"))
	p.labelled("offline access")
	p.api("GET", "/api/offline/profiles/"+id, maker, nil, &builder)
	if builder.Assignment.Mode != "restricted" || len(builder.Assignment.Users) != 1 || !strings.EqualFold(builder.Assignment.Users[0], noraID) {
		t.Errorf("assignment after Save access: %+v", builder.Assignment)
	}

	// Preview for Nora, publish, and her device syncs exactly those rows.
	p.run("preview", selectValue(`#preview-user`, noraID), click(`form[aria-label="Preview"] button`), visible(`.preview-rows tbody tr`))
	preview := map[string]int{}
	for _, cell := range strings.Split(p.eval(`[...document.querySelectorAll('.preview-rows tbody tr')].map(r => r.cells[0].textContent + '=' + r.cells[1].textContent.replace(/,/g, '')).join(' ')`), " ") {
		table, n, _ := strings.Cut(cell, "=")
		preview[table], _ = strconv.Atoi(n)
	}
	if preview["workorder"] == 0 || preview["account"] == 0 {
		t.Fatalf("the preview for Nora: %v", preview)
	}
	p.run("publish", click(`button.publish`), contains(`.profile-state`, "Published (version"))
	var apps struct {
		Value []struct{ ID, Name string }
	}
	p.api("GET", "/api/offline/apps", maker, nil, &apps)
	var fs string
	for _, a := range apps.Value {
		if a.Name == "Field Service" {
			fs = a.ID
		}
	}
	p.api("PUT", "/api/offline/apps/"+fs+"/offline", maker, map[string]any{"enabled": true, "profileId": id}, nil)
	p.api("POST", "/api/offline/apps/"+fs+"/publish", maker, nil, nil)
	dev := func(home string, args ...string) string {
		t.Helper()
		out, err := p.device(home, args...)
		if err != nil {
			t.Fatalf("outpost device %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	dev("nora", "login", "--server", p.server, "--token", nora)
	dev("nora", "open", fs)
	dev("nora", "sync")
	status := dev("nora", "status")
	synced := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+)\s+(\d+)\s+(yes|no)\s`).FindAllStringSubmatch(status, -1) {
		synced[m[1]], _ = strconv.Atoi(m[2])
	}
	if fmt.Sprint(synced) != fmt.Sprint(preview) {
		t.Errorf("Nora's device holds %v; the preview showed %v\n%s", synced, preview, status)
	}
	dev("sam", "login", "--server", p.server, "--token", sam)
	if out, err := p.device("sam", "open", fs); err == nil || !strings.Contains(out, "restricted to selected users and teams") {
		t.Errorf("Sam, outside the restricted profile, opened the app: %v\n%s", err, out)
	}
	t.Logf("profile pages browser test took %v; preview and device rows %v", time.Since(began).Round(time.Millisecond), synced)
}
