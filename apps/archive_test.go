package apps_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/bundle"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
)

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		f, err := zw.Create(name)
		testenv.Must(t, err)
		_, err = f.Write(data)
		testenv.Must(t, err)
	}
	testenv.Must(t, zw.Close())
	return buf.Bytes()
}

func manifestJSON(t *testing.T, m apps.Manifest) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	testenv.Must(t, err)
	return b
}

// TestExportImport moves the demo solution to a fresh server on each engine.
func TestExportImport(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		data := testenv.MustGet[[]byte](t)(s.Export(ctx, sys, demo.SolutionName))
		m := testenv.MustGet[*apps.Manifest](t)(apps.ReadManifest(data))
		if len(m.Tables) != 2 || len(m.Profiles) != 1 || len(m.Apps) != 1 || strings.Join(m.Requires, ",") != "account,contact" {
			t.Fatalf("manifest: %d tables, %d profiles, %d apps, requires %v", len(m.Tables), len(m.Profiles), len(m.Apps), m.Requires)
		}
		// A fresh server of the same engine.
		engine := testenv.Engines(t)[0]
		if p.DB().Dialect.IsPostgres() {
			engine = testenv.Engines(t)[1]
		}
		p2 := testenv.MustGet[*platform.Platform](t)(platform.Open(ctx, engine.Open(t), platform.Options{}))
		s2 := apps.New(p2)
		owner := testenv.MustGet[string](t)(p2.CreateUser(ctx, sys, platform.UserInput{FullName: "Owner", DomainName: "owner", BusinessUnitID: testenv.MustGet[string](t)(p2.RootBusinessUnit(ctx))}))
		res := testenv.MustGet[*apps.ImportResult](t)(s2.Import(ctx, sys, data, apps.ImportOptions{Publish: true, OwnerID: owner}))
		if len(res.Created) != 5 || len(res.Published) != 1 {
			t.Errorf("import result = %+v", res)
		}
		prof := testenv.MustGet[*profile.Profile](t)(s2.Get(ctx, sys, env.ProfileID))
		if prof.PublishedVersion == 0 || len(prof.Items) != 4 {
			t.Errorf("imported profile = %+v", prof)
		}
		a := testenv.MustGet[*apps.App](t)(s2.GetApp(ctx, sys, env.CanvasApp))
		// A new app is published against the imported version: nothing to republish.
		if !a.Offline || a.ProfileID != env.ProfileID || a.NeedsRepublish || a.ProfileVersion != prof.PublishedVersion {
			t.Errorf("imported app = %+v", a)
		}
		// Importing again updates in place.
		res = testenv.MustGet[*apps.ImportResult](t)(s2.Import(ctx, sys, data, apps.ImportOptions{}))
		if len(res.Created) != 0 || len(res.Updated) != 3 {
			t.Errorf("second import = %+v", res)
		}
		// Importing with publish makes a newer version; the app already
		// published here keeps its version until it is published, and the
		// note says exactly that.
		res = testenv.MustGet[*apps.ImportResult](t)(s2.Import(ctx, sys, data, apps.ImportOptions{Publish: true, OwnerID: owner}))
		after := testenv.MustGet[*apps.App](t)(s2.GetApp(ctx, sys, env.CanvasApp))
		newest := testenv.MustGet[*profile.Profile](t)(s2.Get(ctx, sys, env.ProfileID)).PublishedVersion
		want := fmt.Sprintf(`app "Field Inspections" is published against version %d of its offline profile; its devices keep that version until you publish the app, which moves them to version %d`, a.ProfileVersion, newest)
		if !slices.Contains(res.Notes, want) || !after.NeedsRepublish || after.ProfileVersion != a.ProfileVersion {
			t.Errorf("third import: notes %q, want %q; app %+v", res.Notes, want, after)
		}
	})
}

