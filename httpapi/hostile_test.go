package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// TestNULInTextIsRefused sends text holding NUL (U+0000) everywhere text
// enters: data values, query options, profile, app and solution names,
// role names. Both engines answer the same 400 naming the field; nothing is
// stored.
func TestNULInTextIsRefused(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, _, tokens := offlineFixture(t, e)
		maker, nora, admin := f.admin, f.user, tokens["admin@contoso.example"]
		cases := []struct {
			method, path, token, body, target string
		}{
			{"POST", "/api/data/account", nora, `{"name":"a\u0000b"}`, "name"},
			{"POST", "/api/data/contact", nora, `{"lastname":"x","firstname":"\u0000"}`, "firstname"},
			{"GET", "/api/data/account?$filter=name%20eq%20%27a%00b%27", nora, ``, "$filter"},
			{"GET", "/api/data/account?$select=name%00", nora, ``, "$select"},
			{"POST", "/api/offline/profiles", maker, `{"name":"p\u0000","description":"d"}`, "name"},
			{"POST", "/api/offline/profiles", maker, `{"name":"p","description":"\u0000"}`, "description"},
			{"POST", "/api/offline/solutions", maker, `{"uniqueName":"solnul","name":"s\u0000"}`, "name"},
			{"POST", "/api/data/role", admin, `{"name":"r\u0000"}`, "name"},
		}
		for _, c := range cases {
			st, body := f.do(t, c.method, c.path, c.token, c.body)
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if st != http.StatusBadRequest || e["target"] != c.target || !strings.Contains(msg, "NUL") {
				t.Errorf("%s %s %s: %d %v; want 400 naming %q and NUL", c.method, c.path, c.body, st, body, c.target)
			}
		}
		st, body := f.do(t, "GET", "/api/offline/solutions", maker, "")
		if raw, _ := json.Marshal(body); st != 200 || strings.Contains(string(raw), "solnul") {
			t.Errorf("a refused solution was stored: %d %v", st, body)
		}
	})
}

// TestQuerySizeLimits sends $orderby, $select and $filter far over their
// caps, and at their caps: over answers 400 naming the option and the cap,
// at the cap answers 200, on both engines.
func TestQuerySizeLimits(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		if st, body := f.do(t, "POST", "/api/data/account", f.user, `{"name":"a"}`); st != http.StatusCreated {
			t.Fatalf("create: %d %v", st, body)
		}
		terms := func(n int, term, sep string) string {
			return strings.TrimSuffix(strings.Repeat(term+sep, n), sep)
		}
		over := []struct{ query, target, cap string }{
			{"$orderby=" + terms(2000, "name", ","), "$orderby", "at most 16"},
			{"$orderby=" + terms(17, "name", ","), "$orderby", "at most 16"},
			{"$select=" + terms(5000, "name", ","), "$select", "at most 500"},
			{"$filter=" + terms(600, "name%20eq%20%27x%27", "%20or%20"), "$filter", "at most 8000"},
			{"$filter=" + terms(300, "name%20eq%20%27x%27", "%20or%20"), "$filter", "at most 200 conditions"},
			{"$filter=" + terms(120, "not%20(", "") + "name%20eq%20%27x%27" + strings.Repeat(")", 120), "$filter", "at most 100 levels"},
		}
		for _, c := range over {
			st, body := f.do(t, "GET", "/api/data/account?"+c.query, f.user, "")
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if st != http.StatusBadRequest || e["target"] != c.target || !strings.Contains(msg, c.cap) {
				t.Errorf("%.80s…: %d %v; want 400 on %s saying %q", c.query, st, body, c.target, c.cap)
			}
		}
		at := []string{
			"$orderby=" + terms(16, "name", ","),
			"$select=" + terms(500, "name", ","),
			"$filter=" + terms(200, "name%20eq%20%27x%27", "%20or%20"),
			"$filter=name%20in%20(" + terms(1000, "%27x%27", ",") + ")",
		}
		for _, q := range at {
			if st, body := f.do(t, "GET", "/api/data/account?"+q, f.user, ""); st != http.StatusOK {
				t.Errorf("%.80s…: %d %v; want 200", q, st, body)
			}
		}
	})
}
