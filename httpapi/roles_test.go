package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/security"
)

// TestRolePrivilegesReply checks what the role editor reads: a role's
// grants, whether it is predefined (and so cannot be changed) and whether
// it is the System Administrator role, which stores no grants.
func TestRolePrivilegesReply(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		code, rg := f.do(t, "GET", "/api/security/roles/"+security.RoleSystemAdministrator+"/privileges", f.admin, "")
		if code != http.StatusOK || rg["predefined"] != true || rg["admin"] != true || len(rg["value"].([]any)) != 0 {
			t.Fatalf("System Administrator: %d %v; want predefined, admin and no stored grants", code, rg)
		}
		code, rg = f.do(t, "GET", "/api/security/roles/"+security.RoleBasicUser+"/privileges", f.admin, "")
		if code != http.StatusOK || rg["predefined"] != true || rg["admin"] != false || len(rg["value"].([]any)) == 0 {
			t.Fatalf("Basic User: %d %v; want predefined with grants, not admin", code, rg)
		}
		code, role := f.do(t, "POST", "/api/data/role", f.admin, `{"name":"Inspector"}`)
		if code != http.StatusCreated {
			t.Fatalf("create role: %d %v", code, role)
		}
		id := role["roleid"].(string)
		if code, body := f.do(t, "PUT", "/api/security/roles/"+id+"/privileges", f.admin,
			`{"privileges":[{"table":"account","privilege":"read","depth":3},{"table":"task","privilege":"write","depth":1}]}`); code != http.StatusNoContent {
			t.Fatalf("set privileges: %d %v", code, body)
		}
		code, rg = f.do(t, "GET", "/api/security/roles/"+id+"/privileges", f.admin, "")
		if code != http.StatusOK || rg["predefined"] != false || rg["admin"] != false {
			t.Fatalf("new role: %d %v; want neither predefined nor admin", code, rg)
		}
		got := map[string]float64{}
		for _, g := range rg["value"].([]any) {
			m := g.(map[string]any)
			got[m["table"].(string)+"."+m["privilege"].(string)] = m["depth"].(float64)
		}
		if len(got) != 2 || got["account.read"] != 3 || got["task.write"] != 1 {
			t.Errorf("new role's grants: %v", got)
		}
		// A predefined role is refused at its id; a user who may not
		// read roles learns nothing of the new one.
		if code, body := f.do(t, "PUT", "/api/security/roles/"+security.RoleBasicUser+"/privileges", f.admin, `{"privileges":[]}`); code != http.StatusBadRequest || body["error"].(map[string]any)["target"] != "roleid" {
			t.Errorf("changing a predefined role: %d %v, want 400 at roleid", code, body)
		}
		if code, _ := f.do(t, "GET", "/api/security/roles/"+id+"/privileges", f.user, ""); code != http.StatusNotFound && code != http.StatusForbidden {
			t.Errorf("a basic user reads a role's privileges: %d", code)
		}
	})
}
