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
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
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
}
