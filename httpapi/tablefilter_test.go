package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// POST /api/metadata/tables/{table}/filter, the expression builder's
// round trip outside a profile: text in, tree and text out; tree in, the
// same text out; errors at the field they come from, worded as saving a
// view with the same filter words them; nothing without a token.
func TestTableFilterOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, env, _ := offlineFixture(t, e)
		const path = "/api/metadata/tables/workorder/filter"
		st, body := f.do(t, "POST", path, f.admin, `{"filterText":"  completed eq false and priority ge 2 "}`)
		if st != http.StatusOK || body["filterText"] != "completed eq false and priority ge 2" || body["filter"] == nil {
			t.Fatalf("text in: %d %v", st, body)
		}
		tree, _ := json.Marshal(body["filter"])

		// The tree printed back is the same text, for any signed-in user
		// (like the other metadata reads).
		st, back := f.do(t, "POST", path, f.user, `{"filter":`+string(tree)+`}`)
		if st != http.StatusOK || back["filterText"] != body["filterText"] {
			t.Fatalf("tree in: %d %v, want the text %q", st, back, body["filterText"])
		}
		if got, _ := json.Marshal(back["filter"]); string(got) != string(tree) {
			t.Errorf("tree in came back as %s, want %s", got, tree)
		}
		st, both := f.do(t, "POST", path, f.admin, `{"filter":`+string(tree)+`,"filterText":"completed eq false and priority ge 2"}`)
		if st != http.StatusOK || both["filterText"] != body["filterText"] {
			t.Errorf("both, agreeing: %d %v", st, both)
		}
		st, body = f.do(t, "POST", path, f.admin, `{"filter":`+string(tree)+`,"filterText":"completed eq true"}`)
		wantError(t, st, body, http.StatusBadRequest, "invalid", `filterText: the filter on workorder has a filter (JSON) and a filterText that differ: send one of them`, "filterText")

		// No filter: both forms empty.
		st, body = f.do(t, "POST", path, f.admin, `{"filterText":"  "}`)
		if st != http.StatusOK || body["filter"] != nil || body["filterText"] != "" {
			t.Errorf("no filter: %d %v", st, body)
		}

		// Errors: the text's with line and column, the tree's at filter;
		// the same words as saving a view with that text.
		st, body = f.do(t, "POST", path, f.admin, `{"filterText":"completed eq"}`)
		wantError(t, st, body, http.StatusBadRequest, "invalid", `filterText:1:13: expected a value after "eq", found end of input`, "filterText")
		st, view := f.do(t, "PATCH", "/api/offline/apps/"+env.ModelDrivenApp, f.admin, `{"definition":{"tables":["workorder"],"views":[{"name":"Open","table":"workorder","filterText":"completed eq"}]}}`)
		if msg := errorMessage(view); st != http.StatusBadRequest || msg != "definition.views[0]."+errorMessage(body) {
			t.Errorf("the view's error %d %q, the route's %q", st, msg, errorMessage(body))
		}
		st, body = f.do(t, "POST", path, f.admin, `{"filter":{"column":"nosuchcolumn","operator":"eq","value":1}}`)
		if e, _ := body["error"].(map[string]any); st != http.StatusBadRequest || e["target"] != "filter" || !strings.Contains(e["message"].(string), "nosuchcolumn") {
			t.Errorf("a tree naming no column: %d %v", st, body)
		}
		st, body = f.do(t, "POST", path, f.admin, `{"filterText":"completed eq false","extra":1}`)
		if st != http.StatusBadRequest {
			t.Errorf("an unknown field: %d %v", st, body)
		}
		st, body = f.do(t, "POST", "/api/metadata/tables/nosuch/filter", f.admin, `{"filterText":"a eq 1"}`)
		if st != http.StatusNotFound {
			t.Errorf("an unknown table: %d %v", st, body)
		}
		st, body = f.do(t, "POST", path, "", `{"filterText":"completed eq false"}`)
		if st != http.StatusUnauthorized || body["filterText"] != nil {
			t.Errorf("no token: %d %v", st, body)
		}
	})
}

func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}
