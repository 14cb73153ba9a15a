package apps_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

func TestGenerateProfile(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		// Canvas: every table the app uses, all rows.
		g := testenv.MustGet[*apps.Generated](t)(s.GenerateProfile(ctx, sys, env.CanvasApp, apps.GenerateOptions{Publish: true, Bind: true}))
		want := []profile.Item{{Table: "account", Rule: profile.RuleAll}, {Table: "product", Rule: profile.RuleAll}, {Table: "workorder", Rule: profile.RuleAll}}
		if diff := cmp.Diff(want, g.Profile.Items); diff != "" {
			t.Errorf("canvas items (-want +got):\n%s", diff)
		}
		if !g.Published || !g.Bound || g.Profile.GeneratedFrom != env.CanvasApp || len(g.NotGenerated) != 0 {
			t.Errorf("canvas result = %+v", g)
		}
		// Model-driven: main tables get user's rows; lookups of views and
		// forms get related rows; what cannot be generated is reported.
		md := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Desk", Definition: apps.Definition{
			Tables: []string{"workorder", "product", "role"},
			Views:  []apps.View{{Name: "Contacts", Table: "contact", Columns: []string{"fullname", "parentcustomerid"}}},
			Forms:  []apps.Form{{Name: "WO", Table: "workorder", Columns: []string{"customerid", "productid"}}},
		}}))
		g = testenv.MustGet[*apps.Generated](t)(s.GenerateProfile(ctx, sys, md.ID, apps.GenerateOptions{}))
		want = []profile.Item{
			{Table: "account", Rule: profile.RuleRelated, Relationships: []string{"workorder_customerid"}},
			{Table: "contact", Rule: profile.RuleRelated, Relationships: []string{"contact_parentcustomerid"}},
			{Table: "product", Rule: profile.RuleAll},
			{Table: "workorder", Rule: profile.RuleOrganization, UserRows: true},
		}
		if diff := cmp.Diff(want, g.Profile.Items); diff != "" {
			t.Errorf("model-driven items (-want +got):\n%s", diff)
		}
		wantNot := []string{
			`table "product" is organization owned: it got All rows instead of user's rows; review it`,
			`table "role" (used by the app) is not enabled for offline, so it was left out`,
			`relationship contact_parentcustomerid of table "account" (view Contacts) was left out: it would make a circular chain`,
		}
		if diff := cmp.Diff(wantNot, g.NotGenerated); diff != "" {
			t.Errorf("not generated (-want +got):\n%s", diff)
		}
		if !g.Validation.Valid || g.Published || g.Profile.PublishedVersion != 0 {
			t.Errorf("model-driven result: valid %t %v, published %t", g.Validation.Valid, g.Validation.Errors, g.Published)
		}
	})
}
