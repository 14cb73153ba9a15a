package store_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
)

// TestWholeVersions checks the one reader of changes by version: pages end
// at whole versions, a version larger than the limit comes whole, and
// reading on from upper resumes exactly.
func TestWholeVersions(t *testing.T) {
	// Items are their versions; version 5 has four items.
	all := []int64{1, 2, 2, 3, 5, 5, 5, 5, 7, 8}
	read := func(after int64) func(hi int64, n int) ([]int64, error) {
		return func(hi int64, n int) ([]int64, error) {
			var out []int64
			for _, v := range all {
				if v > after && v <= hi && (n == 0 || len(out) < n) {
					out = append(out, v)
				}
			}
			return out, nil
		}
	}
	id := func(v int64) int64 { return v }
	var got []int64
	after, pages := int64(0), 0
	for {
		items, upper, more, err := store.WholeVersions(after, 9, 3, read(after), id)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(items); i++ {
			if items[i] < items[i-1] {
				t.Fatalf("page %v is not in version order", items)
			}
		}
		if len(items) > 0 && items[len(items)-1] > upper {
			t.Fatalf("page %v goes past its upper version %d", items, upper)
		}
		got = append(got, items...)
		pages++
		if !more {
			if upper != 9 {
				t.Fatalf("last page ends at %d, want the token 9", upper)
			}
			break
		}
		after = upper
	}
	if !slices.Equal(got, all) {
		t.Fatalf("read %v in %d pages, want %v", got, pages, all)
	}
	items, upper, more, _ := store.WholeVersions(3, 9, 2, read(3), id)
	if !slices.Equal(items, []int64{5, 5, 5, 5}) || upper != 5 || !more {
		t.Fatalf("version 5 over the limit: %v up to %d (more %v), want it whole", items, upper, more)
	}
}

// TestTokenPassesOtherTransactions checks that a transaction that is not
// this environment's writer (another schema, another application) does
// not hold tokens back, while one of this environment's does.
func TestTokenPassesOtherTransactions(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		db := e.Open(t)
		ctx := context.Background()
		write := func() int64 {
			var v int64
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				v, err = db.NextVersion(ctx, tx)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return v
		}
		token := func() int64 {
			v, err := db.CurrentVersion(ctx, db.Read)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if db.Dialect.IsPostgres() {
			other, err := sql.Open("pgx", os.Getenv("OUTPOST_TEST_POSTGRES"))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			otx, err := other.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer otx.Rollback()
			if _, err := otx.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil {
				t.Fatal(err)
			}
			if v := write(); token() < v {
				t.Fatalf("token %d is below version %d though only a foreign transaction is in flight", token(), v)
			}
		}
		// One of ours in flight holds the token below its version.
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.NextVersion(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect.IsPostgres() {
			if tok := token(); tok >= v {
				t.Fatalf("token %d while version %d is in flight", tok, v)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if tok := token(); tok < v {
			t.Fatalf("token %d after version %d committed", tok, v)
		}
	})
}

// TestNewPostgresDatabaseTakesXIDVersions checks the writer-version mode
// Migrate picks: a new PostgreSQL database takes transaction ids unless
// OUTPOST_PG_XID_VERSIONS is 0; one that already holds a migrated store
// keeps its counter row until the variable is 1, and keeps transaction
// ids after that whatever the variable says.
func TestNewPostgresDatabaseTakesXIDVersions(t *testing.T) {
	for _, c := range []struct {
		fresh bool
		env   string
		want  bool
	}{{true, "", true}, {true, "1", true}, {true, "0", false}, {false, "", false}, {false, "0", false}, {false, "1", true}} {
		if got := store.XIDVersionsWanted(c.fresh, c.env); got != c.want {
			t.Errorf("XIDVersionsWanted(fresh %v, %q) = %v, want %v", c.fresh, c.env, got, c.want)
		}
	}
	url := testenv.PostgresURL(t)
	open := func(env string) bool {
		t.Helper()
		t.Setenv("OUTPOST_PG_XID_VERSIONS", env)
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open with OUTPOST_PG_XID_VERSIONS=%q: %v", env, err)
		}
		defer db.Close()
		return db.SparseVersions()
	}
	if open("0") {
		t.Fatal("a new database opened with OUTPOST_PG_XID_VERSIONS=0 took transaction-id versions")
	}
	if open("") {
		t.Fatal("a database with a counter row switched to transaction-id versions without OUTPOST_PG_XID_VERSIONS=1")
	}
	if !open("1") {
		t.Fatal("OUTPOST_PG_XID_VERSIONS=1 did not switch the database to transaction-id versions")
	}
	if !open("0") {
		t.Fatal("a database with transaction-id versions went back to the counter row")
	}
	if !open("") {
		t.Fatal("transaction-id versions did not stay on")
	}
	url = testenv.PostgresURL(t)
	if !open("") {
		t.Fatal("a new database opened without OUTPOST_PG_XID_VERSIONS did not take transaction-id versions")
	}
}
