package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// TestShareRightsMigration: shares stored with the old masks (1 read, 2
// write, 4 delete) get Dataverse's values, always with Read; new masks
// are left alone.
func TestShareRightsMigration(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		db := e.Open(t)
		ctx := context.Background()
		want := map[int64]int64{1: 1, 2: 3, 3: 3, 4: 65537, 5: 65537, 7: 65539, 17: 17, 262145: 262145}
		for old := range want {
			if _, err := db.Write.ExecContext(ctx, fmt.Sprintf(`INSERT INTO outpost_share (objecttable, objectid, principalid, accessmask, version) VALUES ('account', 'row%d', 'p', %d, 1)`, old, old)); err != nil {
				t.Fatal(err)
			}
		}
		// Run the migration again over them: masks with bits other
		// than the old three (17, 262145) can only be new ones.
		if _, err := db.Write.ExecContext(ctx, `DELETE FROM outpost_migration WHERE version = 8`); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for old, w := range want {
			var got int64
			if err := db.Read.QueryRowContext(ctx, fmt.Sprintf(`SELECT accessmask FROM outpost_share WHERE objectid = 'row%d'`, old)).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("old mask %d became %d, want %d", old, got, w)
			}
		}
	})
}
