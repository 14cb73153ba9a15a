package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// The maker edits an app's definition after creation, sees and discards
// against the published version of a profile, and gets 400 (not 404) for
// a bad reference inside a body.
func TestMakerEditsOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, env, _ := offlineFixture(t, e)
		maker := f.admin
		st, body := f.do(t, "PATCH", "/api/offline/apps/"+env.ModelDrivenApp, maker, `{"definition":{"tables":["workorder","account"]}}`)
		def, _ := body["definition"].(map[string]any)
		if st != http.StatusOK || len(def["tables"].([]any)) != 2 {
			t.Fatalf("patch app: %d %v", st, body)
		}
		st, body = f.do(t, "PATCH", "/api/offline/apps/"+env.ModelDrivenApp, maker, `{"definition":{"tables":["nosuch"]}}`)
		wantError(t, st, body, http.StatusBadRequest, "invalid", `definition.tables[0]: table "nosuch" does not exist`, "definition.tables")
		st, body = f.do(t, "PUT", "/api/offline/profiles/"+env.ProfileID+"/items/product", maker, `{"rule":"all","columns":["colour"]}`)
		wantError(t, st, body, http.StatusBadRequest, "invalid", `table "product" has no column "colour"`, "columns")

		st, body = f.do(t, "DELETE", "/api/offline/profiles/"+env.ProfileID+"/items/product", maker, ``)
		if st != http.StatusOK || body["draft"] != true {
			t.Fatalf("remove item: %d %v", st, body)
		}
		st, body = f.do(t, "GET", "/api/offline/profiles/"+env.ProfileID+"/published", maker, ``)
		if st != http.StatusOK || len(body["items"].([]any)) != 4 {
			t.Fatalf("published: %d %v", st, body)
		}
		st, body = f.do(t, "POST", "/api/offline/profiles/"+env.ProfileID+"/discard", maker, ``)
		if st != http.StatusOK || body["draft"] != false || len(body["items"].([]any)) != 4 {
			t.Fatalf("discard: %d %v", st, body)
		}
	})
}
