package profile_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
)

func seedDemo(t *testing.T, p *platform.Platform) *demo.Env {
	t.Helper()
	return testenv.MustGet[*demo.Env](t)(demo.Seed(t.Context(), p, demo.Options{AccountsPerTechnician: 1}))
}

func item(table string, rule profile.Rule) profile.ItemInput {
	return profile.ItemInput{Item: profile.Item{Table: table, Rule: rule}}
}

// TestSaveErrors checks every rule enforced when a profile or item is
// saved, with its exact message.
func TestSaveErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		prof := testenv.MustGet[*profile.Profile](t)(s.Create(ctx, sys, profile.Input{Name: "Draft"}))
		tests := []struct {
			name string
			in   profile.ItemInput
			code outpost.Code
			msg  string
		}{
			{"unknown table", item("nosuch", profile.RuleAll), outpost.CodeInvalid, `table "nosuch" does not exist`},
			{"table not offline", item("role", profile.RuleAll), outpost.CodeInvalid, `table "role" is not enabled for offline: turn on "Can be taken offline" first`},
			{"no rule", item("product", ""), outpost.CodeInvalid, `table "product": rule is required: use related, all, organization or custom (or 0 to 3)`},
			{"unknown rule", item("product", "some"), outpost.CodeInvalid, `table "product": rule "some" is not valid: use related, all, organization or custom (or 0 to 3)`},
			{"rule not offered", item("product", profile.RuleOrganization), outpost.CodeInvalid, `table "product" is organization owned: it offers Related rows only, All rows, Custom, not Organization rows`},
			{"business owned user rows", profile.ItemInput{Item: profile.Item{Table: "team", Rule: profile.RuleOrganization, UserRows: true}}, outpost.CodeInvalid,
				`table "team" is business owned: its rows have no owner, so Organization rows offers business-unit rows only`},
			{"unknown relationship", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleRelated, Relationships: []string{"nope"}}}, outpost.CodeInvalid,
				`table "product" has no relationship "nope": it has workorder_productid, product_createdby, product_modifiedby`},
			{"unknown column", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleAll, Columns: []string{"colour"}}}, outpost.CodeInvalid, `table "product" has no column "colour"`},
			{"image as column", profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleAll, Columns: []string{"photo"}}}, outpost.CodeInvalid,
				`table "workorder": column "photo" is a image column: choose it with imageColumns or files`},
			{"file as image", profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleAll, ImageColumns: []string{"report"}}}, outpost.CodeInvalid,
				`table "workorder": column "report" is a file column, not an image column`},
			{"files without file columns", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleAll, Files: true}}, outpost.CodeInvalid, `table "product" has no file columns`},
			{"bad filter text", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleCustom}, FilterText: "price gt"}, outpost.CodeInvalid,
				`filterText:1:9: expected a value after "gt", found end of input`},
			{"filter on unknown column", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleCustom}, FilterText: "colour eq 'red'"}, outpost.CodeInvalid,
				`profile "Draft", item product:1:1: unknown column "colour" in table "product"`},
			{"both filters", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleCustom, Filter: []byte("true")}, FilterText: "price gt 1"}, outpost.CodeInvalid,
				`table "product": give the filter as filter (a JSON tree) or filterText (OData), not both`},
		}
		for _, tt := range tests {
			_, err := s.PutItem(ctx, sys, prof.ID, tt.in)
			t.Run(tt.name, func(t *testing.T) { wantErr(t, err, tt.code, tt.msg) })
		}
		long := strings.Repeat("x", 256)
		_, err := s.Create(ctx, sys, profile.Input{Name: long})
		wantErr(t, err, outpost.CodeInvalid, "name must be at most 255 characters, got 256")
		_, err = s.Create(ctx, sys, profile.Input{Name: " "})
		wantErr(t, err, outpost.CodeInvalid, "name is required")
		_, err = s.Create(ctx, sys, profile.Input{Name: "x", Description: strings.Repeat("d", 2001)})
		wantErr(t, err, outpost.CodeInvalid, "description must be at most 2000 characters, got 2001")
		_, err = s.Create(ctx, sys, profile.Input{Name: "draft"})
		wantErr(t, err, outpost.CodeConflict, `an offline profile named "draft" already exists`)
		_, err = s.Create(ctx, sys, profile.Input{Name: "dup", Items: []profile.ItemInput{item("product", profile.RuleAll), item("product", profile.RuleAll)}})
		wantErr(t, err, outpost.CodeConflict, `table "product" is in the profile twice: a profile has one item per table`)
		_, err = s.Create(ctx, sys, profile.Input{Name: "a", Assignment: &profile.Assignment{Mode: "some"}})
		wantErr(t, err, outpost.CodeInvalid, `assignment mode "some" is not valid: use default or restricted`)
		_, err = s.Get(ctx, sys, "00000000-0000-4000-8000-00000000abcd")
		wantErr(t, err, outpost.CodeNotFound, "no offline profile has id 00000000-0000-4000-8000-00000000abcd")
		_, err = s.RemoveItem(ctx, sys, prof.ID, "account")
		wantErr(t, err, outpost.CodeNotFound, `table "account" is not in the profile`)
		// A Basic User reads profiles but cannot change them.
		nora := principal(t, p, env.Technicians[0].ID)
		_, err = s.Create(ctx, nora, profile.Input{Name: "Mine"})
		wantErr(t, err, outpost.CodeForbidden, `you lack the create privilege on table "mobileofflineprofile"`)
		_, _, err = s.Publish(ctx, nora, env.ProfileID)
		if outpost.ErrorCode(err) != outpost.CodeForbidden {
			t.Errorf("Basic User publish: %v, want forbidden", err)
		}
	})
}

