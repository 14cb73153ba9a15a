package apps_test

import (
	"encoding/json"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/store"
)

// "Add required objects" adds the closure: the tables the added tables look
// up and the tables the profile's filters link to, so that the export
// imports into a fresh server.
func TestAddRequiredIsAClosure(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		ctx := t.Context()
		for _, in := range []platform.TableInput{
			{Name: "cc", PrimaryName: "name", Offline: true},
			{Name: "bb", PrimaryName: "name", Offline: true, Columns: []schema.Column{{Name: "ccid", Type: schema.Lookup, Target: "cc"}}},
			{Name: "aa", PrimaryName: "name", Offline: true, Columns: []schema.Column{{Name: "bbid", Type: schema.Lookup, Target: "bb"}}},
			{Name: "dd", PrimaryName: "name", Offline: true},
			{Name: "ee", PrimaryName: "name", Offline: true, Columns: []schema.Column{{Name: "aaid", Type: schema.Lookup, Target: "aa"}}},
		} {
			testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, in))
		}
		// The profile's filter on aa links (1:N) to ee.
		f, _ := json.Marshal(map[string]any{"link": "ee_aaid", "filter": map[string]any{"column": "name", "operator": "eq", "value": "x"}})
		prof := testenv.MustGet[*profile.Profile](t)(s.Create(ctx, sys, profile.Input{Name: "A", Items: []profile.ItemInput{{Item: profile.Item{Table: "aa", Rule: profile.RuleCustom, Filter: f}}}}))
		_, _, err := s.Publish(ctx, sys, prof.ID)
		testenv.Must(t, err)
		app := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "A app", Definition: apps.Definition{Tables: []string{"aa"}}}))
		testenv.MustGet[*apps.App](t)(s.SetOffline(ctx, sys, app.ID, apps.OfflineInput{Enabled: true, ProfileID: prof.ID}))
		testenv.MustGet[*apps.Solution](t)(s.CreateSolution(ctx, sys, apps.SolutionInput{UniqueName: "sol"}))
		testenv.MustGet[*apps.Solution](t)(s.AddComponents(ctx, sys, "sol", apps.Component{Kind: apps.KindApp, ID: app.ID}))
		added := testenv.MustGet[[]apps.Required](t)(s.AddRequired(ctx, sys, "sol"))
		// Each with why: the app's profile, the app's table, the tables it
		// looks up, the table the profile's filter links to.
		want := []apps.Required{
			{Component: apps.Component{Kind: "profile", ID: prof.ID}, Reason: `the offline profile of app "A app"`},
			{Component: apps.Component{Kind: "table", ID: "aa"}, Reason: `app "A app" uses the table`},
			{Component: apps.Component{Kind: "table", ID: "bb"}, Reason: `table "aa" looks it up (column bbid)`},
			{Component: apps.Component{Kind: "table", ID: "cc"}, Reason: `table "bb" looks it up (column ccid)`},
			{Component: apps.Component{Kind: "table", ID: "ee"}, Reason: `offline profile "A" takes the table offline`},
		}
		if len(added) != len(want) {
			t.Fatalf("added %v, want %v", added, want)
		}
		for i := range want {
			if added[i] != want[i] {
				t.Fatalf("added %v, want %v", added, want)
			}
		}
		if again := testenv.MustGet[[]apps.Required](t)(s.AddRequired(ctx, sys, "sol")); len(again) != 0 {
			t.Errorf("a second Add required objects added %v; everything is in already", again)
		}
		data := testenv.MustGet[[]byte](t)(s.Export(ctx, sys, "sol"))
		fresh := testenv.MustGet[*platform.Platform](t)(platform.Open(ctx, freshDB(t, p), platform.Options{}))
		res := testenv.MustGet[*apps.ImportResult](t)(apps.New(fresh).Import(ctx, sys, data, apps.ImportOptions{Publish: true}))
		if len(res.Published) != 1 {
			t.Fatalf("import into a fresh server: %+v", res)
		}
	})
}

// generate-profile with publish and bind is all or nothing.
func TestGenerateProfileIsAtomic(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		app := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.Canvas, Name: "Loose", OwnerID: env.Technicians[0].ID, Definition: apps.Definition{Tables: []string{"product"}}}))
		before := testenv.MustGet[[]*profile.Profile](t)(s.List(ctx, sys))
		_, err := s.GenerateProfile(ctx, sys, app.ID, apps.GenerateOptions{Name: "X", Publish: true, Bind: true})
		testenv.WantError(t, err, outpost.CodeConflict, `canvas app "Loose" must be in a solution before it can be used offline: add it to a solution first`)
		if after := testenv.MustGet[[]*profile.Profile](t)(s.List(ctx, sys)); len(after) != len(before) {
			t.Fatalf("a refused generate left a profile behind: %d profiles, were %d", len(after), len(before))
		}
		testenv.MustGet[*apps.Solution](t)(s.CreateSolution(ctx, sys, apps.SolutionInput{UniqueName: "loose"}))
		testenv.MustGet[*apps.Solution](t)(s.AddComponents(ctx, sys, "loose", apps.Component{Kind: apps.KindApp, ID: app.ID}))
		g := testenv.MustGet[*apps.Generated](t)(s.GenerateProfile(ctx, sys, app.ID, apps.GenerateOptions{Name: "X", Publish: true, Bind: true}))
		a := testenv.MustGet[*apps.App](t)(s.GetApp(ctx, sys, app.ID))
		if !g.Published || !g.Bound || !a.Offline || a.ProfileID != g.Profile.ID || a.ProfileVersion != g.Profile.PublishedVersion {
			t.Fatalf("retry: generated %+v, app %+v", g, a)
		}
	})
}

