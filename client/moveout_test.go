package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestMoveOutTransfersOnlyTheRemoval: one work order reassigned away
// reaches the device as one removal; the bytes are a tiny fraction of the
// table, and no row is downloaded again. It also reports the first sync's
// rate.
func TestMoveOutTransfersOnlyTheRemoval(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 3)
		w.seed([]string{w.users[0]}, 400, 5)
		w.seed([]string{w.users[2]}, 50, 5)
		dev := w.device(0, t.TempDir(), &faults{})
		start := time.Now()
		res, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		elapsed := time.Since(start)
		_, first := dev.Traffic()
		t.Logf("first sync: %d rows, %d bytes in %v (%.0f rows/s)", res.Upserted, first, elapsed.Round(time.Millisecond), float64(res.Upserted)/elapsed.Seconds())

		wos, err := dev.Query(ctx, "workorder", client.Query{Top: 1})
		testenv.Must(t, err)
		_, err = w.p.Assign(ctx, platform.System(), "workorder", wos[0]["workorderid"].(string), w.users[2])
		testenv.Must(t, err)
		sent0, recv0 := dev.Traffic()
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		sent1, recv1 := dev.Traffic()
		t.Logf("move-out delta: %d bytes down, %d bytes up, %d removed, %d upserted, rounds %d, reconciled %v (table download was %d bytes)",
			recv1-recv0, sent1-sent0, res.Removed, res.Upserted, res.Rounds, res.Reconciled, first)
		if res.Removed != 1 || res.Upserted != 0 {
			t.Fatalf("move-out: removed %d, upserted %d; want 1 and 0", res.Removed, res.Upserted)
		}
		if recv1-recv0 > first/100 {
			t.Fatalf("move-out downloaded %d bytes, more than 1%% of the first sync's %d", recv1-recv0, first)
		}
		w.checkEqual(t, 0, dev)

		// Nothing changed: one cheap round trip.
		sent0, recv0 = dev.Traffic()
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		sent1, recv1 = dev.Traffic()
		t.Logf("smart skip: %d bytes down, %d up, %d round(s)", recv1-recv0, sent1-sent0, res.Rounds)
		if res.Rounds != 1 || res.Upserted+res.Removed != 0 {
			t.Fatalf("smart skip: %+v", res)
		}

		// Full delta sync re-checks everything and transfers only sums.
		_, recv0 = dev.Traffic()
		res, err = dev.Sync(ctx, client.SyncOptions{Full: true})
		testenv.Must(t, err)
		_, recv1 = dev.Traffic()
		t.Logf("full delta sync without drift: %d bytes down", recv1-recv0)
		if res.Upserted+res.Removed != 0 {
			t.Fatalf("full sync without drift changed rows: %+v", res)
		}
	})
}

// TestTeamRemovalByRule: when the user leaves a team, the server works out
// which rows left the device's scope itself and sends the team's rows as
// one removal rule, the related rows that left as ids, and no checksums;
// a team row shared with the user stays. Rejoining brings the rows back
// the same way, without a reconciliation.
func TestTeamRemovalByRule(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		sys := platform.System()
		w := newWorld(t, e, 3)
		w.planner.shares.Store(true)
		w.seed([]string{w.users[0]}, 30, 3)
		w.seed([]string{w.team}, 20, 3)
		dev := w.device(0, t.TempDir(), &faults{})
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		_, first := dev.Traffic()
		w.checkEqual(t, 0, dev)

		teamRows, err := w.p.List(ctx, sys, "workorder", platform.Query{Filter: "ownerid eq '" + w.team + "'", Top: 1})
		testenv.Must(t, err)
		kept := teamRows.Rows[0]["workorderid"].(string)
		testenv.Must(t, w.p.Share(ctx, sys, "workorder", kept, w.users[0], platform.ShareRead))
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)

		testenv.Must(t, w.p.RemoveTeamMember(ctx, sys, w.team, w.users[0]))
		sent0, recv0 := dev.Traffic()
		res, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		sent1, recv1 := dev.Traffic()
		t.Logf("team removal: %d bytes down, %d up, %d removed, %d upserted, rounds %d, reconciled %v (first sync %d bytes)",
			recv1-recv0, sent1-sent0, res.Removed, res.Upserted, res.Rounds, res.Reconciled, first)
		if len(res.Reconciled) != 0 {
			t.Fatalf("team removal reconciled %v; want a server-computed delta", res.Reconciled)
		}
		w.checkEqual(t, 0, dev)
		if _, err := dev.Get(ctx, "workorder", kept); err != nil {
			t.Fatalf("the team row shared with the user left the device: %v", err)
		}
		if up := sent1 - sent0; up > 2000 {
			t.Fatalf("team removal sent %d bytes up; the device should not list its rows", up)
		}

		testenv.Must(t, w.p.AddTeamMember(ctx, sys, w.team, w.users[0]))
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if len(res.Reconciled) != 0 || res.Upserted == 0 {
			t.Fatalf("team re-added: reconciled %v, upserted %d; want the rows sent without reconciliation", res.Reconciled, res.Upserted)
		}
		w.checkEqual(t, 0, dev)

		// Nothing of the team's stays: each table's removal is one rule.
		testenv.Must(t, w.p.Share(ctx, sys, "workorder", kept, w.users[0], 0))
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		testenv.Must(t, w.p.RemoveTeamMember(ctx, sys, w.team, w.users[0]))
		_, recv0 = dev.Traffic()
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		_, recv1 = dev.Traffic()
		t.Logf("team removal by rule: %d bytes down, %d removed", recv1-recv0, res.Removed)
		if res.Removed != 100 || recv1-recv0 > 1500 {
			t.Fatalf("team removal by rule: %d removed in %d bytes; want 100 rows in a few hundred bytes", res.Removed, recv1-recv0)
		}
		w.checkEqual(t, 0, dev)
	})
}
