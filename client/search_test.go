package client_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestSearchIndexKeepsContainsSemantics: the device's search index is
// built after the first sync and kept in step with deltas, local creates,
// edits and deletes, and upload results; through every step a quick search
// finds exactly the rows whose search columns contain the text
// (case-sensitive), as the contains filter does, for texts the index
// answers and for those too short for it.
func TestSearchIndexKeepsContainsSemantics(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, e, 1)
			w.seed([]string{w.users[0]}, 3, 2)
			f := &faults{}
			dev := w.device(0, t.TempDir(), f)
			_, err := dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if client.SQLiteDriver == "modernc" {
				db, err := client.OpenSQLite(dev.Path(), true)
				testenv.Must(t, err)
				var n int
				testenv.Must(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'outpost_search_workorder'`).Scan(&n))
				if n != 1 {
					t.Fatalf("the store has no search index of workorder after the first sync")
				}
				// Built with 16 MB of entries gathered per segment, not the 1 MB default.
				var hash int64
				testenv.Must(t, db.QueryRowContext(ctx, `SELECT v FROM outpost_search_workorder_config WHERE k = 'hashsize'`).Scan(&hash))
				testenv.Must(t, db.Close())
				if hash != 16<<20 {
					t.Errorf("search index hashsize %d, want %d", hash, 16<<20)
				}
			}
			check := func(step string) {
				t.Helper()
				checkSearch(t, ctx, dev, step)
			}
			check("first sync")

			// A delta from the server: one row renamed.
			sys := platform.System()
			first, err := dev.Query(ctx, "workorder", client.Query{OrderBy: "workorderid", Top: 3})
			testenv.Must(t, err)
			testenv.Must(t, w.p.Write(ctx, func(wr *platform.Writer) error {
				_, err := wr.Update(ctx, sys, "workorder", first[0]["workorderid"].(string), map[string]any{"name": "Pump seal replaced"})
				return err
			}))
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			check("delta")

			// Local edits offline: a create, an edit, a delete.
			f.set(func(f *faults) { f.down = true })
			_, err = dev.Create(ctx, "workorder", map[string]any{"name": `Pump check, say "hi"`, "description": "x'y"})
			testenv.Must(t, err)
			testenv.Must(t, dev.Update(ctx, "workorder", first[1]["workorderid"].(string), map[string]any{"description": "pump noise"}))
			testenv.Must(t, dev.Delete(ctx, "workorder", first[0]["workorderid"].(string)))
			check("local edits")

			f.set(func(f *faults) { f.down = false })
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			check("uploaded")

			if _, err := dev.Query(ctx, "workorder", client.Query{Search: client.Search{Text: "x", Columns: []string{"priority"}}}); err == nil || !strings.Contains(err.Error(), `"priority" is not a text column`) {
				t.Errorf("search in a choice column: %v, want a 4xx naming the column", err)
			}
		})
	}
}

// checkSearch checks that a quick search of dev's work orders finds exactly
// the rows whose name or description contains the text, for texts the
// search index answers and texts too short for it, with counts to match.
func checkSearch(t *testing.T, ctx context.Context, dev *client.Client, step string) {
	t.Helper()
	cols := []string{"name", "description"}
	all, err := dev.Rows(ctx, "workorder")
	testenv.Must(t, err)
	for _, text := range []string{"WO", "Pump", "pump", "Pump seal", "ump", "x'y", `say "hi"`, "xxxx", "absent"} {
		var want []string
		for id, r := range all {
			for _, c := range cols {
				if s, ok := r[c].(string); ok && strings.Contains(s, text) {
					want = append(want, id)
					break
				}
			}
		}
		slices.Sort(want)
		got, err := dev.Query(ctx, "workorder", client.Query{Search: client.Search{Text: text, Columns: cols}, OrderBy: "workorderid"})
		testenv.Must(t, err)
		var ids []string
		for _, r := range got {
			ids = append(ids, r["workorderid"].(string))
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s: search %q finds %v, want %v", step, text, ids, want)
		}
		n, err := dev.CountSearch(ctx, "workorder", "", client.Search{Text: text, Columns: cols})
		testenv.Must(t, err)
		if n != int64(len(want)) {
			t.Errorf("%s: search %q counts %d, want %d", step, text, n, len(want))
		}
		// Counting up to a limit stops after limit+1 matches.
		capped, err := dev.CountSearchUpTo(ctx, "workorder", "", client.Search{Text: text, Columns: cols}, 2)
		testenv.Must(t, err)
		if want := min(int64(len(want)), 3); capped != want {
			t.Errorf("%s: search %q counts %d up to 2, want %d", step, text, capped, want)
		}
	}
}

// TestSearchIndexBuiltWhileTheAppWrites: the search index is built a few
// rows per transaction after the store is ready, and the app's creates,
// edits and deletes between those transactions, of rows already indexed
// and rows not yet, are all in the index once it is built; a build cut
// short leaves nothing the next sync does not replace.
func TestSearchIndexBuiltWhileTheAppWrites(t *testing.T) {
	if client.SQLiteDriver != "modernc" {
		t.Skip("the cgo driver's store has a search index only with its sqlite_fts5 tag")
	}
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, e, 1)
			w.seed([]string{w.users[0]}, 6, 3)
			f := &faults{}
			dev := w.device(0, t.TempDir(), f)

			// The first sync is cut short in the middle of its index build.
			cctx, cancel := context.WithCancel(ctx)
			calls := 0
			client.SetSearchBuild(dev, 4, func(table string) {
				if table == "workorder" {
					if calls++; calls == 2 {
						cancel()
					}
				}
			})
			if _, err := dev.Sync(cctx, client.SyncOptions{}); err == nil {
				t.Fatal("a sync cancelled during the search index build succeeded")
			}
			if n := searchTables(t, dev, "workorder"); n["outpost_search_workorder$build"] != 1 || n["outpost_search_workorder"] != 0 {
				t.Fatalf("after the cut build: %v, want the build table and no index", n)
			}
			// The store is ready without the index: searches scan.
			checkSearch(t, ctx, dev, "ready, no index")

			// The next sync builds it again, while the app writes between
			// its transactions.
			all, err := dev.Query(ctx, "workorder", client.Query{OrderBy: "workorderid"})
			testenv.Must(t, err)
			first, last := all[0]["workorderid"].(string), all[len(all)-1]["workorderid"].(string)
			calls = 0
			client.SetSearchBuild(dev, 4, func(table string) {
				if table != "workorder" {
					return
				}
				calls++
				switch calls {
				case 2: // the first rows are indexed, the last not yet
					testenv.Must(t, dev.Update(ctx, "workorder", first, map[string]any{"name": "Pump seal replaced"}))
					testenv.Must(t, dev.Update(ctx, "workorder", last, map[string]any{"description": "pump noise"}))
					_, err := dev.Create(ctx, "workorder", map[string]any{"name": `Pump check, say "hi"`, "description": "x'y"})
					testenv.Must(t, err)
				case 3:
					testenv.Must(t, dev.Delete(ctx, "workorder", all[1]["workorderid"].(string)))
					testenv.Must(t, dev.Delete(ctx, "workorder", all[len(all)-2]["workorderid"].(string)))
					testenv.Must(t, dev.Update(ctx, "workorder", first, map[string]any{"description": "xxxx pump"}))
				}
			})
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if calls < 4 {
				t.Fatalf("the build ran %d transactions after its first, want several", calls)
			}
			n := searchTables(t, dev, "workorder")
			if n["outpost_search_workorder"] != 1 || n["outpost_search_workorder$build"] != 0 || n["outpost_search_workorder$pending"] != 0 || n["triggers"] != 4 {
				t.Fatalf("after the build: %v, want the index with its 4 triggers and nothing of the build", n)
			}
			checkSearch(t, ctx, dev, "built while writing")

			// And the index keeps up afterwards.
			testenv.Must(t, dev.Update(ctx, "workorder", last, map[string]any{"name": "Pump seal"}))
			checkSearch(t, ctx, dev, "after the build")
		})
	}
}

// searchTables counts the search tables of table in dev's store by name,
// and under "triggers" the triggers on table.
func searchTables(t *testing.T, dev *client.Client, table string) map[string]int {
	t.Helper()
	db, err := client.OpenSQLite(dev.Path(), true)
	testenv.Must(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT type, name FROM sqlite_master WHERE (type = 'table' AND name LIKE 'outpost_search_' || ? || '%' AND name NOT GLOB '*_data' AND name NOT GLOB '*_idx' AND name NOT GLOB '*_config' AND name NOT GLOB '*_docsize' AND name NOT GLOB '*_content') OR (type = 'trigger' AND tbl_name = ?)`, table, table)
	testenv.Must(t, err)
	defer rows.Close()
	n := map[string]int{}
	for rows.Next() {
		var typ, name string
		testenv.Must(t, rows.Scan(&typ, &name))
		if typ == "trigger" {
			n["triggers"]++
		} else {
			n[name]++
		}
	}
	testenv.Must(t, rows.Err())
	return n
}
