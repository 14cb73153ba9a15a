package profile_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
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
		mustOK(t, err)
		_, err = f.Write(data)
		mustOK(t, err)
	}
	mustOK(t, zw.Close())
	return buf.Bytes()
}

func manifestJSON(t *testing.T, m profile.Manifest) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	mustOK(t, err)
	return b
}

// TestExportImport moves the demo solution to a fresh server on each engine.
func TestExportImport(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		data := must[[]byte](t)(s.Export(ctx, sys, demo.SolutionName))
		m := must[*profile.Manifest](t)(profile.ReadManifest(data))
		if len(m.Tables) != 2 || len(m.Profiles) != 1 || len(m.Apps) != 1 || strings.Join(m.Requires, ",") != "account,contact" {
			t.Fatalf("manifest: %d tables, %d profiles, %d apps, requires %v", len(m.Tables), len(m.Profiles), len(m.Apps), m.Requires)
		}
		// A fresh server of the same engine.
		engine := testenv.Engines(t)[0]
		if p.DB().Dialect.IsPostgres() {
			engine = testenv.Engines(t)[1]
		}
		p2 := must[*platform.Platform](t)(platform.Open(ctx, engine.Open(t), platform.Options{}))
		s2 := profile.New(p2, profile.Options{})
		owner := must[string](t)(p2.CreateUser(ctx, sys, platform.UserInput{FullName: "Owner", DomainName: "owner", BusinessUnitID: must[string](t)(p2.RootBusinessUnit(ctx))}))
		res := must[*profile.ImportResult](t)(s2.Import(ctx, sys, data, profile.ImportOptions{Publish: true, OwnerID: owner}))
		if len(res.Created) != 5 || len(res.Published) != 1 {
			t.Errorf("import result = %+v", res)
		}
		prof := must[*profile.Profile](t)(s2.Get(ctx, sys, env.ProfileID))
		if prof.PublishedVersion == 0 || len(prof.Items) != 4 {
			t.Errorf("imported profile = %+v", prof)
		}
		a := must[*profile.App](t)(s2.GetApp(ctx, sys, env.CanvasApp))
		// A new app is published against the imported version: nothing to republish.
		if !a.Offline || a.ProfileID != env.ProfileID || a.NeedsRepublish || a.ProfileVersion != prof.PublishedVersion {
			t.Errorf("imported app = %+v", a)
		}
		// Importing again updates in place.
		res = must[*profile.ImportResult](t)(s2.Import(ctx, sys, data, profile.ImportOptions{}))
		if len(res.Created) != 0 || len(res.Updated) != 3 {
			t.Errorf("second import = %+v", res)
		}
		// Importing with publish makes a newer version; the app already
		// published here keeps its version until it is published, and the
		// note says exactly that.
		res = must[*profile.ImportResult](t)(s2.Import(ctx, sys, data, profile.ImportOptions{Publish: true, OwnerID: owner}))
		after := must[*profile.App](t)(s2.GetApp(ctx, sys, env.CanvasApp))
		newest := must[*profile.Profile](t)(s2.Get(ctx, sys, env.ProfileID)).PublishedVersion
		want := fmt.Sprintf(`app "Field Inspections" is published against version %d of its offline profile; its devices keep that version until you publish the app, which moves them to version %d`, a.ProfileVersion, newest)
		if !slices.Contains(res.Notes, want) || !after.NeedsRepublish || after.ProfileVersion != a.ProfileVersion {
			t.Errorf("third import: notes %q, want %q; app %+v", res.Notes, want, after)
		}
	})
}

func TestImportErrors(t *testing.T) {
	t.Parallel()
	good := profile.Manifest{Format: profile.ArchiveFormat, FormatVersion: 1, Solution: profile.SolutionInput{UniqueName: "sol"}}
	withProfile := good
	withProfile.Profiles = []profile.ManifestProfile{{ID: "00000000-0000-4000-8000-0000000000aa", Name: "P", Items: []profile.Item{{Table: "gizmo", Rule: profile.RuleAll}}}}
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
	app.Apps = []profile.ManifestApp{{ID: "00000000-0000-4000-8000-0000000000bb", Kind: profile.ModelDriven, Name: "A", Offline: true, ProfileID: "00000000-0000-4000-8000-0000000000cc"}}
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
		{"extra file", zipOf(t, map[string][]byte{"evil.sh": []byte("x")}), outpost.CodeInvalid, `unexpected file "evil.sh" in the archive: a solution archive holds only manifest.json`},
		{"zip bomb", bomb, outpost.CodeTooLarge, "manifest.json is 9437184 bytes uncompressed; at most 8388608 are accepted"},
		{"bad json", zipOf(t, map[string][]byte{"manifest.json": []byte("{")}), outpost.CodeInvalid, "manifest.json is not a valid manifest: unexpected EOF"},
		{"unknown field", zipOf(t, map[string][]byte{"manifest.json": []byte(`{"format":"outpost-solution","formatVersion":1,"extra":1}`)}), outpost.CodeInvalid,
			`manifest.json is not a valid manifest: json: unknown field "extra"`},
		{"wrong format", zipOf(t, map[string][]byte{"manifest.json": []byte(`{"format":"other","formatVersion":1}`)}), outpost.CodeInvalid,
			`manifest.json has format "other" version 1; this server reads "outpost-solution" version 1`},
		{"missing table of a profile", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, withProfile)}), outpost.CodeInvalid, `profile "P": table "gizmo" does not exist`},
		{"missing required table", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, requires)}), outpost.CodeInvalid, `the solution needs table "gizmo", which is neither in the archive nor on this server`},
		{"missing looked-up table", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, dangling)}), outpost.CodeInvalid,
			`the solution needs table "gizmo" (looked up by aa.gizmoid), which is neither in the archive nor on this server`},
		{"circular tables", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, circular)}), outpost.CodeInvalid,
			"tables aa -> bb -> aa look each other up: circular table dependencies cannot be imported"},
		{"missing profile of an app", zipOf(t, map[string][]byte{"manifest.json": manifestJSON(t, app)}), outpost.CodeInvalid,
			`app "A" uses offline profile 00000000-0000-4000-8000-0000000000cc, which is neither in the archive nor on this server`},
	}
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		for _, tt := range tests {
			_, err := s.Import(t.Context(), sys, tt.data, profile.ImportOptions{})
			t.Run(tt.name, func(t *testing.T) { wantErr(t, err, tt.code, tt.msg) })
		}
		// Nothing was half-imported.
		if _, ok := p.Schema().Table("aa"); ok {
			t.Error("table aa exists after failed imports")
		}
		if sols := must[[]*profile.Solution](t)(s.ListSolutions(t.Context(), sys)); len(sols) != 0 {
			t.Errorf("solutions after failed imports: %d", len(sols))
		}
	})
}
