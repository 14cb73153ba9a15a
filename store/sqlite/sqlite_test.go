package sqlite

import (
	"context"
	"database/sql"
	"testing"
)

// TestReadPragmas checks that reader connections get their cache and
// memory map settings.
func TestReadPragmas(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.ReadTx(ctx, func(tx *sql.Tx) error {
		for name, want := range map[string]int64{"cache_size": -65536, "mmap_size": 268435456, "query_only": 1} {
			var got int64
			if err := tx.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				return err
			}
			if got != want {
				t.Errorf("reader %s = %d, want %d", name, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
