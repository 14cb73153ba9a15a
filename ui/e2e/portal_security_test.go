package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/outposthq/outpost/internal/testenv"
)

// TestPortalSecurity walks the security pages of the portal against the
// real binary: a technician is refused; the administrator builds a role
// in the privilege grid (cycling cells with the mouse and the keyboard,
// an organization-owned table taking only none or organization), sees the
// predefined roles read-only, creates a user in a business unit with a
// password and a manager, gives them the role and a team, sees a weak
// password refused at the field and resets it; the new user signs in with
// the new password (and, having no maker role, gets the refusal page); the
// maker, a customizer, sees the security pages read-only. At 1280×800 and
// at a tablet's 820×1180, every control has a label and nothing scrolls
// sideways.
func TestPortalSecurity(t *testing.T) {
	began := time.Now()
	pe := startPortal(t)
	ctx, server := pe.ctx, pe.server
	admin := pe.token("admin@")
	adminName, adminPassword := pe.login("admin@")
	run := pe.run

	// A technician gets the refusal page, even at a security address.
	run("technician", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)), chromedp.Navigate(server+"/portal/#/security/users"), visible(`#username`),
		click(`.signin button.link`), visible(`#token`), fill(`#token`, pe.token("nora@")), click(`button[type="submit"]`), visible(`.refusal`),
		pe.shot("portal-security-refusal"))
	if n := eval[int](t, ctx, `document.querySelectorAll('.navbar, .security, table').length`); n != 0 {
		t.Errorf("the technician's refusal page shows %d navigation bars, security views or tables", n)
	}
	run("sign out", click(`.refusal button`), visible(`#username`))

	// The administrator signs in and opens Security.
	run("admin sign-in", fill(`#username`, adminName), fill(`#password`, adminPassword), click(`.signin button[type="submit"]`), visible(`.navbar`),
		click(`.navbar a[href="#/security"]`), visible(`.users-list`), contains(`.users-list`, "nora@"))
	pe.labelled("users")

	// The business-unit tree shows South under Root.
	run("business units", click(`.subnav a[href="#/security/businessunits"]`), visible(`.bu-tree > ul`), contains(`.bu-tree`, "South"))
	run("new business unit", fill(`#nb-name`, "South Inspections"), selectValue(`#nb-parent`, optionByText(t, pe, "#nb-parent", "South")),
		click(`form[aria-label="New business unit"] button[type="submit"]`), contains(`.bu-tree`, "South Inspections"), pe.shot("portal-security-business-units"))
	if nested := eval[bool](t, ctx, `[...document.querySelectorAll('.bu-tree li')].some(li => li.querySelector(':scope > .item-name').textContent === 'South' && li.querySelector(':scope > ul')?.textContent.includes('South Inspections'))`); !nested {
		t.Errorf("South Inspections is not shown under South in the tree")
	}
	pe.labelled("business units")

	// A new role, built in the grid.
	run("new role", click(`.subnav a[href="#/security/roles"]`), visible(`#nr-name`), fill(`#nr-name`, "Site Inspector"),
		click(`form[aria-label="New role"] button[type="submit"]`), visible(`.privilege-grid button.cell`))
	roleID := eval[string](t, ctx, `decodeURIComponent(location.hash.split('/').pop())`)
	cell := func(key string) string { return `.privilege-grid button.cell[data-key="` + key + `"]` }
	depth := func(key string) int {
		return eval[int](t, ctx, `+document.querySelector('`+cell(key)+`').dataset.depth`)
	}
	// Five depths for a user-owned table: account read goes to
	// parent: child in three clicks; product (organization owned) takes
	// only none and organization.
	run("cycle account read", click(cell("account.read")), click(cell("account.read")), click(cell("account.read")), poll(`document.querySelector('`+cell("account.read")+`').dataset.depth === '3'`, 5*time.Second))
	run("cycle account create", click(cell("account.create")), poll(`document.querySelector('`+cell("account.create")+`').dataset.depth === '1'`, 5*time.Second))
	run("cycle product read", click(cell("product.read")), poll(`document.querySelector('`+cell("product.read")+`').dataset.depth === '4'`, 5*time.Second),
		click(cell("product.read")), poll(`document.querySelector('`+cell("product.read")+`').dataset.depth === '0'`, 5*time.Second),
		click(cell("product.read")))
	// The keyboard: from account read, right to write, Enter twice (business unit).
	run("keyboard", chromedp.Focus(chromedp.CSS(cell("account.read"))), chromedp.KeyEvent(kb.ArrowRight),
		poll(`document.activeElement?.dataset.key === 'account.write'`, 5*time.Second), chromedp.KeyEvent("\r"), chromedp.KeyEvent(" "),
		poll(`document.querySelector('`+cell("account.write")+`').dataset.depth === '2'`, 5*time.Second))
	if n := eval[int](t, ctx, `document.querySelectorAll('.privilege-grid button.cell[tabindex="0"]').length`); n != 1 {
		t.Errorf("the grid has %d tab stops, want one (arrow keys move inside it)", n)
	}
	if d := depth("product.read"); d != 4 {
		t.Errorf("product read is %d after three clicks; organization-owned tables cycle none ↔ organization", d)
	}
	run("save role", click(`button.save-privileges`), contains(`.privileges [role="status"]`, "Saved"),
		script(`(document.activeElement.blur(), scrollTo(0, 0), true)`), pe.shot("portal-security-role-grid"))
	var grants struct {
		Value []struct {
			Table, Privilege string
			Depth            int
		} `json:"value"`
		Predefined bool `json:"predefined"`
	}
	serverGet(t, server+"/api/security/roles/"+roleID+"/privileges", admin, &grants)
	got := map[string]int{}
	for _, g := range grants.Value {
		got[g.Table+"."+g.Privilege] = g.Depth
	}
	if want := map[string]int{"account.read": 3, "account.create": 1, "account.write": 2, "product.read": 4}; len(got) != len(want) || got["account.read"] != 3 || got["account.create"] != 1 || got["account.write"] != 2 || got["product.read"] != 4 {
		t.Errorf("the role's privileges after Save: %v, want %v", got, want)
	}
	pe.labelled("role grid")

	// Predefined roles are read-only: no buttons, the reason shown.
	const basicUser = "00000000-0000-4000-8000-000000000004"
	run("predefined", script(`(location.hash = '#/security/roles/`+basicUser+`', true)`), visible(`.privilege-grid span.cell`),
		contains(`.privileges [role="note"]`, "predefined"))
	if n := eval[int](t, ctx, `document.querySelectorAll('.privilege-grid button, button.save-privileges').length`); n != 0 {
		t.Errorf("the predefined Basic User role shows %d editable cells or Save", n)
	}
	if d := eval[string](t, ctx, `document.querySelector('.privilege-grid span.cell[data-key="account.read"]').dataset.depth`); d != "1" {
		t.Errorf("Basic User's account read shows depth %s, want 1 (user)", d)
	}
	run("predefined admin", script(`(location.hash = '#/security/roles/00000000-0000-4000-8000-000000000001', true)`),
		poll(`document.querySelector('.privileges h2')?.textContent.includes('System Administrator') && document.querySelector('.privilege-grid span.cell[data-key="workorder.delete"]')?.dataset.depth === '4'`, 10*time.Second),
		pe.shot("portal-security-predefined"))

	// A new user in South, with a password and a manager.
	run("new user", click(`.subnav a[href="#/security/users"]`), visible(`#nu-fullname`),
		fill(`#nu-fullname`, "Ana Inspector"), fill(`#nu-domainname`, "ana@contoso.example"))
	managerID := optionByText(t, pe, "#nu-manager", "Max Manager")
	run("new user fields", selectValue(`#nu-bu`, optionByText(t, pe, "#nu-bu", "South")), selectValue(`#nu-manager`, managerID),
		fill(`#nu-password`, "first-Lantern-4821"), click(`form[aria-label="New user"] button[type="submit"]`), visible(`#u-fullname`),
		contains(`.record-title`, "ana@contoso.example"), poll(`document.querySelector('#u-fullname').value === 'Ana Inspector'`, 5*time.Second))
	anaID := eval[string](t, ctx, `decodeURIComponent(location.hash.split('/').pop())`)
	if code := login(t, server, "ana@contoso.example", "first-Lantern-4821"); code != http.StatusOK {
		t.Errorf("Ana cannot sign in with the password given at creation: %d", code)
	}

	// The role and a team, each checked at once through the API.
	northTeam := eval[string](t, ctx, `[...document.querySelectorAll('input[name="teams"]')].find(i => i.parentElement.textContent.includes('North Field Team')).value`)
	run("give role", visible(`input[name="security-roles"][value="`+roleID+`"]`), click(`input[name="security-roles"][value="`+roleID+`"]`),
		click(`input[name="teams"][value="`+northTeam+`"]`))
	var links struct {
		Value []map[string]any `json:"value"`
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		serverGet(t, server+"/api/data/systemuserroles?$filter=systemuserid%20eq%20"+anaID, admin, &links)
		if len(links.Value) != 1 || links.Value[0]["roleid"] != roleID {
			return fmt.Errorf("Ana's roles = %v, want Site Inspector alone", links.Value)
		}
		return nil
	})
	testenv.WaitFor(t, 5*time.Second, func() error {
		serverGet(t, server+"/api/data/teammembership?$filter=systemuserid%20eq%20"+anaID, admin, &links)
		if len(links.Value) != 1 || links.Value[0]["teamid"] != northTeam {
			return fmt.Errorf("Ana's teams = %v, want the North Field Team alone", links.Value)
		}
		return nil
	})

	// A weak password is refused at the field; then the reset.
	run("weak password", fill(`#u-password`, "short"), click(`form[aria-label="Reset password"] button[type="submit"]`), visible(`#u-password-error`),
		contains(`#u-password-error`, "characters"), pe.shot("portal-security-password-error"),
		fill(`#u-password`, "second-Compass-7315"), click(`form[aria-label="Reset password"] button[type="submit"]`),
		contains(`form[aria-label="Reset password"] [role="status"]`, "password of Ana Inspector is set"),
		script(`(document.activeElement.blur(), scrollTo(0, 0), true)`), pe.shot("portal-security-user"))
	var ana map[string]any
	serverGet(t, server+"/api/data/systemuser("+anaID+")", admin, &ana)
	southID := optionByText(t, pe, "#u-bu", "South")
	if ana["businessunitid"] != southID || ana["parentsystemuserid"] != managerID {
		t.Errorf("Ana's business unit %v and manager %v; want South %s and %s", ana["businessunitid"], ana["parentsystemuserid"], southID, managerID)
	}
	pe.labelled("user")

	// Disable and enable again: the list says so.
	run("disable", click(`input[name="isdisabled"]`), poll(`document.querySelector('input[name="isdisabled"]').checked`, 5*time.Second))
	run("save disabled", click(`form[aria-label="User"] button[type="submit"]`), contains(`form[aria-label="User"] [role="status"]`, "Saved"))
	run("disabled badge", contains(`.record-title`, "Disabled"))
	run("enable", click(`input[name="isdisabled"]`), click(`form[aria-label="User"] button[type="submit"]`),
		poll(`!document.querySelector('.record-title').textContent.includes('Disabled')`, 5*time.Second))

	// The team page lists Ana among the members.
	run("team page", script(`(location.hash = '#/security/teams/`+northTeam+`', true)`), visible(`input[name="members"][value="`+anaID+`"]`),
		poll(`document.querySelector('input[name="members"][value="`+anaID+`"]').checked`, 5*time.Second), pe.shot("portal-security-team"))
	pe.labelled("team")

	// Ana signs in with the new password; the old one is gone.
	if code := login(t, server, "ana@contoso.example", "first-Lantern-4821"); code != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: %d", code)
	}
	run("ana signs in", click(`.navbar button.switch`), visible(`#username`), fill(`#username`, "ana@contoso.example"), fill(`#password`, "second-Compass-7315"),
		click(`.signin button[type="submit"]`), visible(`.refusal`))

	// The maker (a customizer) reads the security pages but changes nothing.
	run("maker", click(`.refusal button`), visible(`#username`), click(`.signin button.link`), visible(`#token`), fill(`#token`, pe.token("maker@")),
		click(`button[type="submit"]`), visible(`.navbar`), script(`(location.hash = '#/security/users', true)`), visible(`.users-list`),
		contains(`.read-only`, "Create privilege on User"))
	if n := eval[int](t, ctx, `document.querySelectorAll('form[aria-label="New user"]').length`); n != 0 {
		t.Errorf("the maker is offered New user")
	}
	run("maker user", script(`(location.hash = '#/security/users/`+anaID+`', true)`), visible(`#u-fullname`), contains(`.links`, "systemuserroles"),
		contains(`.editor`, "Only administrators set other users' passwords"),
		pe.shot("portal-security-readonly"))
	if dis := eval[bool](t, ctx, `document.querySelector('#u-fullname').matches(':disabled')`); !dis {
		t.Errorf("the maker may edit a user's name")
	}
	run("maker role", script(`(location.hash = '#/security/roles/`+roleID+`', true)`), visible(`.privilege-grid span.cell`),
		contains(`.privileges [role="note"]`, "Only administrators"))

	// A tablet: one column, nothing sideways.
	run("tablet", chromedp.EmulateViewport(820, 1180, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		script(`(scrollTo(0, 0), true)`), visible(`.privilege-grid`), pe.shot("portal-security-role-grid-tablet"))
	pe.noSideways("the role grid")
	run("tablet user", script(`(location.hash = '#/security/users/`+anaID+`', true)`), visible(`#u-fullname`))
	pe.noSideways("the user page")
	if cols := eval[string](t, ctx, `getComputedStyle(document.querySelector('.editor')).gridTemplateColumns`); strings.Count(cols, "px") != 1 {
		t.Errorf("at 820 px the user page has columns %q, want one", cols)
	}
	pe.labelled("tablet user")
	t.Logf("portal security browser test took %v; screenshots in %s", time.Since(began).Round(time.Millisecond), pe.shots)
}

// optionByText is the value of the option of a select whose text, trimmed, is text.
func optionByText(t *testing.T, pe *portalEnv, sel, text string) string {
	t.Helper()
	sb, _ := json.Marshal(sel)
	tb, _ := json.Marshal(text)
	v := eval[string](t, pe.ctx, `[...document.querySelector(`+string(sb)+`).options].find(o => o.textContent.replace(/\u00a0/g, ' ').trim() === `+string(tb)+`)?.value ?? ''`)
	if v == "" {
		t.Fatalf("%s has no option %q", sel, text)
	}
	return v
}

// login signs in with a password through the API and returns the status.
func login(t *testing.T, server, user, password string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": password, "mode": "session"})
	resp, err := http.Post(server+"/api/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
