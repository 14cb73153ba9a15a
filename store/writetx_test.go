package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/store"
)

// TestWriteTx checks a write transaction that begins with its version and
// keeps statements for its commit: on PostgreSQL the first statement goes
// with the BEGIN and the kept ones with the COMMIT (one pipeline each); on
// SQLite both run in place. Either way the transaction commits or fails
// whole, and no connection goes back to the pool inside a transaction.
func TestWriteTx(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := e.Open(t)
			pg := db.Dialect.IsPostgres()
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `CREATE TABLE writetx (id TEXT PRIMARY KEY)`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			count := func(q interface {
				QueryRowContext(context.Context, string, ...any) *sql.Row
			}) int {
				t.Helper()
				var n int
				if err := q.QueryRowContext(ctx, `SELECT count(*) FROM writetx`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			insert := db.Dialect.Placeholders(1, 1)
			before, err := db.CurrentVersion(ctx, db.Read)
			if err != nil {
				t.Fatal(err)
			}

			// The version and the subquery come with the transaction; a kept
			// statement waits for the commit on PostgreSQL.
			if err := db.WriteTx(ctx, "SELECT 41 + 1", func(tx *sql.Tx, v, also int64) error {
				if v <= before || also != 42 {
					t.Errorf("version %d (token before %d), subquery %d; want a version above the token and 42", v, before, also)
				}
				if _, err := tx.ExecContext(store.AtCommit(ctx), `INSERT INTO writetx (id) VALUES (`+insert+`)`, "a"); err != nil {
					return err
				}
				want := 1
				if pg {
					want = 0
				}
				if got := count(tx); got != want {
					t.Errorf("rows before the commit = %d, want %d", got, want)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := count(db.Read); got != 1 {
				t.Fatalf("rows after the commit = %d, want 1", got)
			}

			// A kept statement that fails fails the commit, and nothing of the
			// transaction stays.
			err = db.WriteTx(ctx, "SELECT 0", func(tx *sql.Tx, _, _ int64) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO writetx (id) VALUES (`+insert+`)`, "b"); err != nil {
					return err
				}
				_, err := tx.ExecContext(store.AtCommit(ctx), `INSERT INTO writetx (id) VALUES (`+insert+`)`, "a")
				return err
			})
			if err == nil || !db.IsUnique(err) {
				t.Fatalf("commit with a duplicate row kept for it: %v, want a unique violation", err)
			}
			if got := count(db.Read); got != 1 {
				t.Errorf("rows after the failed commit = %d, want 1", got)
			}

			// A transaction that fails drops what it kept; one whose context
			// ends rolls back.
			failed := errors.New("fails")
			if err := db.WriteTx(ctx, "SELECT 0", func(tx *sql.Tx, _, _ int64) error {
				if _, err := tx.ExecContext(store.AtCommit(ctx), `INSERT INTO writetx (id) VALUES (`+insert+`)`, "c"); err != nil {
					return err
				}
				return failed
			}); !errors.Is(err, failed) {
				t.Fatalf("failing transaction: %v, want its error", err)
			}
			cctx, cancel := context.WithCancel(ctx)
			_ = db.WriteTx(cctx, "SELECT 0", func(tx *sql.Tx, _, _ int64) error {
				if _, err := tx.ExecContext(cctx, `INSERT INTO writetx (id) VALUES (`+insert+`)`, "d"); err != nil {
					return err
				}
				cancel()
				_, err := tx.ExecContext(store.AtCommit(cctx), `INSERT INTO writetx (id) VALUES (`+insert+`)`, "e")
				return err
			})
			cancel()
			if got := count(db.Read); got != 1 {
				t.Errorf("rows after the failed and the cancelled transactions = %d, want 1", got)
			}

			// The pool's connections are all usable and none is left in a
			// transaction.
			for i := range 40 {
				if err := db.WriteTx(ctx, "SELECT 1", func(tx *sql.Tx, _, also int64) error {
					if also != 1 {
						t.Errorf("subquery read %d, want 1", also)
					}
					_, err := tx.ExecContext(store.AtCommit(ctx), `INSERT INTO writetx (id) VALUES (`+insert+`)`, "many"+string(rune('a'+i%26))+string(rune('a'+i/26)))
					return err
				}); err != nil {
					t.Fatalf("write %d after the failures: %v", i, err)
				}
			}
			if got := count(db.Read); got != 41 {
				t.Errorf("rows at the end = %d, want 41", got)
			}
			if pg {
				var open int
				if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open); err != nil {
					t.Fatal(err)
				}
				if open != 0 {
					t.Errorf("%d connections idle in a transaction", open)
				}
			}
		})
	}
}
