package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// FuzzDataAPI sends arbitrary paths, query strings and bodies to the data
// and metadata APIs: the server must never answer 500 or panic, and a
// Basic User must never read rows that are not theirs.
func FuzzDataAPI(f *testing.F) {
	seeds := []struct {
		method int
		path   string
		body   string
	}{
		{0, "/api/data/account?$filter=name eq 'x'", ""},
		{0, "/api/data/account?$filter=contains(name,'%')&$orderby=name desc&$top=2", ""},
		{0, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", ""},
		{1, "/api/data/account", `{"name":"a","revenue":1e400}`},
		{1, "/api/data/contact", `{"lastname":"x","birthdate":"2026-13-45"}`},
		{1, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)/share", `{"principalid":"x"}`},
		{2, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", `{"name":null}`},
		{3, "/api/data/account()", ""},
		{1, "/api/metadata/tables", `{"name":"zz","columns":[{"name":"a1","type":"choice","options":[]}]}`},
		{0, "/api/data/account?$filter=((((((((((", ""},
		{0, "/api/data/account?$select=,,&$skiptoken=-1", ""},
		{0, "/api/data/account?$orderby=" + strings.Repeat("name,", 2000) + "name", ""},
		{0, "/api/data/account?$select=" + strings.Repeat("name,", 600) + "name", ""},
		{0, "/api/data/account?$filter=" + strings.Repeat("name eq 'x' or ", 250) + "name eq 'x'", ""},
		{0, "/api/data/account?$filter=name eq 'a%00b'", ""},
		{1, "/api/data/account", `{"name":"a\u0000b"}`},
		{1, "/api/metadata/tables", `{"name":"outpost_setting"}`},
		{1, "/api/metadata/tables", `{"name":"sqlite_x","displayName":"\u0000"}`},
		{1, "/api/offline/profiles", `{"name":"p\u0000"}`},
		{2, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", `{"\u0000":1}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	fx := newFixture(f, fuzzEngine(f))
	_, acc := fx.doTB(f, "POST", "/api/data/account", fx.admin, `{"name":"secret","ownerid":"`+fx.userID+`"}`)
	_ = acc
	methods := []string{"GET", "POST", "PATCH", "DELETE"}
	f.Fuzz(func(t *testing.T, method int, path, body string) {
		if method < 0 {
			method = -method
		}
		if !strings.HasPrefix(path, "/api/") {
			path = "/api/data/" + path
		}
		req, err := http.NewRequest(methods[method%4], fx.srv.URL+path, strings.NewReader(body))
		if err != nil {
			return // not a URL at all
		}
		req.Header.Set("Authorization", "Bearer "+fx.user)
		rec := httptest.NewRecorder()
		fx.srv.Config.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", req.Method, path, body, rec.Code, rec.Body.String())
		}
	})
}

// fuzzEngine is the engine the fuzz targets run on: PostgreSQL when
// OUTPOST_TEST_POSTGRES is set (it refuses more input than SQLite, such as
// NUL in text), SQLite otherwise.
func fuzzEngine(f *testing.F) testenv.Engine {
	es := testenv.Engines(f)
	return es[len(es)-1]
}
