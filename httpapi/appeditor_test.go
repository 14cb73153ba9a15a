package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// What the portal's app editor needs from the API: a view's filter as
// OData text, refused at the field with its position; a canvas app's
// listing says whether and which bundle it has, after an upload.
func TestAppEditorOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, env, _ := offlineFixture(t, e)
		maker := f.admin
		app := "/api/offline/apps/" + env.ModelDrivenApp
		st, body := f.do(t, "PATCH", app, maker, `{"definition":{"tables":["workorder"],"views":[{"name":"Open","table":"workorder","columns":["name"],"orderBy":"name","filterText":"completed eq"}]}}`)
		wantError(t, st, body, http.StatusBadRequest, "invalid", `definition.views[0].filterText:1:13: expected a value after "eq", found end of input`, "definition.views[0].filterText")
		st, body = f.do(t, "PATCH", app, maker, `{"definition":{"tables":["workorder"],"views":[{"name":"Open","table":"workorder","columns":["name"],"orderBy":"name","filterText":"completed eq false"}]}}`)
		if st != http.StatusOK {
			t.Fatalf("patch with filter text: %d %v", st, body)
		}
		v := body["definition"].(map[string]any)["views"].([]any)[0].(map[string]any)
		if v["filterText"] != "completed eq false" || v["filter"] == nil {
			t.Errorf("view read back: %v", v)
		}

		canvas := "/api/offline/apps/" + env.CanvasApp
		st, body = f.do(t, "GET", canvas, maker, ``)
		b, _ := body["bundle"].(map[string]any)
		if st != http.StatusOK || b == nil || b["size"].(float64) <= 0 || len(b["sha256"].(string)) != 64 {
			t.Fatalf("the demo canvas app's bundle: %d %v", st, body)
		}
		zip := zipOf(t, map[string]string{"index.html": "<h1>v2</h1>"})
		st, up := f.do(t, "PUT", canvas+"/bundle", maker, zip)
		if st != http.StatusOK {
			t.Fatalf("upload: %d %v", st, up)
		}
		_, body = f.do(t, "GET", canvas, maker, ``)
		b, _ = body["bundle"].(map[string]any)
		if b == nil || b["sha256"] != up["sha256"] || b["size"].(float64) != float64(len(zip)) || !strings.HasPrefix(b["modifiedOn"].(string), "20") {
			t.Errorf("after the upload the app says %v, the upload %v", body["bundle"], up)
		}
		if _, md := f.do(t, "GET", app, maker, ``); md["bundle"] != nil {
			t.Errorf("a model-driven app has a bundle: %v", md["bundle"])
		}
	})
}
