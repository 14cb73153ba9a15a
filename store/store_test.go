package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/outposthq/outpost/internal/testenv"
)

// TestDriverErrors checks each engine's unique and busy detection.
func TestDriverErrors(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
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

func TestVersionsIncrease(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		db := e.Open(t)
		ctx := context.Background()
		var last int64
		for range 3 {
			var v int64
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				v, err = db.NextVersion(ctx, tx)
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
		cur, err := db.CurrentVersion(ctx, db.Read)
		if err != nil || cur < last {
			t.Fatalf("current version = %d, %v; want at least %d", cur, err, last)
		}
	})
}

// TestTxPanicRollsBack checks that a panic inside Tx rolls the transaction
// back at once: its writes are gone and the writer is free for the next
// transaction while the panicking request's context is still alive.
func TestTxPanicRollsBack(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		db := e.Open(t)
		ctx := context.Background() // never cancelled: nothing else ends the transaction
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Errorf("recovered %v, want the panic to pass through Tx", v)
				}
			}()
			_ = db.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_setting (name, value) VALUES ('panic', '1')`); err != nil {
					t.Fatal(err)
				}
				panic("boom")
			})
		}()
		next, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		err := db.Tx(next, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(next, `INSERT INTO outpost_setting (name, value) VALUES ('after', '1')`)
			return err
		})
		if err != nil {
			t.Fatalf("the transaction after a panic: %v", err)
		}
		var n int
		if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM outpost_setting WHERE name = 'panic'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows written before the panic: %d, %v; want 0", n, err)
		}
	})
}