// An offline canvas app cannot leave its last solution: removing it, or
// deleting the solution, is refused until its offline is turned off.
func TestOfflineCanvasAppKeepsASolution(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		msg := `canvas app "Field Inspections" is used offline and this is its only solution: a canvas app can be used offline only from a solution; turn its offline off first, or add it to another solution`
		_, err := s.RemoveComponent(ctx, sys, demo.SolutionName, apps.Component{Kind: apps.KindApp, ID: env.CanvasApp})
		testenv.WantError(t, err, outpost.CodeConflict, msg)
		testenv.WantError(t, s.DeleteSolution(ctx, sys, demo.SolutionName), outpost.CodeConflict, msg)
		testenv.MustGet[*apps.Solution](t)(s.CreateSolution(ctx, sys, apps.SolutionInput{UniqueName: "other"}))
		testenv.MustGet[*apps.Solution](t)(s.AddComponents(ctx, sys, "other", apps.Component{Kind: apps.KindApp, ID: env.CanvasApp}))
		testenv.MustGet[*apps.Solution](t)(s.RemoveComponent(ctx, sys, demo.SolutionName, apps.Component{Kind: apps.KindApp, ID: env.CanvasApp}))
		testenv.MustGet[*apps.App](t)(s.SetOffline(ctx, sys, env.CanvasApp, apps.OfflineInput{}))
		testenv.Must(t, s.DeleteSolution(ctx, sys, "other"))
	})
}

// Bad references inside a request body are CodeInvalid naming the
// target; tables that can never be offline say so; restricted assignments
// name the users and teams that do not exist.
func TestBodyReferencesAndAssignees(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		prof := testenv.MustGet[*profile.Profile](t)(s.Create(ctx, sys, profile.Input{Name: "Refs"}))
		_, err := s.PutItem(ctx, sys, prof.ID, item("mobileofflineprofile", profile.RuleAll))
		testenv.WantError(t, err, outpost.CodeInvalid, `table "mobileofflineprofile" can never be taken offline, so it cannot be in an offline profile`)
		_, err = s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Bad", Definition: apps.Definition{Tables: []string{"nosuch"}}})
		testenv.WantError(t, err, outpost.CodeInvalid, `definition.tables[0]: table "nosuch" does not exist`)
		missing := "00000000-0000-4000-8000-00000000abcd"
		_, err = s.SetOffline(ctx, sys, env.ModelDrivenApp, apps.OfflineInput{Enabled: true, ProfileID: missing})
		testenv.WantError(t, err, outpost.CodeInvalid, "no offline profile has id "+missing)
		if outpost.ErrorTarget(err) != "profileId" {
			t.Errorf("target = %q, want profileId", outpost.ErrorTarget(err))
		}
		_, err = s.AddComponents(ctx, sys, demo.SolutionName, apps.Component{Kind: apps.KindApp, ID: missing})
		testenv.WantError(t, err, outpost.CodeInvalid, "no app has id "+missing)
		team := "00000000-0000-4000-8000-00000000beef"
		restricted := &profile.Assignment{Mode: profile.AssignRestricted, Users: []string{env.Technicians[0].ID, missing}, Teams: []string{team}}
		_, err = s.Update(ctx, sys, prof.ID, profile.Patch{Assignment: restricted})
		testenv.WantError(t, err, outpost.CodeInvalid, "assignment: no such user "+missing+", no such team "+team)
		_, err = s.Create(ctx, sys, profile.Input{Name: "R2", Assignment: restricted})
		testenv.WantError(t, err, outpost.CodeInvalid, "assignment: no such user "+missing+", no such team "+team)
		restricted.Users, restricted.Teams = []string{env.Technicians[0].ID}, []string{env.NorthTeam}
		got := testenv.MustGet[*profile.Profile](t)(s.Update(ctx, sys, prof.ID, profile.Patch{Assignment: restricted}))
		if len(got.Assignment.Users) != 1 || len(got.Assignment.Teams) != 1 {
			t.Fatalf("assignment = %+v", got.Assignment)
		}
	})
}

// freshDB opens a new empty database of p's engine.
func freshDB(t *testing.T, p *platform.Platform) *store.DB {
	t.Helper()
	engine := testenv.Engines(t)[0]
	if p.DB().Dialect.IsPostgres() {
		engine = testenv.Engines(t)[1]
	}
	return engine.Open(t)
}