// TestLifecycle walks draft -> validate -> publish -> edit -> republish,
// with clone, app usage and the needs-republish flag.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		nora := principal(t, p, env.Technicians[0].ID)
		prof := testenv.MustGet[*profile.Profile](t)(s.Get(ctx, sys, env.ProfileID))
		if prof.Draft || prof.PublishedVersion == 0 || !prof.Validated {
			t.Fatalf("seeded profile: %+v", prof)
		}
		v1 := prof.PublishedVersion
		usage := testenv.MustGet[[]profile.AppRef](t)(s.AppUsage(ctx, sys, prof.ID))
		if len(usage) != 2 || usage[0].NeedsRepublish || !usage[0].InSolution || usage[1].InSolution {
			t.Fatalf("app usage = %+v", usage)
		}
		// Editing makes a draft; devices still get the published version.
		prof = testenv.MustGet[*profile.Profile](t)(s.PutItem(ctx, sys, prof.ID, profile.ItemInput{Item: profile.Item{Table: "task", Rule: profile.RuleRelated}}))
		if !prof.Draft || prof.Validated || prof.PublishedVersion != v1 {
			t.Fatalf("after edit: %+v", prof)
		}
		plan := testenv.MustGet[*profile.Plan](t)(s.Plan(ctx, nora, prof.ID))
		if plan.Version != v1 || len(plan.Items) != 4 {
			t.Fatalf("plan after edit: version %d, %d items", plan.Version, len(plan.Items))
		}
		v := testenv.MustGet[*profile.Validation](t)(s.Validate(ctx, sys, prof.ID))
		if diff := cmp.Diff([]profile.Problem{{Table: "task", Message: `table "task": Related rows only needs at least one relationship; with none selected the table downloads nothing`}}, v.Errors); diff != "" {
			t.Errorf("validate (-want +got):\n%s", diff)
		}
		_, _, err := s.Publish(ctx, sys, prof.ID)
		wantErr(t, err, outpost.CodeInvalid, `profile "Field Technician" cannot be published: table "task": Related rows only needs at least one relationship; with none selected the table downloads nothing`)
		if got := outpost.ErrorTarget(err); got != "items.task" {
			t.Errorf("target = %q", got)
		}
		prof = testenv.MustGet[*profile.Profile](t)(s.RemoveItem(ctx, sys, prof.ID, "task"))
		prof, _, err = s.Publish(ctx, sys, prof.ID)
		testenv.Must(t, err)
		if prof.Draft || prof.PublishedVersion <= v1 {
			t.Fatalf("after republish: %+v", prof)
		}
		for _, a := range testenv.MustGet[[]profile.AppRef](t)(s.AppUsage(ctx, sys, prof.ID)) {
			if !a.NeedsRepublish {
				t.Errorf("app %s not flagged for republish", a.Name)
			}
		}
		a := testenv.MustGet[*profile.App](t)(s.PublishApp(ctx, sys, env.CanvasApp))
		if a.NeedsRepublish {
			t.Error("published app still needs republish")
		}
		clone := testenv.MustGet[*profile.Profile](t)(s.Clone(ctx, sys, prof.ID, ""))
		if clone.Name != "Copy of Field Technician" || !clone.Draft || clone.PublishedVersion != 0 || len(clone.Items) != 4 {
			t.Errorf("clone = %+v", clone)
		}
		_, err = s.Plan(ctx, nora, clone.ID)
		wantErr(t, err, outpost.CodeConflict, "offline profile "+clone.ID+" is not published yet: publish it first")
		err = s.Delete(ctx, sys, prof.ID)
		wantErr(t, err, outpost.CodeConflict, "the profile is used by 2 app(s) (Field Inspections): turn their offline mode off or choose another profile first")
		testenv.Must(t, s.Delete(ctx, sys, clone.ID))
		got := testenv.MustGet[[]*profile.Profile](t)(s.List(ctx, nora))
		if len(got) != 1 || got[0].Name != "Field Technician" {
			t.Errorf("List = %d profiles", len(got))
		}
	})
}

