package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// TestEndToEnd: a device first-syncs over HTTP, works offline while the
// server changes (updates, a move-out, a team removal, a conflicting edit
// with conflict detection on), reconnects and ends equal to its plan, with
// the conflicting edit in Sync Errors; an administrator retries it.
func TestEndToEnd(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 3)
		w.seed([]string{w.users[0], w.users[1], w.users[2], w.team}, 4, 3)
		f := &faults{}
		dev := w.device(0, t.TempDir(), f)
		res, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if !res.FirstSync {
			t.Fatalf("first sync not reported: %+v", res)
		}
		w.checkEqual(t, 0, dev)
		st, err := dev.Status(ctx)
		testenv.Must(t, err)
		if st.State != client.Connected || !st.Ready {
			t.Fatalf("status after first sync = %s (ready %v), want Connected", st.State, st.Ready)
		}

		// Offline: local edits queue up.
		f.set(func(f *faults) { f.down = true })
		wos, err := dev.Query(ctx, "workorder", client.Query{Filter: "ownerid eq '" + w.users[0] + "'", OrderBy: "workorderid"})
		testenv.Must(t, err)
		if len(wos) < 4 {
			t.Fatalf("want at least 4 own work orders, got %d", len(wos))
		}
		edited, conflicted, deleted, moved := wos[0]["workorderid"].(string), wos[1]["workorderid"].(string), wos[2]["workorderid"].(string), wos[3]["workorderid"].(string)
		testenv.Must(t, dev.Update(ctx, "workorder", edited, map[string]any{"description": "fixed offline"}))
		testenv.Must(t, dev.Delete(ctx, "workorder", deleted))
		created, err := dev.Create(ctx, "workorder", map[string]any{"name": "New offline", "customerid": wos[0]["customerid"], "priority": 2})
		testenv.Must(t, err)
		if _, err := dev.Sync(ctx, client.SyncOptions{}); !errors.Is(err, client.ErrUnreachable) {
			t.Fatalf("offline sync error = %v, want ErrUnreachable", err)
		}
		st, err = dev.Status(ctx)
		testenv.Must(t, err)
		if st.State != client.NotConnectedPendingUpsync || st.PendingUploads != 3 {
			t.Fatalf("offline status = %s with %d pending, want NotConnectedPendingUpsync with 3", st.State, st.PendingUploads)
		}

		// Meanwhile on the server.
		sys := platform.System()
		_, err = w.p.Update(ctx, sys, "workorder", edited, map[string]any{"priority": 3})
		testenv.Must(t, err)
		_, err = w.p.Assign(ctx, sys, "workorder", moved, w.users[2])
		testenv.Must(t, err)
		testenv.Must(t, w.p.RemoveTeamMember(ctx, sys, w.team, w.users[0]))
		w.seed([]string{w.users[0]}, 1, 2)

		// Back online.
		f.set(func(f *faults) { f.down = false })
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if res.Uploaded != 3 || res.Rejected != 0 {
			le, _ := dev.LocalErrors(ctx)
			t.Fatalf("upload: %d applied, %d rejected; want 3 and 0: %+v", res.Uploaded, res.Rejected, le)
		}
		w.checkEqual(t, 0, dev)
		got, err := dev.Get(ctx, "workorder", edited)
		testenv.Must(t, err)
		if got["description"] != "fixed offline" || got["priority"] != int64(3) {
			t.Fatalf("per-column last writer wins: got description %v priority %v", got["description"], got["priority"])
		}
		if _, err := dev.Get(ctx, "workorder", created); err != nil {
			t.Fatalf("created row: %v", err)
		}

		// Server wins: with conflict detection on, an offline edit of a
		// row the server changed meanwhile is rejected and reverted.
		testenv.Must(t, w.eng.SetSettings(ctx, sys, wire.Settings{ConflictDetection: true}))
		f.set(func(f *faults) { f.down = true })
		testenv.Must(t, dev.Update(ctx, "workorder", conflicted, map[string]any{"description": "device version"}))
		_, err = w.p.Update(ctx, sys, "workorder", conflicted, map[string]any{"description": "server version"})
		testenv.Must(t, err)
		f.set(func(f *faults) { f.down = false })
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if res.Rejected != 1 {
			t.Fatalf("rejected %d changes, want 1", res.Rejected)
		}
		w.checkEqual(t, 0, dev)
		got, err = dev.Get(ctx, "workorder", conflicted)
		testenv.Must(t, err)
		if got["description"] != "server version" {
			t.Fatalf("rejected change not reverted: description %v", got["description"])
		}
		errs, err := dev.ServerErrors(ctx, false)
		testenv.Must(t, err)
		if len(errs) != 1 || errs[0].Type != wire.ErrorConflict || errs[0].RegardingID != conflicted || errs[0].Action != 1 || errs[0].OwnerID != w.users[0] {
			t.Fatalf("sync errors = %+v, want one update conflict on %s", errs, conflicted)
		}
		st, err = dev.Status(ctx)
		testenv.Must(t, err)
		if st.State != client.ConnectedWithWarning || st.ActiveErrors != 1 {
			t.Fatalf("status = %s with %d errors, want ConnectedWithWarning with 1", st.State, st.ActiveErrors)
		}

		// An administrator retries: the device's version wins now.
		admin, err := client.Open(ctx, client.Options{Dir: t.TempDir(), Server: w.srv.URL, Token: w.admin, AppID: "fieldapp", HTTPClient: &http.Client{}})
		testenv.Must(t, err)
		defer admin.Close()
		se, err := admin.RetryError(ctx, errs[0].ID)
		testenv.Must(t, err)
		if se.State != 1 {
			t.Fatalf("retried error state = %d, want 1 (resolved)", se.State)
		}
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		w.checkEqual(t, 0, dev)
		got, err = dev.Get(ctx, "workorder", conflicted)
		testenv.Must(t, err)
		if got["description"] != "device version" {
			t.Fatalf("after retry description = %v, want the device's", got["description"])
		}
	})
}