func TestImportErrors(t *testing.T) {
	t.Parallel()
	good := apps.Manifest{Format: apps.ArchiveFormat, FormatVersion: 1, Solution: apps.SolutionInput{UniqueName: "sol"}}
	withProfile := good
	withProfile.Profiles = []apps.ManifestProfile{{ID: "00000000-0000-4000-8000-0000000000aa", Name: "P", Items: []profile.Item{{Table: "gizmo", Rule: profile.RuleAll}}}}
	requires := good
	requires.Requires = []string{"gizmo"}
	circular := good
	circular.Tables = []platform.TableInput{
		{Name: "aa", Offline: true, Columns: []schema.Column{lookup("bbid", "bb")}},
		{Name: "bb", Offline: true, Columns: []schema.Column{lookup("aaid", "aa")}},
	}
	dangling := good
	dangling.Tables = []platform.TableInput{{Name: "aa", Columns: []schema.Column{lookup("gizmoid", "gizmo")}}}
	app := good
	app.Apps = []apps.ManifestApp{{ID: "00000000-0000-4000-8000-0000000000bb", Kind: apps.ModelDriven, Name: "A", Offline: true, ProfileID: "00000000-0000-4000-8000-0000000000cc"}}
	// A zip bomb: 9 MiB of zeros compress to a few kilobytes.
	bomb := zipOf(t, map[string][]byte{"manifest.json": bytes.Repeat([]byte{' '}, 9<<20)})
	tests := []struct {
		name string
		data []byte
		code outpost.Code
		msg  string
	}{
		{"not a zip", []byte("hello"), outpost.CodeInvalid, "the archive is not a valid zip file: zip: not a valid zip file"},
		{"no manifest", zipOf(t, map[string][]byte{}), outpost.CodeInvalid, "the archive has no manifest.json"},
		{"extra file", zipOf(t, map[string][]byte{"evil.sh": []byte("x")}), outpost.CodeInvalid, `unexpected file "evil.sh" in the archive: a solution archive holds only manifest.json and bundles/<app id>.zip bundles`},
		{"zip bomb", bomb, outpost.CodeTooLarge, "manifest.json is 9437184 bytes uncompressed; at most 8388608 are accepted"},
		{"bad json", zipOf(t, map[string][]byte{"manifest.json": []byte("{")}), outpost.CodeInvalid, "manifest.json is not a valid manifest: unexpected EOF"},
		{"unknown field", zipOf(t, map[string][]byte{"manifest.json": []byte(`{"format":"outpost-solution","formatVersion":1,"extra":1}`)}), outpost.CodeInvalid,
			`manifest.json is not a valid manifest: json: unknown field "extra"`},
		{"wrong format", zipOf(t, map[string][]byte{"manifest.json": []byte(`{"format":"other","formatVersion":1}`)}), outpost.CodeInvalid,
			`manifest.json has format "other" version 1; this server reads "outpost-solution" versions 1 to 2`},
		{"missing table of a profile", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, withProfile)}), outpost.CodeInvalid, `profile "P": table "gizmo" does not exist`},
		{"missing required table", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, requires)}), outpost.CodeInvalid, `the solution needs table "gizmo", which is neither in the archive nor on this server`},
		{"missing looked-up table", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, dangling)}), outpost.CodeInvalid,
			`the solution needs table "gizmo" (looked up by aa.gizmoid), which is neither in the archive nor on this server`},
		{"circular tables", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, circular)}), outpost.CodeInvalid,
			"tables aa -> bb -> aa look each other up: circular table dependencies cannot be imported"},
		{"missing profile of an app", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, app)}), outpost.CodeInvalid,
			`app "A" uses offline profile 00000000-0000-4000-8000-0000000000cc, which is neither in the archive nor on this server`},
	}
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		for _, tt := range tests {
			_, err := s.Import(t.Context(), sys, tt.data, apps.ImportOptions{})
			t.Run(tt.name, func(t *testing.T) { testenv.WantError(t, err, tt.code, tt.msg) })
		}
		// Nothing was half-imported.
		if _, ok := p.Schema().Table("aa"); ok {
			t.Error("table aa exists after failed imports")
		}
		if sols := testenv.MustGet[[]*apps.Solution](t)(s.ListSolutions(t.Context(), sys)); len(sols) != 0 {
			t.Errorf("solutions after failed imports: %d", len(sols))
		}
	})
}

// freshLike opens an empty server on p's engine, with a user to own
// imported canvas apps.
func freshLike(t *testing.T, p *platform.Platform) (*platform.Platform, *apps.Service, string) {
	t.Helper()
	ctx := t.Context()
	engine := testenv.Engines(t)[0]
	if p.DB().Dialect.IsPostgres() {
		engine = testenv.Engines(t)[1]
	}
	p2 := testenv.MustGet[*platform.Platform](t)(platform.Open(ctx, engine.Open(t), platform.Options{}))
	owner := testenv.MustGet[string](t)(p2.CreateUser(ctx, sys, platform.UserInput{FullName: "Owner", DomainName: "owner", BusinessUnitID: testenv.MustGet[string](t)(p2.RootBusinessUnit(ctx))}))
	return p2, apps.New(p2), owner
}

