package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

type fixture struct {
	srv         *httptest.Server
	p           *platform.Platform
	admin, user string // tokens
	userID      string
}

func newFixture(t testing.TB, e testenv.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(p, httpapi.Options{MaxBodyBytes: 64 << 10}))
	t.Cleanup(srv.Close)
	sys := platform.System()
	f := &fixture{srv: srv, p: p}
	adminID, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "Admin", DomainName: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AssignUserRole(ctx, sys, adminID, security.RoleSystemAdministrator); err != nil {
		t.Fatal(err)
	}
	f.userID, err = p.CreateUser(ctx, sys, platform.UserInput{FullName: "User", DomainName: "user"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AssignUserRole(ctx, sys, f.userID, security.RoleBasicUser); err != nil {
		t.Fatal(err)
	}
	if f.admin, err = p.IssueToken(ctx, sys, adminID, "test"); err != nil {
		t.Fatal(err)
	}
	if f.user, err = p.IssueToken(ctx, sys, f.userID, "test"); err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends a request and decodes the JSON reply.
func (f *fixture) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	return f.doTB(t, method, path, token, body)
}

func (f *fixture) doTB(t testing.TB, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: reply is not JSON: %s", method, path, data)
		}
	}
	return res.StatusCode, out
}

func TestCRUDOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		code, row := f.do(t, "POST", "/api/data/account", f.user, `{"name":"Contoso","telephone1":"555"}`)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, row)
		}
		id := row["accountid"].(string)
		if row["ownerid"] != f.userID {
			t.Errorf("owner = %v, want the caller", row["ownerid"])
		}
		code, row = f.do(t, "PATCH", "/api/data/account("+id+")", f.user, `{"telephone1":"556"}`)
		if code != 200 || row["telephone1"] != "556" || row["name"] != "Contoso" {
			t.Fatalf("patch: %d %v", code, row)
		}
		code, row = f.do(t, "GET", "/api/data/account("+id+")?$select=name", f.user, "")
		if code != 200 || row["name"] != "Contoso" || row["telephone1"] != nil {
			t.Fatalf("get with $select: %d %v", code, row)
		}
		for i := range 4 {
			f.do(t, "POST", "/api/data/account", f.user, `{"name":"A`+string(rune('0'+i))+`"}`)
		}
		// Follow @odata.nextLink through every page.
		total, req := f.pages(t, "/api/data/account?$count=true&$orderby=name", func(page map[string]any) {
			if page["@odata.count"] != float64(5) {
				t.Fatalf("count = %v", page["@odata.count"])
			}
		})
		if total != 5 || req != 3 {
			t.Errorf("paging gave %d rows in %d pages, want 5 in 3", total, req)
		}
		// Without $orderby the server pages by key.
		total, req = f.pages(t, "/api/data/account", func(page map[string]any) {
			if next, _ := page["@odata.nextLink"].(string); next != "" && !strings.Contains(next, ".") {
				t.Fatalf("nextLink %q carries no key", next)
			}
		})
		if total != 5 || req != 3 {
			t.Errorf("keyset paging gave %d rows in %d pages, want 5 in 3", total, req)
		}
		if code, _ := f.do(t, "DELETE", "/api/data/account("+id+")", f.user, ""); code != http.StatusNoContent {
			t.Fatalf("delete: %d", code)
		}
		if code, _ := f.do(t, "GET", "/api/data/account("+id+")", f.user, ""); code != http.StatusNotFound {
			t.Fatalf("get after delete: %d", code)
		}
	})
}

// pages follows @odata.nextLink from path as the user, two rows a page,
// calls each with every page, and returns the rows and pages seen.
func (f *fixture) pages(t *testing.T, path string, each func(page map[string]any)) (rows, n int) {
	t.Helper()
	for next := path; next != ""; n++ {
		r, _ := http.NewRequest("GET", f.srv.URL+next, nil)
		r.Header.Set("Authorization", "Bearer "+f.user)
		r.Header.Set("Prefer", "odata.maxpagesize=2")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		var page map[string]any
		_ = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		each(page)
		rows += len(page["value"].([]any))
		next, _ = page["@odata.nextLink"].(string)
	}
	return rows, n
}

