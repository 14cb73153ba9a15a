package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// offlineFixture serves the seeded demo with the offline routes.
func offlineFixture(t *testing.T, e testenv.Engine) (*fixture, *demo.Env, map[string]string) {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: apps.New(p)}))
	t.Cleanup(srv.Close)
	tokens := map[string]string{}
	for _, u := range env.Users() {
		if tokens[u.DomainName], err = p.IssueToken(ctx, platform.System(), u.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{srv: srv, p: p, admin: tokens["maker@contoso.example"], user: tokens["nora@contoso.example"], userID: env.Technicians[0].ID}
	return f, env, tokens
}

func wantError(t *testing.T, status int, body map[string]any, wantStatus int, code, msg, target string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	if status != wantStatus || e["code"] != code || e["message"] != msg || (target != "" && e["target"] != target) {
		t.Errorf("got %d %v\nwant %d %s %q (target %q)", status, body, wantStatus, code, msg, target)
	}
}

func TestOfflineOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, env, _ := offlineFixture(t, e)
		maker, nora := f.admin, f.user
		// Create, edit, validate and publish a profile.
		st, body := f.do(t, "POST", "/api/offline/profiles", maker, `{"name":"Inspections","description":"d"}`)
		if st != http.StatusCreated {
			t.Fatalf("create: %d %v", st, body)
		}
		id := body["id"].(string)
		st, body = f.do(t, "PUT", "/api/offline/profiles/"+id+"/items/workorder", maker, `{"rule":2,"filterText":"priority eq 3"}`)
		if st != http.StatusOK || body["draft"] != true {
			t.Fatalf("put item: %d %v", st, body)
		}
		st, body = f.do(t, "POST", "/api/offline/profiles/"+id+"/publish", maker, "")
		wantError(t, st, body, 400, "invalid", `profile "Inspections" cannot be published: table "workorder": Organization rows needs at least one of user's rows, team rows or business-unit rows; table "workorder": a filter applies only to the Custom rule, not Organization rows`, "items.workorder")
		st, body = f.do(t, "PUT", "/api/offline/profiles/"+id+"/items/workorder", maker, `{"rule":"custom","filterText":"priority eq 3","intervalMinutes":15}`)
		if st != http.StatusOK {
			t.Fatalf("put item: %d %v", st, body)
		}
		st, body = f.do(t, "POST", "/api/offline/profiles/"+id+"/validate", maker, "")
		if st != http.StatusOK || body["valid"] != true {
			t.Fatalf("validate: %d %v", st, body)
		}
		st, body = f.do(t, "POST", "/api/offline/profiles/"+id+"/publish", maker, "")
		if st != http.StatusOK {
			t.Fatalf("publish: %d %v", st, body)
		}
		// The device user's plan and the maker's preview.
		st, body = f.do(t, "GET", "/api/offline/profiles/"+id+"/plan", nora, "")
		if st != http.StatusOK || len(body["items"].([]any)) != 1 {
			t.Fatalf("plan: %d %v", st, body)
		}
		st, body = f.do(t, "GET", "/api/offline/profiles/"+env.ProfileID+"/preview?published=true&user="+env.Technicians[0].ID, maker, "")
		if st != http.StatusOK || body["totalRows"].(float64) == 0 {
			t.Fatalf("preview: %d %v", st, body)
		}
		st, body = f.do(t, "GET", "/api/offline/profiles/"+env.ProfileID+"/preview?user=x", maker, "")
		wantError(t, st, body, 400, "invalid", `user "x" is not a user id`, "user")
		st, body = f.do(t, "GET", "/api/offline/apps/"+env.ModelDrivenApp+"/profile", nora, "")
		if st != http.StatusOK || body["profileId"] != env.ProfileID || body["kind"] != "modeldriven" {
			t.Fatalf("app profile: %d %v", st, body)
		}
		st, body = f.do(t, "GET", "/api/offline/profiles/"+env.ProfileID+"/apps", maker, "")
		if st != http.StatusOK || len(body["value"].([]any)) != 2 {
			t.Fatalf("app usage: %d %v", st, body)
		}
		// Bad input gets a clear 4xx.
		for _, tt := range []struct {
			method, path, token, body string
			status                    int
			code, msg                 string
		}{
			{"POST", "/api/offline/profiles", maker, `{"name":""}`, 400, "invalid", "name is required"},
			{"POST", "/api/offline/profiles", maker, `{"name":"x","bogus":1}`, 400, "invalid", `unknown field "bogus"`},
			{"POST", "/api/offline/profiles", nora, `{"name":"x"}`, 403, "forbidden", `you lack the create privilege on table "mobileofflineprofile"`},
			{"GET", "/api/offline/profiles/nope", maker, "", 400, "invalid", `"nope" is not a row id: use a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301`},
			{"GET", "/api/offline/profiles/00000000-0000-4000-8000-00000000abcd", maker, "", 404, "not_found", "no offline profile has id 00000000-0000-4000-8000-00000000abcd"},
			{"PUT", "/api/offline/profiles/" + id + "/items/role", maker, `{"rule":"all"}`, 400, "invalid", `table "role" is not enabled for offline: turn on "Can be taken offline" first`},
			{"PUT", "/api/offline/profiles/" + id + "/items/account", maker, `{"table":"contact","rule":"all"}`, 400, "invalid", `the body names table "contact" but the path names "account"`},
			{"PUT", "/api/offline/apps/" + env.CanvasApp + "/offline", maker, `{"enabled":true}`, 400, "invalid", "an offline app needs exactly one profile: set profileId"},
			{"GET", "/api/offline/solutions/nope", maker, "", 404, "not_found", `no solution is named "nope"`},
			{"POST", "/api/offline/solutions/import", maker, "not a zip", 400, "invalid", "the archive is not a valid zip file: zip: not a valid zip file"},
			{"GET", "/api/offline/profiles", "", "", 401, "unauthorized", "send a bearer token in the Authorization header (outpost admin token create issues one)"},
		} {
			st, body := f.do(t, tt.method, tt.path, tt.token, tt.body)
			wantError(t, st, body, tt.status, tt.code, tt.msg, "")
		}
		// Export the demo solution and import it back (an update).
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/offline/solutions/"+demo.SolutionName+"/export", nil)
		req.Header.Set("Authorization", "Bearer "+maker)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		zip, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("export: %d %s", res.StatusCode, zip)
		}
		req, _ = http.NewRequest("POST", f.srv.URL+"/api/offline/solutions/import?publish=true", bytes.NewReader(zip))
		req.Header.Set("Authorization", "Bearer "+maker)
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var imp map[string]any
		_ = json.NewDecoder(res.Body).Decode(&imp)
		res.Body.Close()
		if res.StatusCode != 200 || len(imp["published"].([]any)) != 1 {
			t.Fatalf("import: %d %v", res.StatusCode, imp)
		}
	})
}