// TestApps covers the offline switch, the canvas-in-a-solution rule, the
// Basic User rule of the seeds and restricted assignment.
func TestApps(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		canvas := testenv.MustGet[*profile.App](t)(s.CreateApp(ctx, sys, profile.AppInput{Kind: profile.Canvas, Name: "Loose canvas", OwnerID: env.Maker.ID, Definition: profile.Definition{Tables: []string{"account"}}}))
		_, err := s.SetOffline(ctx, sys, canvas.ID, profile.OfflineInput{Enabled: true, ProfileID: env.ProfileID})
		wantErr(t, err, outpost.CodeConflict, `canvas app "Loose canvas" must be in a solution before it can be used offline: add it to a solution first`)
		md := testenv.MustGet[*profile.App](t)(s.CreateApp(ctx, sys, profile.AppInput{Kind: profile.ModelDriven, Name: "Desk", Definition: profile.Definition{Tables: []string{"account"}}}))
		_, err = s.SetOffline(ctx, sys, md.ID, profile.OfflineInput{Enabled: true})
		wantErr(t, err, outpost.CodeInvalid, "an offline app needs exactly one profile: set profileId")
		draft := testenv.MustGet[*profile.Profile](t)(s.Create(ctx, sys, profile.Input{Name: "Unpublished", Items: []profile.ItemInput{item("account", profile.RuleAll)}}))
		_, err = s.SetOffline(ctx, sys, md.ID, profile.OfflineInput{Enabled: true, ProfileID: draft.ID})
		wantErr(t, err, outpost.CodeConflict, `offline profile "Unpublished" is not published: publish it before an app can use it`)
		_, err = s.CreateApp(ctx, sys, profile.AppInput{Kind: "web", Name: "x"})
		wantErr(t, err, outpost.CodeInvalid, `app kind "web" is not valid: use canvas or modeldriven`)
		_, err = s.CreateApp(ctx, sys, profile.AppInput{Kind: profile.ModelDriven, Name: "Desk"})
		wantErr(t, err, outpost.CodeConflict, `a modeldriven app named "Desk" already exists`)
		_, err = s.CreateApp(ctx, sys, profile.AppInput{Kind: profile.ModelDriven, Name: "Bad", Definition: profile.Definition{Forms: []profile.Form{{Table: "account", Columns: []string{"colour"}}}}})
		wantErr(t, err, outpost.CodeInvalid, `definition.forms[0]: table "account" has no column "colour"`)
		_, _, err = s.AppProfile(ctx, sys, md.ID)
		wantErr(t, err, outpost.CodeConflict, `app "Desk" cannot be used offline: turn on "Can be used offline" first`)

		// The seeds' rule: a Basic User opens an offline model-driven app,
		// but a canvas one only with read on Canvas App, Mobile offline
		// profile and Sync Error.
		basic := testenv.MustGet[string](t)(p.CreateUser(ctx, sys, platform.UserInput{FullName: "B", DomainName: "basic", BusinessUnitID: env.NorthBU}))
		testenv.Must(t, p.AssignUserRole(ctx, sys, basic, security.RoleBasicUser))
		bp := principal(t, p, basic)
		id, kind, err := s.AppProfile(ctx, bp, env.ModelDrivenApp)
		if err != nil || id != env.ProfileID || kind != profile.ModelDriven {
			t.Errorf("Basic User, model-driven: %s %s %v", id, kind, err)
		}
		_, _, err = s.AppProfile(ctx, bp, env.CanvasApp)
		wantErr(t, err, outpost.CodeForbidden, "opening an offline canvas app needs read on canvasapp, mobileofflineprofile, syncerror; you lack read on canvasapp")
		role := testenv.MustGet[string](t)(p.CreateRole(ctx, sys, "Canvas offline", []security.Grant{{Table: "canvasapp", Privilege: security.Read, Depth: security.Organization}}))
		testenv.Must(t, p.AssignUserRole(ctx, sys, basic, role))
		if _, _, err := s.AppProfile(ctx, principal(t, p, basic), env.CanvasApp); err != nil {
			t.Errorf("with the custom role, canvas: %v", err)
		}

		// Restricted assignment admits the chosen users and team members.
		_, err = s.Update(ctx, sys, env.ProfileID, profile.Patch{Assignment: &profile.Assignment{Mode: profile.AssignRestricted, Teams: []string{env.SouthTeam}}})
		testenv.Must(t, err)
		_, _, err = s.AppProfile(ctx, principal(t, p, env.Technicians[0].ID), env.ModelDrivenApp)
		wantErr(t, err, outpost.CodeForbidden, `the offline profile of app "Field Service" is restricted to selected users and teams, and you are not one of them`)
		if _, _, err := s.AppProfile(ctx, principal(t, p, env.Technicians[2].ID), env.ModelDrivenApp); err != nil {
			t.Errorf("South team member: %v", err)
		}
		_, _, err = s.AppProfile(ctx, sys, "00000000-0000-4000-8000-00000000abcd")
		wantErr(t, err, outpost.CodeNotFound, "no app has id 00000000-0000-4000-8000-00000000abcd")
		// Turning offline off unbinds the profile.
		a := testenv.MustGet[*profile.App](t)(s.SetOffline(ctx, sys, env.ModelDrivenApp, profile.OfflineInput{}))
		if a.Offline || a.ProfileID != "" {
			t.Errorf("after turning offline off: %+v", a)
		}
	})
}

