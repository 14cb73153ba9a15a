package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/store/sqlite"
)

// TestStatementCache runs the same query text while its rows are still
// open (the cached statement is busy: a second one must be used), after a
// schema change (SQLite re-prepares), and many times over.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, i, string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT v FROM t WHERE id >= ? ORDER BY id`
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.QueryContext(ctx, q, 2) // same text, outer still open
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			var w string
			if err := inner.Scan(&w); err != nil {
				t.Fatal(err)
			}
			got = append(got, v+w)
		}
		inner.Close()
	}
	outer.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ac", "bc", "cc"}, got); diff != "" {
		t.Errorf("nested queries (-want +got):\n%s", diff)
	}
	if _, err := db.Write.ExecContext(ctx, `ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'x'`); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		var v string
		if err := db.Write.QueryRowContext(ctx, `SELECT v || w FROM t WHERE id = ?`, i%3).Scan(&v); err != nil {
			t.Fatalf("query %d after schema change: %v", i, err)
		}
		if want := string(rune('a'+i%3)) + "x"; v != want {
			t.Fatalf("query %d = %q, want %q", i, v, want)
		}
		// A new text each time too: past 256 the cache evicts.
		if _, err := db.Write.ExecContext(ctx, fmt.Sprintf(`UPDATE t SET w = 'x' WHERE id = ? AND %d = %d`, i, i), i%3); err != nil {
			t.Fatal(err)
		}
	}
}
