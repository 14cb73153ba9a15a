package httpapi_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost/bundle"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
)

func zipOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A canvas app's bundle: the maker uploads a zip, checked for its shape
// and size; a technician who may open the app downloads it but may not
// replace it; a model-driven app has none.
func TestCanvasBundleOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f, env, _ := offlineFixture(t, e)
		maker, nora := f.admin, f.user
		path := "/api/offline/apps/" + env.CanvasApp + "/bundle"

		get := func(token string) (int, string, string) {
			req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, res.Header.Get("Content-Type"), string(b)
		}
		// The demo seeds the bundle of "Field Inspections".
		want, err := demo.FieldInspectionsBundle()
		if err != nil {
			t.Fatal(err)
		}
		if st, ct, b := get(nora); st != http.StatusOK || ct != "application/zip" || b != string(want) {
			t.Fatalf("technician downloads the demo bundle: %d %s (%d bytes, want %d)", st, ct, len(b), len(want))
		}

		st, body := f.do(t, "PUT", path, maker, "this is not a zip")
		wantError(t, st, body, http.StatusBadRequest, "invalid", "the bundle is not a zip archive (zip: not a valid zip file): upload a .zip of the app's files with index.html at its root", "bundle")
		st, body = f.do(t, "PUT", path, maker, zipOf(t, map[string]string{"app.js": "1"}))
		wantError(t, st, body, http.StatusBadRequest, "invalid", "the bundle has no index.html at its root: the player opens index.html", "bundle")
		st, body = f.do(t, "PUT", path, maker, zipOf(t, map[string]string{"index.html": "x", "../evil.js": "1"}))
		wantError(t, st, body, http.StatusBadRequest, "invalid", `the bundle holds "../evil.js": file names must be relative paths with / and without . or .. parts`, "bundle")
		big := strings.Repeat("x", bundle.MaxUnpacked+1)
		st, body = f.do(t, "PUT", path, maker, zipOf(t, map[string]string{"index.html": big}))
		wantError(t, st, body, http.StatusRequestEntityTooLarge, "too_large", "the bundle's files unpack to more than 8388608 bytes", "bundle")
		st, body = f.do(t, "PUT", path, maker, strings.Repeat("x", bundle.MaxBytes+1))
		wantError(t, st, body, http.StatusRequestEntityTooLarge, "too_large", "a canvas app's bundle may be at most 2097152 bytes zipped", "bundle")

		// A technician may read the app, not change it.
		next := zipOf(t, map[string]string{"index.html": "<h1>v2</h1>", "js/app.js": "1"})
		st, body = f.do(t, "PUT", path, nora, next)
		if e, _ := body["error"].(map[string]any); st != http.StatusForbidden || e["code"] != "forbidden" || !strings.Contains(e["message"].(string), "canvasapp") {
			t.Fatalf("technician uploads: %d %v", st, body)
		}
		if _, _, b := get(nora); b != string(want) {
			t.Fatal("a refused upload changed the bundle")
		}

		st, body = f.do(t, "PUT", path, maker, next)
		if files, _ := body["files"].([]any); st != http.StatusOK || len(files) != 2 || body["size"] != float64(len(next)) {
			t.Fatalf("maker uploads: %d %v", st, body)
		}
		if st, _, b := get(nora); st != http.StatusOK || b != next {
			t.Fatalf("download after upload: %d, %d bytes", st, len(b))
		}

		st, body = f.do(t, "PUT", "/api/offline/apps/"+env.ModelDrivenApp+"/bundle", maker, next)
		wantError(t, st, body, http.StatusBadRequest, "invalid", "app "+env.ModelDrivenApp+" is a model-driven app: only canvas apps have a bundle", "id")
	})
}