// TestAppDefinitionExtensions: views carry a default order and search
// columns, forms sections, required and read-only columns; each is checked
// against the table and the form.
func TestAppDefinitionExtensions(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		seedDemo(t, p)
		ctx := t.Context()
		app := func(v profile.View, f profile.Form) error {
			_, err := s.CreateApp(ctx, sys, profile.AppInput{Kind: profile.ModelDriven, Name: "Ext " + outpost.NewID()[:8], Definition: profile.Definition{
				Views: []profile.View{v}, Forms: []profile.Form{f}}})
			return err
		}
		view := profile.View{Name: "v", Table: "workorder", Columns: []string{"name"}, OrderBy: "scheduledstart desc", SearchColumns: []string{"name", "description"}}
		form := profile.Form{Name: "f", Table: "workorder", Columns: []string{"name", "customerid", "description"},
			Sections: []profile.Section{{Name: "Main", Columns: []string{"name", "customerid"}}, {Name: "Notes", Columns: []string{"description"}}},
			Required: []string{"name"}, ReadOnly: []string{"customerid"}}
		testenv.Must(t, app(view, form))
		bad := view
		bad.OrderBy = "colour"
		wantErr(t, app(bad, form), outpost.CodeNotFound, `definition.views[0].orderBy: table "workorder" has no column "colour"`)
		bad.OrderBy = "name sideways"
		wantErr(t, app(bad, form), outpost.CodeInvalid, `definition.views[0].orderBy: "sideways" is not a direction: use asc or desc after the column`)
		bad = view
		bad.SearchColumns = []string{"priority"}
		wantErr(t, app(bad, form), outpost.CodeInvalid, `definition.views[0].searchColumns: column "priority" is choice; quick search looks in text and memo columns`)
		bf := form
		bf.Required = []string{"productid"}
		wantErr(t, app(view, bf), outpost.CodeInvalid, `definition.forms[0].required: column "productid" is not among the form's columns [name customerid description]`)
		bf = form
		bf.Sections = []profile.Section{{Name: "", Columns: []string{"name"}}}
		wantErr(t, app(view, bf), outpost.CodeInvalid, `definition.forms[0].sections[0]: a section needs a name`)
	})
}
