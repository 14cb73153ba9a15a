package client_test

import (
	"context"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestDisabledUserCannotSync: deltas take the caller's principal from
// memory, checked against the request's snapshot; a user disabled after
// syncing is refused at the next delta, and syncs again once enabled.
func TestDisabledUserCannotSync(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		sys := platform.System()
		w := newWorld(t, e, 2)
		w.seed([]string{w.users[0]}, 3, 2)
		dev := w.device(0, t.TempDir(), &faults{})
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		_, err = dev.Sync(ctx, client.SyncOptions{}) // a delta, with the principal cached
		testenv.Must(t, err)

		_, err = w.p.Update(ctx, sys, "systemuser", w.users[0], map[string]any{"isdisabled": true})
		testenv.Must(t, err)
		_, err = dev.Sync(ctx, client.SyncOptions{})
		if code := outpost.ErrorCode(err); code != outpost.CodeUnauthorized {
			t.Fatalf("delta of a disabled user: %v (code %q), want unauthorized", err, code)
		}

		_, err = w.p.Update(ctx, sys, "systemuser", w.users[0], map[string]any{"isdisabled": false})
		testenv.Must(t, err)
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		w.checkEqual(t, 0, dev)
	})
}
