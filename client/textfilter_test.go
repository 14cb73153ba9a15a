package client_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestDeviceTextFiltersIgnoreCase: the device store's queries compare text
// case-insensitively, for non-ASCII letters too, as the server does (the
// device store's SQLite has the fold function, whichever driver it is built
// with).
func TestDeviceTextFiltersIgnoreCase(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 1, 0)
		testenv.Must(t, w.p.Write(ctx, func(wr *platform.Writer) error {
			for _, name := range []string{"Alpha beta", "ÄRGER", "straße", "GROẞ", "École"} {
				if _, err := wr.Create(ctx, platform.System(), "workorder", map[string]any{"name": name, "ownerid": w.users[0], "priority": int64(1)}); err != nil {
					return err
				}
			}
			return nil
		}))
		dev := w.device(0, t.TempDir(), &faults{})
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		for filter, want := range map[string][]string{
			"startswith(name,'al')":           {"Alpha beta"},
			"name eq 'ärger'":                 {"ÄRGER"},
			"contains(name,'ß')":              {"GROẞ", "straße"},
			"endswith(name,'COLE')":           {"École"},
			"name in ('ALPHA BETA','STRAßE')": {"Alpha beta", "straße"},
			"not startswith(name,'É')":        {"Alpha beta", "GROẞ", "straße", "ÄRGER"},
		} {
			rows, err := dev.Query(ctx, "workorder", client.Query{Filter: filter})
			testenv.Must(t, err)
			var got []string
			for _, r := range rows {
				got = append(got, r["name"].(string))
			}
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("device query %s (-want +got):\n%s", filter, diff)
			}
		}
	})
}
