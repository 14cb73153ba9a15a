package apps_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

// TestViewFilterText: a view's filter may be sent as OData text; it is
// checked, stored as its JSON tree (never as text) and read back as both;
// a bad text is refused at definition.views[i].filterText with its line
// and column; a tree and a text that differ are refused; PATCHing back what
// was read keeps the filter.
func TestViewFilterText(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		def := func(text string, tree json.RawMessage) apps.Definition {
			return apps.Definition{Tables: []string{"workorder"}, Views: []apps.View{{Name: "Open", Table: "workorder", Columns: []string{"name"}, FilterText: text, Filter: tree}}}
		}
		a := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Filtered", Definition: def("completed eq false and priority ne 3", nil)}))
		v := a.Definition.Views[0]
		if v.FilterText != "completed eq false and priority ne 3" || !strings.Contains(string(v.Filter), `"completed"`) {
			t.Fatalf("read back: text %q tree %s", v.FilterText, v.Filter)
		}
		var stored string
		testenv.Must(t, p.DB().Read.QueryRowContext(ctx, `SELECT definition FROM outpost_app WHERE appid = '`+a.ID+`'`).Scan(&stored))
		if strings.Contains(stored, "filterText") || !strings.Contains(stored, `"filter"`) {
			t.Errorf("stored definition %s: want the tree only", stored)
		}

		_, err := s.UpdateApp(ctx, sys, a.ID, apps.AppPatch{Definition: ptr(def("completed eq", nil))})
		testenv.WantError(t, err, outpost.CodeInvalid, `definition.views[0].filterText:1:13: expected a value after "eq", found end of input`)
		if outpost.ErrorTarget(err) != "definition.views[0].filterText" {
			t.Errorf("target %q", outpost.ErrorTarget(err))
		}
		_, err = s.UpdateApp(ctx, sys, a.ID, apps.AppPatch{Definition: ptr(def("colour eq 'red'", nil))})
		if outpost.ErrorCode(err) != outpost.CodeInvalid || !strings.Contains(outpost.ErrorMessage(err), `unknown column "colour"`) || outpost.ErrorTarget(err) != "definition.views[0].filterText" {
			t.Errorf("unknown column: %v (target %q)", err, outpost.ErrorTarget(err))
		}
		_, err = s.UpdateApp(ctx, sys, a.ID, apps.AppPatch{Definition: ptr(def("priority eq 1", v.Filter))})
		testenv.WantError(t, err, outpost.CodeInvalid, `definition.views[0].filterText: view "Open" has a filter (JSON) and a filterText that differ: send one of them`)

		// What a client read goes back as it is.
		back := testenv.MustGet[*apps.App](t)(s.UpdateApp(ctx, sys, a.ID, apps.AppPatch{Definition: &a.Definition}))
		if back.Definition.Views[0].FilterText != v.FilterText {
			t.Errorf("round trip: %q", back.Definition.Views[0].FilterText)
		}
		// An empty text with no tree clears the filter.
		cleared := testenv.MustGet[*apps.App](t)(s.UpdateApp(ctx, sys, a.ID, apps.AppPatch{Definition: ptr(def("", nil))}))
		if cv := cleared.Definition.Views[0]; cv.FilterText != "" || len(cv.Filter) != 0 {
			t.Errorf("cleared: %+v", cv)
		}
		// A PATCH of the display name alone keeps the stored tree.
		c := testenv.MustGet[*apps.App](t)(s.CreateApp(ctx, sys, apps.AppInput{Kind: apps.Canvas, Name: "Canvas filtered", OwnerID: env.Maker.ID, Definition: def("priority eq 1", nil)}))
		c = testenv.MustGet[*apps.App](t)(s.UpdateApp(ctx, sys, c.ID, apps.AppPatch{DisplayName: ptr("Canvas")}))
		if c.Definition.Views[0].FilterText != "priority eq 1" {
			t.Errorf("after a name change: %+v", c.Definition.Views[0])
		}
	})
}

// TestNeedsRepublishFollowsVersions: the needs-republish badge is the app's
// published-against version being older than its profile's newest, and
// nothing else: publishing the profile raises it, publishing the app
// clears it, turning offline off drops it.
func TestNeedsRepublishFollowsVersions(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		a := testenv.MustGet[*apps.App](t)(s.GetApp(ctx, sys, env.ModelDrivenApp))
		if a.NeedsRepublish || a.ProfileVersion == 0 || a.ProfileVersion != a.NewestProfileVersion {
			t.Fatalf("seeded app: %+v", a)
		}
		testenv.MustGet[*profile.Profile](t)(s.PutItem(ctx, sys, env.ProfileID, item("product", profile.RuleAll)))
		if _, _, err := s.Publish(ctx, sys, env.ProfileID); err != nil {
			t.Fatal(err)
		}
		a = testenv.MustGet[*apps.App](t)(s.GetApp(ctx, sys, env.ModelDrivenApp))
		if !a.NeedsRepublish || a.NewestProfileVersion <= a.ProfileVersion {
			t.Fatalf("after the profile's publish: %+v", a)
		}
		usage := testenv.MustGet[[]apps.AppRef](t)(s.AppUsage(ctx, sys, env.ProfileID))
		for _, u := range usage {
			if u.ID == a.ID && !u.NeedsRepublish {
				t.Errorf("app usage disagrees with the app: %+v", u)
			}
		}
		a = testenv.MustGet[*apps.App](t)(s.PublishApp(ctx, sys, env.ModelDrivenApp))
		if a.NeedsRepublish || a.ProfileVersion != a.NewestProfileVersion {
			t.Errorf("after the app's publish: %+v", a)
		}
		a = testenv.MustGet[*apps.App](t)(s.SetOffline(ctx, sys, env.ModelDrivenApp, apps.OfflineInput{}))
		if a.NeedsRepublish {
			t.Errorf("offline off: %+v", a)
		}
	})
}

func ptr[T any](v T) *T { return &v }
