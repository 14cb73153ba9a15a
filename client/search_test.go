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
			cols := []string{"name", "description"}
			check := func(step string) {
				t.Helper()
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
