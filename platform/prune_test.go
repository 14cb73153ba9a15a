package platform_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestPruneDropsOnlyWhatNoReaderNeeds: tombstones and scope log entries at
// or below the newest version marked longer ago than keep are dropped,
// newer ones stay, and a change read from below the horizon is refused
// with "gone" instead of silently missing deletions.
func TestPruneDropsOnlyWhatNoReaderNeeds(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		p, err := platform.Open(ctx, e.Open(t), platform.Options{Now: clock})
		testenv.Must(t, err)
		o := newOrg(t, p)
		sys := platform.System()
		create := func(n int) []string {
			var ids []string
			for range n {
				r, err := p.Create(ctx, sys, "task", map[string]any{"subject": "t", "ownerid": o.u1})
				testenv.Must(t, err)
				ids = append(ids, r["taskid"].(string))
			}
			return ids
		}
		count := func(table string) int {
			var n int
			testenv.Must(t, p.DB().Read.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n))
			return n
		}

		old := create(3)
		for _, id := range old {
			testenv.Must(t, p.Delete(ctx, sys, "task", id))
		}
		before, err := p.ChangesSince(ctx, "task", 0, 100)
		testenv.Must(t, err)
		testenv.Must(t, p.MarkVersion(ctx)) // the version after the old deletes, marked now
		advance(48 * time.Hour)
		fresh := create(2)
		testenv.Must(t, p.Delete(ctx, sys, "task", fresh[0]))
		tombs, logs := count("outpost_tombstone"), count("outpost_scopelog")

		res, err := p.Prune(ctx, 72*time.Hour) // nothing is that old yet
		testenv.Must(t, err)
		if res.Horizon != 0 || count("outpost_tombstone") != tombs {
			t.Fatalf("prune with nothing old enough: %+v, tombstones %d -> %d", res, tombs, count("outpost_tombstone"))
		}
		res, err = p.Prune(ctx, 24*time.Hour)
		testenv.Must(t, err)
		t.Logf("pruned %+v (tombstones %d, scope log %d before)", res, tombs, logs)
		// The mark is the token when it was taken: at least the token read
		// after the old deletes (on PostgreSQL, other transactions of the
		// database move it on too), and below the fresh writes.
		if res.Horizon < before.Token || res.Tombstones != 3 || res.ScopeLog == 0 {
			t.Fatalf("prune: %+v, want horizon at least %d and the 3 old tombstones", res, before.Token)
		}
		if got := count("outpost_tombstone"); got != tombs-3 {
			t.Fatalf("%d tombstones left, want %d", got, tombs-3)
		}

		// A reader at the horizon or later misses nothing; one below it
		// is told to start over.
		// (The horizon is the token read after the old deletes where
		// versions are the environment's counter; with transaction-id
		// versions other transactions of the cluster may have moved it on.)
		ch, err := p.ChangesSince(ctx, "task", res.Horizon, 100)
		testenv.Must(t, err)
		if len(ch.Deleted) != 1 || ch.Deleted[0].ID != fresh[0] {
			t.Fatalf("changes after the horizon: deleted %+v, want %s", ch.Deleted, fresh[0])
		}
		_, err = p.ChangesSince(ctx, "task", res.Horizon-1, 100)
		wantCode(t, err, outpost.CodeGone)
		if _, err := p.ChangesSince(ctx, "task", 0, 100); err != nil {
			t.Fatalf("a read from the start is always possible: %v", err)
		}
	})
}

// TestCreateAgainUnderDeletedID: a row created again under the id of a
// deleted row is no longer reported deleted; a create under an id the
// server makes up touches no tombstone.
func TestCreateAgainUnderDeletedID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		o := newOrg(t, p)
		id := outpost.NewID()
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "task", map[string]any{"taskid": id, "subject": "first", "ownerid": o.u1}))
		testenv.Must(t, p.Delete(ctx, sys, "task", id))
		ch := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "task", 0, 100))
		if len(ch.Deleted) != 1 || ch.Deleted[0].ID != id {
			t.Fatalf("after the delete: deleted %+v, want %s", ch.Deleted, id)
		}
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "task", map[string]any{"taskid": id, "subject": "again", "ownerid": o.u1}))
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "task", map[string]any{"subject": "new id", "ownerid": o.u1}))
		ch = testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "task", 0, 100))
		if len(ch.Deleted) != 0 || len(ch.Rows) != 2 {
			t.Fatalf("after creating it again: %d rows, deleted %+v; want 2 rows and no deletion", len(ch.Rows), ch.Deleted)
		}
	})
}
