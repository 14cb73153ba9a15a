package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestRevertedRemovalIsRechecked: a rejected offline change whose row the
// server no longer lets the device hold removes the row locally, outside
// any delta. When the device stops before its delta (killed, network cut)
// and the row comes back into scope without its version moving (the role
// is given back), the next sync must still bring it: the device's copy no
// longer matches its token, so the table is checked by checksums. The
// same holds for a rejected offline delete, whose row the device removed
// before the upload: the revert finds nothing to remove, and the server,
// which may not let the user read the row, sends none back (found by the
// convergence sweep, SQLite seed 9077).
func TestRevertedRemovalIsRechecked(t *testing.T) {
	edits := map[string]func(ctx context.Context, dev *client.Client, id string) error{
		// The row goes at the revert.
		"update": func(ctx context.Context, dev *client.Client, id string) error {
			return dev.Update(ctx, "workorder", id, map[string]any{"description": "offline edit"})
		},
		// The row went already, offline: the revert finds nothing to remove.
		"delete": func(ctx context.Context, dev *client.Client, id string) error {
			return dev.Delete(ctx, "workorder", id)
		},
	}
	for _, e := range testenv.Engines(t) {
		for _, op := range []string{"update", "delete"} {
			t.Run(e.Name+"/"+op, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				sys := platform.System()
				w := newWorld(t, e, 2)
				w.seed([]string{w.users[0]}, 2, 2)
				f := &faults{}
				dev := w.device(0, t.TempDir(), f)
				_, err := dev.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				w.checkEqual(t, 0, dev)

				wos, err := dev.Query(ctx, "workorder", client.Query{Top: 1})
				testenv.Must(t, err)
				id := wos[0]["workorderid"].(string)
				testenv.Must(t, edits[op](ctx, dev, id))
				// The user loses the role that lets them read and write work
				// orders: the upload is rejected and the row is not the
				// device's any more. The process dies before its delta.
				testenv.Must(t, w.p.RemoveUserRole(ctx, sys, w.users[0], w.role))
				f.set(func(f *faults) { f.fail = []string{"/delta"} })
				res, err := dev.Sync(ctx, client.SyncOptions{})
				if !errors.Is(err, client.ErrUnreachable) {
					t.Fatalf("sync with the delta cut: %v, want unreachable", err)
				}
				if res.Rejected != 1 {
					t.Fatalf("rejected %d changes, want 1", res.Rejected)
				}
				if rows, err := dev.Rows(ctx, "workorder"); err != nil || rows[id] != nil {
					t.Fatalf("the rejected row stays on the device after its revert (err %v)", err)
				}

				// The role comes back: the row is in scope again, its version
				// unchanged since the device's token.
				testenv.Must(t, w.p.AssignUserRole(ctx, sys, w.users[0], w.role))
				f.set(func(f *faults) { f.fail = nil })
				res, err = dev.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				t.Logf("after the role came back: %+v", res)
				w.checkEqual(t, 0, dev)
			})
		}
	}
}