// unzip returns the entries of zip data by name.
func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr := testenv.MustGet[*zip.Reader](t)(zip.NewReader(bytes.NewReader(data), int64(len(data))))
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc := testenv.MustGet[io.ReadCloser](t)(f.Open())
		out[f.Name] = testenv.MustGet[[]byte](t)(io.ReadAll(rc))
		testenv.Must(t, rc.Close())
	}
	return out
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestExportImportBundle carries a canvas app's web bundle from one server
// to a fresh one, refuses tampered, bad and oversized bundles without
// writing anything, and still imports an archive made before bundles were
// carried.
func TestExportImportBundle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		src, srcHash := must2(t)(s.GetBundle(ctx, sys, env.CanvasApp))
		data := testenv.MustGet[[]byte](t)(s.Export(ctx, sys, demo.SolutionName))
		arc := testenv.MustGet[*apps.Archive](t)(apps.ReadArchive(data))
		var canvas apps.ManifestApp
		for _, a := range arc.Manifest.Apps {
			if a.ID == env.CanvasApp {
				canvas = a
			}
		}
		entry := "bundles/" + env.CanvasApp + ".zip"
		if canvas.Bundle == nil || canvas.Bundle.Entry != entry || canvas.Bundle.SHA256 != srcHash || canvas.Bundle.Size != int64(len(src)) ||
			!bytes.Equal(arc.Bundles[env.CanvasApp], src) || arc.Manifest.FormatVersion != 2 {
			t.Fatalf("exported app bundle = %+v, format version %d", canvas.Bundle, arc.Manifest.FormatVersion)
		}

		entries := unzip(t, data)
		rezip := func(edit func(m *apps.Manifest, files map[string][]byte)) []byte {
			files := map[string][]byte{}
			for k, v := range entries {
				files[k] = v
			}
			var m apps.Manifest
			testenv.Must(t, json.Unmarshal(files["manifest.json"], &m))
			edit(&m, files)
			files["manifest.json"] = manifestJSON(t, m)
			return zipOf(t, files)
		}
		setBundle := func(b []byte) func(*apps.Manifest, map[string][]byte) {
			return func(m *apps.Manifest, files map[string][]byte) {
				files[entry] = b
				for i := range m.Apps {
					if m.Apps[i].Bundle != nil {
						m.Apps[i].Bundle.Size, m.Apps[i].Bundle.SHA256 = int64(len(b)), hexSHA256(b)
					}
				}
			}
		}
		tampered := append([]byte(nil), src...)
		tampered[len(tampered)/2] ^= 0xff
		big := zipOf(t, map[string][]byte{"index.html": []byte("<p>hi</p>"), "noise.bin": randomBytes(t, bundle.MaxBytes)})
		app := `app "Field Inspections": `
		bad := []struct {
			name string
			data []byte
			code outpost.Code
			msg  string
		}{
			{"tampered bundle", rezip(func(_ *apps.Manifest, files map[string][]byte) { files[entry] = tampered }), outpost.CodeInvalid,
				fmt.Sprintf(app+"its bundle %s has %d bytes with SHA-256 %s, but manifest.json says %d bytes with SHA-256 %s: the archive was changed or damaged after export",
					entry, len(src), hexSHA256(tampered), len(src), srcHash)},
			{"missing bundle entry", rezip(func(_ *apps.Manifest, files map[string][]byte) { delete(files, entry) }), outpost.CodeInvalid,
				app + fmt.Sprintf("its bundle %q is not in the archive", entry)},
			{"bundle no app names", rezip(func(m *apps.Manifest, _ map[string][]byte) {
				for i := range m.Apps {
					m.Apps[i].Bundle = nil
				}
			}), outpost.CodeInvalid, fmt.Sprintf("the archive holds %s, which no app in manifest.json names", entry)},
			{"not a bundle", rezip(setBundle([]byte("not a zip"))), outpost.CodeInvalid,
				app + "the bundle is not a zip archive (zip: not a valid zip file): upload a .zip of the app's files with index.html at its root"},
			{"no index.html", rezip(setBundle(zipOf(t, map[string][]byte{"app.js": []byte("1")}))), outpost.CodeInvalid,
				app + "the bundle has no index.html at its root: the player opens index.html"},
			{"oversized bundle", rezip(setBundle(big)), outpost.CodeTooLarge,
				fmt.Sprintf(app+"the bundle is %d bytes: a canvas app's bundle may be at most %d bytes zipped", len(big), bundle.MaxBytes)},
		}
		p2, s2, owner := freshLike(t, p)
		for _, tt := range bad {
			_, err := s2.Import(ctx, sys, tt.data, apps.ImportOptions{Publish: true, OwnerID: owner})
			t.Run(tt.name, func(t *testing.T) { testenv.WantError(t, err, tt.code, tt.msg) })
		}
		// All or nothing: the refused imports left no table, app or solution.
		if _, ok := p2.Schema().Table("workorder"); ok {
			t.Error("table workorder exists after refused imports")
		}
		if _, err := s2.GetApp(ctx, sys, env.CanvasApp); outpost.ErrorCode(err) != outpost.CodeNotFound {
			t.Errorf("app after refused imports: %v", err)
		}

		// An archive from before bundles were carried imports, without one.
		old := rezip(func(m *apps.Manifest, files map[string][]byte) {
			m.FormatVersion = 1
			for i := range m.Apps {
				m.Apps[i].Bundle = nil
			}
			delete(files, entry)
		})
		testenv.MustGet[*apps.ImportResult](t)(s2.Import(ctx, sys, old, apps.ImportOptions{Publish: true, OwnerID: owner}))
		if a := testenv.MustGet[*apps.App](t)(s2.GetApp(ctx, sys, env.CanvasApp)); a.Bundle != nil {
			t.Errorf("app imported from a version 1 archive has bundle %+v", a.Bundle)
		}
		_, _, err := s2.GetBundle(ctx, sys, env.CanvasApp)
		testenv.WantError(t, err, outpost.CodeNotFound, fmt.Sprintf("canvas app %s has no bundle yet: a maker uploads one with PUT /api/offline/apps/%s/bundle", env.CanvasApp, env.CanvasApp))

		// The current archive updates the app and restores its bundle.
		testenv.MustGet[*apps.ImportResult](t)(s2.Import(ctx, sys, data, apps.ImportOptions{OwnerID: owner}))
		got, gotHash := must2(t)(s2.GetBundle(ctx, sys, env.CanvasApp))
		if !bytes.Equal(got, src) || gotHash != srcHash || gotHash != hexSHA256(got) {
			t.Errorf("imported bundle: %d bytes, SHA-256 %s; want %d bytes, %s", len(got), gotHash, len(src), srcHash)
		}
		if a := testenv.MustGet[*apps.App](t)(s2.GetApp(ctx, sys, env.CanvasApp)); a.Bundle == nil || a.Bundle.SHA256 != srcHash || a.Bundle.Size != int64(len(src)) {
			t.Errorf("imported app's bundle = %+v", a.Bundle)
		}
		// An archive without the bundle leaves the one the app has.
		testenv.MustGet[*apps.ImportResult](t)(s2.Import(ctx, sys, old, apps.ImportOptions{OwnerID: owner}))
		if _, h := must2(t)(s2.GetBundle(ctx, sys, env.CanvasApp)); h != srcHash {
			t.Errorf("bundle after importing an archive without it: %s, want %s", h, srcHash)
		}

		// Into another fresh server, the bundle is created with the app.
		_, s3, owner3 := freshLike(t, p)
		testenv.MustGet[*apps.ImportResult](t)(s3.Import(ctx, sys, data, apps.ImportOptions{Publish: true, OwnerID: owner3}))
		if got, h := must2(t)(s3.GetBundle(ctx, sys, env.CanvasApp)); !bytes.Equal(got, src) || h != srcHash {
			t.Errorf("bundle created with the app: %d bytes, %s", len(got), h)
		}
	})
}

func must2(t *testing.T) func(b []byte, h string, err error) ([]byte, string) {
	return func(b []byte, h string, err error) ([]byte, string) {
		t.Helper()
		testenv.Must(t, err)
		return b, h
	}
}

// randomBytes returns n bytes that do not compress.
func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	testenv.Must(t, err)
	return b
}
