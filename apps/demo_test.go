package apps_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

func TestDemoProfile(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *apps.Service) {
		env := testenv.MustGet[*demo.Env](t)(demo.Seed(t.Context(), p, demo.Options{AccountsPerTechnician: 3}))
		nora := principal(t, p, env.Technicians[0].ID)
		id, kind, err := s.AppProfile(t.Context(), nora, env.CanvasApp)
		testenv.Must(t, err)
		if id != env.ProfileID || kind != apps.Canvas {
			t.Fatalf("AppProfile = %s %s", id, kind)
		}
		plan := testenv.MustGet[*profile.Plan](t)(s.Plan(t.Context(), nora, env.ProfileID))
		var tables []string
		for _, it := range plan.Items {
			tables = append(tables, it.Table)
		}
		if diff := cmp.Diff([]string{"workorder", "account", "contact", "product"}, tables); diff != "" {
			t.Errorf("plan order (-want +got):\n%s", diff)
		}
		pv := testenv.MustGet[*profile.Preview](t)(s.Preview(t.Context(), sys, env.ProfileID, profile.PreviewOptions{UserID: nora.UserID, Published: true}))
		counts := map[string]int64{}
		for _, it := range pv.Items {
			counts[it.Table] = it.Rows
			t.Logf("%s: %d rows, chains %v\n%s", it.Table, it.Rows, it.Chains, it.SQL)
		}
		// Nora owns 3 accounts with 15 work orders; her team owns 3 more.
		want := map[string]int64{"workorder": 30, "account": 6, "contact": 12, "product": 50}
		if diff := cmp.Diff(want, counts); diff != "" {
			t.Errorf("preview rows (-want +got):\n%s", diff)
		}
	})
}
