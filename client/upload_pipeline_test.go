package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// TestUploadSeveralBatches: a queue longer than one upload goes in several
// batches, the next one sent while the device records the previous one's
// results. With conflict detection on, a row edited in every batch is
// applied each time (its later changes build on its earlier ones), and a
// change the server rejects in the first batch becomes a Sync Error and
// blocks none of the changes behind it.
func TestUploadSeveralBatches(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 4, 3)
		dev := w.device(0, t.TempDir(), &faults{})
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		sys := platform.System()
		testenv.Must(t, w.eng.SetSettings(ctx, sys, wire.Settings{ConflictDetection: true}))
		wos, err := dev.Query(ctx, "workorder", client.Query{Filter: "ownerid eq '" + w.users[0] + "'", OrderBy: "workorderid"})
		testenv.Must(t, err)
		if len(wos) < 3 {
			t.Fatalf("want at least 3 own work orders, got %d", len(wos))
		}
		hot, conflicted := wos[0]["workorderid"].(string), wos[1]["workorderid"].(string)
		testenv.Must(t, dev.Update(ctx, "workorder", conflicted, map[string]any{"description": "device version"}))
		_, err = w.p.Update(ctx, sys, "workorder", conflicted, map[string]any{"description": "server version"})
		testenv.Must(t, err)
		const n = 2500
		for i := range n {
			testenv.Must(t, dev.Update(ctx, "workorder", hot, map[string]any{"description": fmt.Sprintf("edit %d", i)}))
		}
		res, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if res.Uploaded != n || res.Rejected != 1 {
			t.Fatalf("uploaded %d, rejected %d; want %d and 1", res.Uploaded, res.Rejected, n)
		}
		got, err := dev.Get(ctx, "workorder", hot)
		testenv.Must(t, err)
		if got["description"] != fmt.Sprintf("edit %d", n-1) {
			t.Fatalf("description %v, want the last edit", got["description"])
		}
		got, err = dev.Get(ctx, "workorder", conflicted)
		testenv.Must(t, err)
		if got["description"] != "server version" {
			t.Fatalf("rejected change not reverted: description %v", got["description"])
		}
		st, err := dev.Status(ctx)
		testenv.Must(t, err)
		if st.PendingUploads != 0 || st.ActiveErrors != 1 {
			t.Fatalf("status: %d pending, %d errors; want 0 and 1", st.PendingUploads, st.ActiveErrors)
		}
		w.checkEqual(t, 0, dev)
	})
}
