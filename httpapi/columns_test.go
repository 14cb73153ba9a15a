package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// A maker changes an existing column's display name, required level,
// maximum length and choice options; changes that would break stored
// values are refused with 400 naming the field, and a user without a
// customizer role is refused.
func TestPatchColumnOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, _, tokens := offlineFixture(t, e)
		m := tokens["admin@contoso.example"]
		st, body := f.do(t, "POST", "/api/metadata/tables", m, `{"name":"inspection","ownership":"user","primaryName":"name",`+
			`"columns":[{"name":"name","type":"text","required":true},{"name":"note","type":"text","maxLength":50},`+
			`{"name":"grade","type":"choice","options":[{"value":1,"label":"Good"},{"value":2,"label":"Poor"}]}]}`)
		if st != http.StatusCreated {
			t.Fatalf("create table: %d %v", st, body)
		}
		st, body = f.do(t, "POST", "/api/data/inspection", m, `{"name":"A","note":"twelve chars"}`)
		if st != http.StatusCreated && st != http.StatusNoContent {
			t.Fatalf("create row: %d %v", st, body)
		}
		p := "/api/metadata/tables/inspection/columns/"

		st, body = f.do(t, "PATCH", p+"grade", m, `{"displayName":"Condition","options":[{"value":1,"label":"Fine"},{"value":2,"label":"Poor"},{"value":3,"label":"Broken"}]}`)
		c := column(t, st, body, "grade")
		if c["displayName"] != "Condition" || len(c["options"].([]any)) != 3 || c["options"].([]any)[0].(map[string]any)["label"] != "Fine" {
			t.Errorf("patched grade: %v", c)
		}
		st, body = f.do(t, "GET", "/api/metadata/tables/inspection", m, ``)
		if c := column(t, st, body, "grade"); len(c["options"].([]any)) != 3 {
			t.Errorf("grade after reload: %v", c)
		}

		st, body = f.do(t, "PATCH", p+"grade", m, `{"options":[{"value":1,"label":"Fine"},{"value":3,"label":"Broken"}]}`)
		wantError(t, st, body, 400, "invalid", `option 2 ("Poor") of column "grade" cannot be removed: stored rows and offline devices may hold it`, "options")
		st, body = f.do(t, "PATCH", p+"grade", m, `{"options":[{"value":1,"label":" "},{"value":2,"label":"Poor"},{"value":3,"label":"Broken"}]}`)
		wantError(t, st, body, 400, "invalid", `option 1 of column "grade" needs a label`, "options")
		st, body = f.do(t, "PATCH", p+"note", m, `{"options":[{"value":1,"label":"x"}]}`)
		wantError(t, st, body, 400, "invalid", `column "note" is text: only choice columns have options`, "options")

		st, body = f.do(t, "PATCH", p+"note", m, `{"maxLength":5}`)
		wantError(t, st, body, 400, "invalid", `maxLength of column "note" cannot shrink to 5: 1 row holds longer values`, "maxLength")
		st, body = f.do(t, "PATCH", p+"note", m, `{"maxLength":5000}`)
		wantError(t, st, body, 400, "invalid", `maxLength 5000 of column "note" is out of range: use 1 to 4000`, "maxLength")
		st, body = f.do(t, "PATCH", p+"note", m, `{"maxLength":20}`)
		if c := column(t, st, body, "note"); c["maxLength"] != float64(20) {
			t.Errorf("note maxLength: %v", c)
		}
		st, body = f.do(t, "PATCH", p+"grade", m, `{"maxLength":20}`)
		wantError(t, st, body, 400, "invalid", `column "grade" is choice: only text and memo columns have a maximum length`, "maxLength")

		st, body = f.do(t, "PATCH", p+"note", m, `{"required":true}`)
		if st != http.StatusOK {
			t.Errorf("note required with every row filled: %d %v", st, body)
		}
		st, body = f.do(t, "PATCH", p+"grade", m, `{"required":true}`)
		wantError(t, st, body, 400, "invalid", `column "grade" cannot be made required: 1 row holds no value; fill them first`, "required")
		st, body = f.do(t, "PATCH", p+"name", m, `{"required":false}`)
		wantError(t, st, body, 400, "invalid", `column "name" is the table's primary name and stays required`, "required")

		st, body = f.do(t, "PATCH", p+"grade", m, `{"type":"text"}`)
		if st != http.StatusBadRequest || !strings.Contains(body["error"].(map[string]any)["message"].(string), "type") {
			t.Errorf("type change: %d %v", st, body)
		}
		st, body = f.do(t, "PATCH", p+"createdon", m, `{"displayName":"x"}`)
		wantError(t, st, body, 400, "invalid", `column "createdon" is a system column and cannot be changed`, "createdon")
		st, body = f.do(t, "PATCH", p+"nosuch", m, `{"displayName":"x"}`)
		wantError(t, st, body, 404, "not_found", `table "inspection" has no column "nosuch"`, "nosuch")
		st, body = f.do(t, "PATCH", p+"grade", f.user, `{"displayName":"x"}`)
		if st != http.StatusForbidden {
			t.Errorf("nora patches a column: %d %v", st, body)
		}
	})
}

// column returns the named column of a table reply, failing on a non-200.
func column(t *testing.T, st int, body map[string]any, name string) map[string]any {
	t.Helper()
	if st != http.StatusOK {
		t.Fatalf("want 200, got %d %v", st, body)
	}
	for _, c := range body["columns"].([]any) {
		if m := c.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("no column %q in %v", name, body)
	return nil
}
