package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

// TestPlayerReads: what the player's lists and status page read from the
// library — paging with Skip, Count under a filter, the queued changes in
// upload order, and a Watch signal for a local change and for a sync.
func TestPlayerReads(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 7, 1)
		dev := w.device(0, t.TempDir(), nil)
		if _, err := dev.Count(ctx, "workorder", ""); err == nil {
			t.Fatal("Count before the first sync succeeded, want the not-ready error")
		}
		changed, stop := dev.Watch()
		defer stop()
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		waitSignal(t, changed, "sync")

		all, err := dev.Query(ctx, "workorder", client.Query{OrderBy: "workorderid"})
		testenv.Must(t, err)
		n, err := dev.Count(ctx, "workorder", "")
		testenv.Must(t, err)
		if n != int64(len(all)) || n < 7 {
			t.Fatalf("Count = %d, Query returned %d rows (want at least 7)", n, len(all))
		}
		page, err := dev.Query(ctx, "workorder", client.Query{OrderBy: "workorderid", Skip: 2, Top: 3})
		testenv.Must(t, err)
		if len(page) != 3 || page[0]["workorderid"] != all[2]["workorderid"] || page[2]["workorderid"] != all[4]["workorderid"] {
			t.Fatalf("Skip 2 Top 3 returned %v, want rows 2..4 of %v", page, all)
		}
		rest, err := dev.Query(ctx, "workorder", client.Query{OrderBy: "workorderid", Skip: int(n) - 1})
		testenv.Must(t, err)
		if len(rest) != 1 || rest[0]["workorderid"] != all[n-1]["workorderid"] {
			t.Fatalf("Skip without Top returned %d rows, want the last one", len(rest))
		}
		id := all[0]["workorderid"].(string)
		one, err := dev.Count(ctx, "workorder", "workorderid eq '"+id+"'")
		testenv.Must(t, err)
		if one != 1 {
			t.Fatalf("Count with a filter on one id = %d, want 1", one)
		}

		testenv.Must(t, dev.Update(ctx, "workorder", id, map[string]any{"description": "edited"}))
		waitSignal(t, changed, "local change")
		created, err := dev.Create(ctx, "workorder", map[string]any{"name": "New", "customerid": all[0]["customerid"]})
		testenv.Must(t, err)
		q, err := dev.PendingChanges(ctx, 0)
		testenv.Must(t, err)
		if len(q) != 2 || q[0].ID != id || q[0].Op != "update" || q[0].Columns["description"] != "edited" || q[1].ID != created || q[1].Op != "create" {
			t.Fatalf("pending changes = %+v, want the update of %s then the create of %s", q, id, created)
		}
		if q, _ := dev.PendingChanges(ctx, 1); len(q) != 1 {
			t.Fatalf("PendingChanges(1) returned %d changes", len(q))
		}
		def, err := dev.Def("workorder")
		testenv.Must(t, err)
		if def.PrimaryKey != "workorderid" || len(def.Columns) == 0 {
			t.Fatalf("Def(workorder) = %+v", def)
		}
	})
}

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no Watch signal after a %s", what)
	}
}
