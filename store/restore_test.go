package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/store"
)

// TestRecordRestore: a recorded restore reads back, and marks as lost the
// times after the backup was taken up to the restore.
func TestRecordRestore(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		db := e.Open(t)
		ctx := context.Background()
		taken := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
		restored := taken.Add(3 * time.Hour)
		if err := store.RecordRestore(ctx, db.Write, db.Dialect, restored, taken); err == nil {
			t.Fatal("a restore from a backup taken after it was recorded")
		}
		if err := store.RecordRestore(ctx, db.Write, db.Dialect, taken, restored); err != nil {
			t.Fatal(err)
		}
		rs, err := store.Restores(ctx, db.Read, db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || !rs[0].Taken.Equal(taken) || !rs[0].Restored.Equal(restored) {
			t.Fatalf("restores = %+v, want one taken %s restored %s", rs, taken, restored)
		}
		for at, lost := range map[time.Time]bool{taken: false, taken.Add(time.Millisecond): true, restored: true, restored.Add(time.Millisecond): false, taken.Add(-time.Hour): false} {
			if got := rs[0].Lost(at); got != lost {
				t.Errorf("Lost(%s) = %v, want %v", at.Format(time.RFC3339Nano), got, lost)
			}
		}
	})
}
