package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/store"
)

// TestDriverErrors checks each engine's unique and busy detection.
func TestDriverErrors(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := e.Open(t)
			ctx := context.Background()
			_, err := db.Write.ExecContext(ctx, `INSERT INTO outpost_setting (name, value) VALUES ('a', '1')`)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Write.ExecContext(ctx, `INSERT INTO outpost_setting (name, value) VALUES ('a', '2')`)
			if err == nil || !db.IsUnique(err) {
				t.Fatalf("duplicate key error %v not detected as unique violation", err)
			}
			if db.IsBusy(err) {
				t.Errorf("unique violation detected as busy")
			}
			// Migrations are idempotent.
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
		})
	}
}

func TestVersionsIncrease(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := e.Open(t)
			ctx := context.Background()
			var last int64
			for range 3 {
				var v int64
				err := db.Tx(ctx, func(tx *sql.Tx) error {
					var err error
					v, err = store.NextVersion(ctx, tx)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if v <= last {
					t.Fatalf("version %d after %d", v, last)
				}
				last = v
			}
			cur, err := store.CurrentVersion(ctx, db.Read)
			if err != nil || cur != last {
				t.Fatalf("current version = %d, %v; want %d", cur, err, last)
			}
		})
	}
}
