package apps_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
)

// TestLifecycle walks draft -> validate -> publish -> edit -> republish,
// with clone, app usage and the needs-republish flag.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		nora := principal(t, p, env.Technicians[0].ID)
		prof := testenv.MustGet[*profile.Profile](t)(s.Get(ctx, sys, env.ProfileID))
		if prof.Draft || prof.PublishedVersion == 0 || !prof.Validated {
			t.Fatalf("seeded profile: %+v", prof)
		}
		v1 := prof.PublishedVersion
		usage := testenv.MustGet[[]apps.AppRef](t)(s.AppUsage(ctx, sys, prof.ID))
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
		testenv.WantError(t, err, outpost.CodeInvalid, `profile "Field Technician" cannot be published: table "task": Related rows only needs at least one relationship; with none selected the table downloads nothing`)
		if got := outpost.ErrorTarget(err); got != "items.task" {
			t.Errorf("target = %q", got)
		}
		prof = testenv.MustGet[*profile.Profile](t)(s.RemoveItem(ctx, sys, prof.ID, "task"))
		prof, _, err = s.Publish(ctx, sys, prof.ID)
		testenv.Must(t, err)
		if prof.Draft || prof.PublishedVersion <= v1 {
			t.Fatalf("after republish: %+v", prof)
		}
		for _, a := range testenv.MustGet[[]apps.AppRef](t)(s.AppUsage(ctx, sys, prof.ID)) {
			if !a.NeedsRepublish {
				t.Errorf("app %s not flagged for republish", a.Name)
			}
		}
		a := testenv.MustGet[*apps.App](t)(s.PublishApp(ctx, sys, env.CanvasApp))
		if a.NeedsRepublish {
			t.Error("published app still needs republish")
		}
		clone := testenv.MustGet[*profile.Profile](t)(s.Clone(ctx, sys, prof.ID, ""))
		if clone.Name != "Copy of Field Technician" || !clone.Draft || clone.PublishedVersion != 0 || len(clone.Items) != 4 {
			t.Errorf("clone = %+v", clone)
		}
		_, err = s.Plan(ctx, nora, clone.ID)
		testenv.WantError(t, err, outpost.CodeConflict, "offline profile "+clone.ID+" is not published yet: publish it first")
		err = s.Delete(ctx, sys, prof.ID)
		testenv.WantError(t, err, outpost.CodeConflict, "the profile is used by 2 app(s) (Field Inspections): turn their offline mode off or choose another profile first")
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
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		canvas := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.Canvas, Name: "Loose canvas", OwnerID: env.Maker.ID, Definition: apps.Definition{Tables: []string{"account"}}}))
		_, err := s.SetOffline(ctx, sys, canvas.ID, apps.OfflineInput{Enabled: true, ProfileID: env.ProfileID})
		testenv.WantError(t, err, outpost.CodeConflict, `canvas app "Loose canvas" must be in a solution before it can be used offline: add it to a solution first`)
		md := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Desk", Definition: apps.Definition{Tables: []string{"account"}}}))
		_, err = s.SetOffline(ctx, sys, md.ID, apps.OfflineInput{Enabled: true})
		testenv.WantError(t, err, outpost.CodeInvalid, "an offline app needs exactly one profile: set profileId")
		draft := testenv.MustGet[*profile.Profile](t)(s.Create(ctx, sys, profile.Input{Name: "Unpublished", Items: []profile.ItemInput{item("account", profile.RuleAll)}}))
		_, err = s.SetOffline(ctx, sys, md.ID, apps.OfflineInput{Enabled: true, ProfileID: draft.ID})
		testenv.WantError(t, err, outpost.CodeConflict, `offline profile "Unpublished" is not published: publish it before an app can use it`)
		_, err = s.CreateApp(ctx, sys, apps.AppInput{Kind: "web", Name: "x"})
		testenv.WantError(t, err, outpost.CodeInvalid, `app kind "web" is not valid: use canvas or modeldriven`)
		_, err = s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Desk"})
		testenv.WantError(t, err, outpost.CodeConflict, `a modeldriven app named "Desk" already exists`)
		_, err = s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Bad", Definition: apps.Definition{Forms: []apps.Form{{Table: "account", Columns: []string{"colour"}}}}})
		testenv.WantError(t, err, outpost.CodeInvalid, `definition.forms[0]: table "account" has no column "colour"`)
		_, _, err = s.AppProfile(ctx, sys, md.ID)
		testenv.WantError(t, err, outpost.CodeConflict, `app "Desk" cannot be used offline: turn on "Can be used offline" first`)

		// The seeds' rule: a Basic User opens an offline model-driven app,
		// but a canvas one only with read on Canvas App, Mobile offline
		// profile and Sync Error.
		basic := testenv.MustGet[string](t)(p.CreateUser(ctx, sys, platform.UserInput{FullName: "B", DomainName: "basic", BusinessUnitID: env.NorthBU}))
		testenv.Must(t, p.AssignUserRole(ctx, sys, basic, security.RoleBasicUser))
		bp := principal(t, p, basic)
		id, kind, err := s.AppProfile(ctx, bp, env.ModelDrivenApp)
		if err != nil || id != env.ProfileID || kind != apps.ModelDriven {
			t.Errorf("Basic User, model-driven: %s %s %v", id, kind, err)
		}
		_, _, err = s.AppProfile(ctx, bp, env.CanvasApp)
		testenv.WantError(t, err, outpost.CodeForbidden, "opening an offline canvas app needs read on canvasapp, mobileofflineprofile, syncerror; you lack read on canvasapp")
		role := testenv.MustGet[string](t)(p.CreateRole(ctx, sys, "Canvas offline", []security.Grant{{Table: "canvasapp", Privilege: security.Read, Depth: security.Organization}}))
		testenv.Must(t, p.AssignUserRole(ctx, sys, basic, role))
		if _, _, err := s.AppProfile(ctx, principal(t, p, basic), env.CanvasApp); err != nil {
			t.Errorf("with the custom role, canvas: %v", err)
		}

		// Restricted assignment admits the chosen users and team members.
		_, err = s.Update(ctx, sys, env.ProfileID, profile.Patch{Assignment: &profile.Assignment{Mode: profile.AssignRestricted, Teams: []string{env.SouthTeam}}})
		testenv.Must(t, err)
		_, _, err = s.AppProfile(ctx, principal(t, p, env.Technicians[0].ID), env.ModelDrivenApp)
		testenv.WantError(t, err, outpost.CodeForbidden, `the offline profile of app "Field Service" is restricted to selected users and teams, and you are not one of them`)
		if _, _, err := s.AppProfile(ctx, principal(t, p, env.Technicians[2].ID), env.ModelDrivenApp); err != nil {
			t.Errorf("South team member: %v", err)
		}
		_, _, err = s.AppProfile(ctx, sys, "00000000-0000-4000-8000-00000000abcd")
		testenv.WantError(t, err, outpost.CodeNotFound, "no app has id 00000000-0000-4000-8000-00000000abcd")
		// Turning offline off unbinds the profile.
		a := testenv.MustGet[*apps.App](t)(s.SetOffline(ctx, sys, env.ModelDrivenApp, apps.OfflineInput{}))
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
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		seedDemo(t, p)
		ctx := t.Context()
		app := func(v apps.View, f apps.Form) error {
			_, err := s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Ext " + testenv.Tag(outpost.NewID()), Definition: apps.Definition{
				Views: []apps.View{v}, Forms: []apps.Form{f}}})
			return err
		}
		view := apps.View{Name: "v", Table: "workorder", Columns: []string{"name"}, OrderBy: "scheduledstart desc", SearchColumns: []string{"name", "description"}}
		form := apps.Form{Name: "f", Table: "workorder", Columns: []string{"name", "customerid", "description"},
			Sections: []apps.Section{{Name: "Main", Columns: []string{"name", "customerid"}}, {Name: "Notes", Columns: []string{"description"}}},
			Required: []string{"name"}, ReadOnly: []string{"customerid"}}
		testenv.Must(t, app(view, form))
		bad := view
		bad.OrderBy = "colour"
		testenv.WantError(t, app(bad, form), outpost.CodeNotFound, `definition.views[0].orderBy: table "workorder" has no column "colour"`)
		bad.OrderBy = "name sideways"
		testenv.WantError(t, app(bad, form), outpost.CodeInvalid, `definition.views[0].orderBy: "sideways" is not a direction: use asc or desc after the column`)
		bad = view
		bad.SearchColumns = []string{"priority"}
		testenv.WantError(t, app(bad, form), outpost.CodeInvalid, `definition.views[0].searchColumns: column "priority" is choice; quick search looks in text and memo columns`)
		bf := form
		bf.Required = []string{"productid"}
		testenv.WantError(t, app(view, bf), outpost.CodeInvalid, `definition.forms[0].required: column "productid" is not among the form's columns [name customerid description]`)
		bf = form
		bf.Sections = []apps.Section{{Name: "", Columns: []string{"name"}}}
		testenv.WantError(t, app(view, bf), outpost.CodeInvalid, `definition.forms[0].sections[0]: a section needs a name`)
	})
}
