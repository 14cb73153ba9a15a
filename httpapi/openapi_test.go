package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Parameters  []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPIDescribesEveryRoute walks the routes the server registers (with
// the offline and sync routes on) and fails on any openapi.json does not
// describe, on any it describes that the server does not serve, on a path
// parameter it does not declare, and on an operation without the error
// envelope as its default response.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := testenv.Engines(t)[0]
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p)
	portal := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>portal</title>")}}
	s := httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{}), Portal: portal})

	var doc openAPIDoc
	if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	param := regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`)
	served := map[string]bool{}
	for _, pat := range s.Routes() {
		method, path, ok := strings.Cut(pat, " ")
		if !ok {
			t.Errorf("route %q has no method", pat)
			continue
		}
		if path == "/portal" || strings.HasPrefix(path, "/portal/") {
			continue // the portal's static files, not API routes
		}
		path = param.ReplaceAllString(path, "{$1}")
		served[method+" "+path] = true
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s is not described in openapi.json", pat)
			continue
		}
		if op.OperationID == "" {
			t.Errorf("%s %s has no operationId", method, path)
		}
		for _, m := range param.FindAllStringSubmatch(path, -1) {
			if !slices.ContainsFunc(op.Parameters, func(p struct {
				Name string `json:"name"`
				In   string `json:"in"`
			}) bool {
				return p.Name == m[1] && p.In == "path"
			}) {
				t.Errorf("%s %s does not declare path parameter %s", method, path, m[1])
			}
		}
		if !strings.Contains(string(op.Responses["default"]), "#/components/schemas/ErrorBody") {
			t.Errorf("%s %s: default response is not the ErrorBody envelope", method, path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if strings.HasPrefix(path, "/api/auth/oidc/") {
				continue // served only with single sign-on configured (TestOIDCSignIn covers them)
			}
			if !served[strings.ToUpper(method)+" "+path] {
				t.Errorf("openapi.json describes %s %s, which the server does not serve", strings.ToUpper(method), path)
			}
		}
	}
	// Every reference resolves.
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(httpapi.OpenAPI), -1) {
		if _, ok := doc.Components.Schemas[m[1]]; !ok {
			t.Errorf("openapi.json refers to schema %s, which it does not define", m[1])
		}
	}

	// It is served without a token.
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || string(body) != string(httpapi.OpenAPI) {
		t.Errorf("GET /api/openapi.json: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	// So is the portal, under /portal/.
	resp, err = http.Get(srv.URL + "/portal")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/portal/" || !strings.Contains(string(body), "<title>portal</title>") {
		t.Errorf("GET /portal: %d at %s: %s", resp.StatusCode, resp.Request.URL.Path, body)
	}
}

// TestOpenAPISchemasMatchReplies checks the documented schemas against real
// replies of the routes the portal reads most: every field a reply carries
// is a property of its schema.
func TestOpenAPISchemasMatchReplies(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, _, _ := offlineFixture(t, e)
		check := func(schema string, v any) { t.Helper(); checkSchema(t, schema, v) }
		first := func(v any) any { return v.(map[string]any)["value"].([]any)[0] }
		_, who := f.do(t, "GET", "/api/whoami", f.admin, "")
		check("Whoami", who)
		_, tables := f.do(t, "GET", "/api/metadata/tables", f.admin, "")
		for _, tb := range tables["value"].([]any) {
			check("Table", tb)
			for _, c := range tb.(map[string]any)["columns"].([]any) {
				check("Column", c)
			}
		}
		_, rels := f.do(t, "GET", "/api/metadata/tables/account/relationships", f.admin, "")
		check("Relationship", first(rels))
		_, profs := f.do(t, "GET", "/api/offline/profiles", f.admin, "")
		pr := first(profs).(map[string]any)
		check("Profile", pr)
		for _, it := range pr["items"].([]any) {
			check("Item", it)
		}
		id := pr["id"].(string)
		_, v := f.do(t, "POST", "/api/offline/profiles/"+id+"/validate", f.admin, "")
		check("Validation", v)
		_, ic := f.do(t, "POST", "/api/offline/profiles/"+id+"/items/workorder/check", f.admin, `{"rule":"custom","filterText":"priority ge 2"}`)
		check("ItemCheck", ic)
		check("RelationshipCount", ic["counts"].([]any)[0])
		_, bad := f.do(t, "POST", "/api/offline/profiles/"+id+"/items/workorder/check", f.admin, `{"rule":"custom","filterText":"nosuch eq 1"}`)
		check("ItemCheck", bad)
		_, ops := f.do(t, "GET", "/api/metadata/tables/workorder/operators", f.admin, "")
		check("ColumnOperatorsList", ops)
		_, tf := f.do(t, "POST", "/api/metadata/tables/workorder/filter", f.admin, `{"filterText":"priority ge 2"}`)
		check("TableFilter", tf)
		_, tf = f.do(t, "POST", "/api/metadata/tables/workorder/filter", f.admin, `{}`)
		check("TableFilter", tf)
		_, pv := f.do(t, "GET", "/api/offline/profiles/"+id+"/preview?user="+f.userID, f.admin, "")
		check("Preview", pv)
		check("PreviewItem", pv["items"].([]any)[0])
		_, apps := f.do(t, "GET", "/api/offline/apps", f.admin, "")
		check("App", first(apps))
		_, rg := f.do(t, "GET", "/api/security/roles/"+security.RoleBasicUser+"/privileges", f.admin, "")
		check("RoleGrants", rg)
		check("Grant", first(rg))
		st, bad := f.do(t, "GET", "/api/metadata/tables/nosuch", f.admin, "")
		if st != http.StatusNotFound {
			t.Fatalf("unknown table: %d", st)
		}
		_, sol := f.do(t, "POST", "/api/offline/solutions", f.admin, `{"uniqueName":"schemacheck"}`)
		check("Solution", sol)
		_, sol = f.do(t, "POST", "/api/offline/solutions/schemacheck/components", f.admin, `{"kind":"app","id":"`+first(apps).(map[string]any)["id"].(string)+`"}`)
		check("Solution", sol)
		check("Component", sol["components"].([]any)[0])
		_, req := f.do(t, "POST", "/api/offline/solutions/schemacheck/required", f.admin, "")
		check("RequiredResult", req)
		check("RequiredComponent", req["added"].([]any)[0])
		check("ErrorBody", bad)
		check("ErrorDetail", bad["error"])
		_, bulk := f.do(t, "POST", "/api/data/account/UpsertMultiple", f.admin, `{"Targets":[{"name":"Bulk"}]}`)
		check("BulkReply", bulk)
		_, batch := f.do(t, "POST", "/api/data/$batch", f.admin, `{"requests":[{"id":"1","method":"POST","url":"account","body":{"name":"B"},"atomicityGroup":"g"}]}`)
		check("BatchReply", batch)
		resp := batch["responses"].([]any)[0].(map[string]any)
		if resp["status"] != float64(201) {
			t.Fatalf("batch: %v", batch)
		}
		var item struct {
			Properties struct {
				Responses struct {
					Items struct {
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"items"`
				} `json:"responses"`
			} `json:"properties"`
		}
		var doc openAPIDoc
		if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(doc.Components.Schemas["BatchReply"], &item)
		for k := range resp {
			if _, ok := item.Properties.Responses.Items.Properties[k]; !ok {
				t.Errorf("schema BatchReply's responses lack %q, which the reply carries", k)
			}
		}
	})
}

// checkSchema fails when reply v is not an object or carries a field that
// openapi.json's schema name does not describe.
func checkSchema(t *testing.T, name string, v any) {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas[name], &s); err != nil || s.Properties == nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: reply %v is not an object", name, v)
	}
	for k := range m {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("schema %s lacks %q, which the reply carries", name, k)
		}
	}
}