func TestBadRequests(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		_, acc := f.do(t, "POST", "/api/data/account", f.admin, `{"name":"Other","ownerid":"`+f.userID+`"}`)
		other := acc["accountid"].(string)
		tests := []struct {
			name, method, path, token, body string
			status                          int
			code, target                    string
		}{
			{"no token", "GET", "/api/data/account", "", "", 401, "unauthorized", ""},
			{"bad token", "GET", "/api/data/account", "opt_nope", "", 401, "unauthorized", ""},
			{"not a token", "GET", "/api/data/account", "hello", "", 401, "unauthorized", ""},
			{"malformed JSON", "POST", "/api/data/account", f.user, `{"name":`, 400, "invalid", "body"},
			{"JSON array", "POST", "/api/data/account", f.user, `[1]`, 400, "invalid", ""},
			{"two values", "POST", "/api/data/account", f.user, `{"name":"a"}{"name":"b"}`, 400, "invalid", "body"},
			{"empty body", "POST", "/api/data/account", f.user, ``, 400, "invalid", "body"},
			{"unknown table", "GET", "/api/data/nope", f.user, "", 404, "not_found", "nope"},
			{"unknown column", "POST", "/api/data/account", f.user, `{"name":"a","nope":1}`, 400, "invalid", "nope"},
			{"wrong type", "POST", "/api/data/account", f.user, `{"name":true}`, 400, "invalid", "name"},
			{"oversized body", "POST", "/api/data/account", f.user, `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "too_large", ""},
			{"bad filter", "GET", "/api/data/account?$filter=name%20eq", f.user, "", 400, "invalid", "$filter"},
			{"unknown option", "GET", "/api/data/account?$expand=x", f.user, "", 400, "invalid", "$expand"},
			{"bad top", "GET", "/api/data/account?$top=-1", f.user, "", 400, "invalid", "$top"},
			{"bad id", "GET", "/api/data/account(42)", f.user, "", 400, "invalid", "id"},
			{"missing row", "GET", "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", f.user, "", 404, "not_found", "id"},
			{"no create privilege", "POST", "/api/data/product_missing", f.user, `{}`, 404, "not_found", "product_missing"},
			{"no privilege on role", "POST", "/api/data/role", f.user, `{"name":"r"}`, 403, "forbidden", "role"},
			{"metadata needs a maker", "POST", "/api/metadata/tables", f.user, `{"name":"t1"}`, 403, "forbidden", ""},
			{"metadata unknown field", "POST", "/api/metadata/tables", f.admin, `{"name":"t1","bogus":1}`, 400, "invalid", "bogus"},
			{"changes need admin", "GET", "/api/changes/account", f.user, "", 403, "forbidden", ""},
			{"token for another user", "POST", "/api/security/users/" + other + "/tokens", f.user, "", 403, "forbidden", ""},
			{"no route", "GET", "/api/nothing", f.user, "", 404, "not_found", "/api/nothing"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := f.do(t, tt.method, tt.path, tt.token, tt.body)
				if status != tt.status {
					t.Fatalf("status = %d, want %d (%v)", status, tt.status, body)
				}
				e, _ := body["error"].(map[string]any)
				if e == nil || e["code"] != tt.code || e["message"] == "" {
					t.Fatalf("error = %v, want code %q and a message", body, tt.code)
				}
				if tt.target != "" && e["target"] != tt.target {
					t.Errorf("target = %v, want %q", e["target"], tt.target)
				}
			})
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, testenv.Engines(t)[0])
	if code, body := f.do(t, "GET", "/healthz", "", ""); code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", code, body)
	}
	f.do(t, "GET", "/api/data/account", f.user, "")
	res, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(data), `outpost_http_requests_total{code="200",route="GET /api/data/{path...}"}`) {
		t.Errorf("metrics lack the request counter:\n%.2000s", data)
	}
}

// TestOneRowWritesFollowSecurityChanges: a one-row write takes the caller's
// principal from memory and checks it in its own transaction. After the
// caller's role is removed, every write is refused as if the principal had
// been read for the request (the one-row writes, a bulk action and a
// change set on the same routes), and leaves the rows as they were; after
// it is given back they pass again; a disabled caller is not let in.
func TestOneRowWritesFollowSecurityChanges(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		sys := platform.System()
		f := newFixture(t, e)
		code, row := f.do(t, "POST", "/api/data/account", f.user, `{"name":"Before"}`)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, row)
		}
		id := row["accountid"].(string)
		if code, row = f.do(t, "PATCH", "/api/data/account("+id+")", f.user, `{"telephone1":"1"}`); code != http.StatusOK {
			t.Fatalf("patch: %d %v", code, row)
		}

		testenv.Must(t, f.p.RemoveUserRole(ctx, sys, f.userID, security.RoleBasicUser))
		refused := func(what string, code int, body map[string]any) {
			t.Helper()
			if code != http.StatusForbidden && code != http.StatusNotFound {
				t.Errorf("%s without a role: %d %v, want 403 or 404", what, code, body)
			}
		}
		code, body := f.do(t, "POST", "/api/data/account", f.user, `{"name":"After"}`)
		refused("create", code, body)
		code, body = f.do(t, "PATCH", "/api/data/account("+id+")", f.user, `{"telephone1":"2"}`)
		refused("update", code, body)
		code, body = f.do(t, "DELETE", "/api/data/account("+id+")", f.user, "")
		refused("delete", code, body)
		code, body = f.do(t, "POST", "/api/data/account/Microsoft.Dynamics.CRM.CreateMultiple", f.user, `{"Targets":[{"name":"Bulk"}]}`)
		refused("CreateMultiple", code, body)
		if code, body = f.do(t, "GET", "/api/data/account("+id+")", f.admin, ""); code != http.StatusOK || body["telephone1"] != "1" {
			t.Fatalf("the row after refused writes: %d %v, want it as it was", code, body)
		}
		if code, body = f.do(t, "GET", "/api/data/account?$filter=name%20ne%20%27Before%27&$count=true", f.admin, ""); code != http.StatusOK || body["@odata.count"] != float64(0) {
			t.Fatalf("refused creates left rows: %d %v", code, body)
		}

		testenv.Must(t, f.p.AssignUserRole(ctx, sys, f.userID, security.RoleBasicUser))
		if code, body = f.do(t, "PATCH", "/api/data/account("+id+")", f.user, `{"telephone1":"3"}`); code != http.StatusOK {
			t.Fatalf("update with the role back: %d %v", code, body)
		}
		testenv.MustGet[outpost.Row](t)(f.p.Update(ctx, sys, "systemuser", f.userID, map[string]any{"isdisabled": true}))
		if code, body = f.do(t, "POST", "/api/data/account", f.user, `{"name":"Disabled"}`); code != http.StatusUnauthorized {
			t.Fatalf("create by a disabled user: %d %v, want 401", code, body)
		}
	})
}

// TestBodyOfTheWrongShape: a body or field of the wrong JSON kind is
// refused with a 400 that names what is accepted in JSON's own words,
// never a Go type.
func TestBodyOfTheWrongShape(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		for _, c := range []struct{ method, path, body, want string }{
			{"POST", "/api/data/account", `[1]`, "the request body must be a JSON object, got a JSON array"},
			{"POST", "/api/data/account", `"x"`, "the request body must be a JSON object, got a JSON string"},
			{"POST", "/api/data/account/Microsoft.Dynamics.CRM.CreateMultiple", `{"Targets":{"name":"x"}}`, `field "Targets" takes a JSON array, got a JSON object`},
		} {
			code, body := f.do(t, c.method, c.path, f.user, c.body)
			msg, _ := body["error"].(map[string]any)["message"].(string)
			if code != http.StatusBadRequest || msg != c.want {
				t.Errorf("%s %s %s: %d %q, want 400 %q", c.method, c.path, c.body, code, msg, c.want)
			}
		}
	})
}

// TestOneRowCreateRefusalsLeaveNothing: a one-row POST may send its INSERT
// with the COMMIT (PostgreSQL), but only where nothing has to be checked
// after it: a create for an owner outside the caller's create depth is
// still refused whole, a chosen id that exists is still a 409 that leaves
// the row as it was, and what a create answers is the row as stored.
func TestOneRowCreateRefusalsLeaveNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, e)
		otherID := testenv.MustGet[string](t)(f.p.CreateUser(ctx, platform.System(), platform.UserInput{FullName: "Other", DomainName: "other"}))

		code, body := f.do(t, "POST", "/api/data/account", f.user, `{"name":"For another","ownerid":"`+otherID+`"}`)
		if code != http.StatusForbidden {
			t.Errorf("a basic user's create for another user: %d %v, want 403", code, body)
		}
		code, mine := f.do(t, "POST", "/api/data/account", f.user, `{"name":"Mine"}`)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, mine)
		}
		id := mine["accountid"].(string)
		code, read := f.do(t, "GET", "/api/data/account("+id+")", f.user, "")
		if code != http.StatusOK {
			t.Fatalf("read the created row: %d %v", code, read)
		}
		for k, v := range read {
			if k != "@odata.context" && fmt.Sprint(mine[k]) != fmt.Sprint(v) {
				t.Errorf("created row's %s: answered %v, reads %v", k, mine[k], v)
			}
		}
		code, body = f.do(t, "POST", "/api/data/account", f.user, `{"name":"Same id","accountid":"`+id+`"}`)
		if code != http.StatusConflict || body["error"].(map[string]any)["target"] != "accountid" {
			t.Errorf("a create with an id that exists: %d %v, want 409 at accountid", code, body)
		}
		if code, body = f.do(t, "GET", "/api/data/account?$filter=name%20ne%20%27Mine%27&$count=true", f.admin, ""); code != http.StatusOK || body["@odata.count"] != float64(0) {
			t.Errorf("refused creates left rows: %d %v", code, body)
		}
		if code, body = f.do(t, "GET", "/api/data/account("+id+")", f.admin, ""); code != http.StatusOK || body["name"] != "Mine" {
			t.Errorf("the row after a create with its id: %d %v", code, body)
		}
	})
}
