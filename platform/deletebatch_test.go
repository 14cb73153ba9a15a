package platform_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// TestDeleteBatchMatchesDelete deletes two identical sets of rows, one
// with Writer.Delete row by row and one through a DeleteBatch, and checks
// that they leave the same state: rows gone with tombstones at the
// write's version, lookups to them cleared at that version, relationship
// rows, shares and files gone; and that the batch refuses, having done
// nothing, the deletes Writer.Delete refuses.
func TestDeleteBatchMatchesDelete(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		o := newOrg(t, p)
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, platform.TableInput{Name: "site", Ownership: schema.OwnedByUser,
			Columns: []schema.Column{{Name: "plan", Type: schema.File}}}))
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, platform.TableInput{Name: "visit", Ownership: schema.OwnedByUser,
			Columns: []schema.Column{{Name: "siteid", Type: schema.Lookup, Target: "site"}}}))
		testenv.Must(t, p.CreateManyToMany(ctx, sys, schema.ManyToManyDef{Name: "site_contact", Table1: "site", Table2: "contact", Intersect: "site_contact"}))
		grants := []security.Grant{}
		for _, table := range []string{"site", "visit"} {
			for _, priv := range []security.Privilege{security.Create, security.Read, security.Write, security.Delete, security.Append, security.AppendTo, security.Share} {
				grants = append(grants, security.Grant{Table: table, Privilege: priv, Depth: security.User})
			}
		}
		grants = append(grants, security.Grant{Table: "site", Privilege: security.Read, Depth: security.BusinessUnit})
		role(t, p, o.u1, false, grants...)
		u1 := principal(t, p, o.u1)
		testenv.Must(t, p.Write(ctx, func(w *platform.Writer) error {
			if !w.BatchDeletable("site") || w.BatchDeletable("account") {
				t.Error("site (no lookup to itself) must be batch-deletable and account (parentaccountid) not")
			}
			return nil
		}))
		contact := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "contact", map[string]any{"lastname": "c", "ownerid": o.u1}))["contactid"].(string)
		// set makes n sites of u1, each with a visit, a contact link, a share
		// and a file.
		set := func(tag string, n int) []string {
			var ids []string
			for i := range n {
				id := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "site", map[string]any{"name": fmt.Sprintf("%s %d", tag, i)}))["siteid"].(string)
				testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "visit", map[string]any{"name": "v", "siteid": id}))
				testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "site_contact", map[string]any{"siteid": id, "contactid": contact}))
				testenv.Must(t, p.Share(ctx, u1, "site", id, o.u2, platform.ShareRead))
				testenv.Must(t, p.Write(ctx, func(w *platform.Writer) error {
					_, err := w.PutFile(ctx, u1, "site", id, "plan", platform.FileInput{Name: "plan.txt", Content: []byte("plan " + id)})
					return err
				}))
				ids = append(ids, id)
			}
			return ids
		}
		one, batch := set("one", 5), set("batch", 5)
		others := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "site", map[string]any{"name": "u2's", "ownerid": o.u2}))["siteid"].(string)
		missing := outpost.NewID()

		var vOne, vBatch int64
		testenv.Must(t, p.Write(ctx, func(w *platform.Writer) error {
			vOne = w.Version()
			for _, id := range one {
				if err := w.Delete(ctx, u1, "site", id); err != nil {
					return err
				}
			}
			return nil
		}))
		testenv.Must(t, p.Write(ctx, func(w *platform.Writer) error {
			vBatch = w.Version()
			b, err := w.PrepareDeletes(ctx, u1, "site", append([]string{others, missing}, batch...))
			if err != nil {
				return err
			}
			if _, ok := b.Version(missing); ok {
				t.Error("a missing row has a version")
			}
			if v, ok := b.Version(others); !ok || v == 0 {
				t.Error("a row u1 may read (business unit) has no version")
			}
			if b.Delete(others) || b.Delete(missing) {
				t.Error("the batch deletes a row u1 may not delete, or one that does not exist")
			}
			for _, id := range batch {
				if !b.Delete(id) {
					t.Errorf("the batch refused to delete %s", id)
				}
			}
			if b.Delete(batch[0]) {
				t.Error("the batch deletes a row twice")
			}
			return b.Flush(ctx)
		}))
		wantCode(t, p.Delete(ctx, u1, "site", others), outpost.CodeForbidden)

		db := p.DB()
		q := func(query string, args ...any) int64 {
			t.Helper()
			var n int64
			testenv.Must(t, db.Read.QueryRowContext(ctx, query, args...).Scan(&n))
			return n
		}
		ph := db.Dialect.Placeholder
		state := func(id string, version int64) string {
			return fmt.Sprintf("site=%d tombstone=%d visit lookup=%d cleared at version=%d links=%d shares=%d files=%d",
				q(`SELECT count(*) FROM site WHERE siteid = `+ph(1), id),
				q(`SELECT count(*) FROM outpost_tombstone WHERE tablename = 'site' AND id = `+ph(1)+` AND version = `+ph(2), id, version),
				q(`SELECT count(*) FROM visit WHERE siteid = `+ph(1), id),
				q(`SELECT count(*) FROM visit WHERE siteid IS NULL AND versionnumber = `+ph(1), version),
				q(`SELECT count(*) FROM site_contact WHERE siteid = `+ph(1), id),
				q(`SELECT count(*) FROM outpost_share WHERE objecttable = 'site' AND objectid = `+ph(1), id),
				q(`SELECT count(*) FROM outpost_file WHERE tablename = 'site' AND objectid = `+ph(1), id))
		}
		want := "site=0 tombstone=1 visit lookup=0 cleared at version=5 links=0 shares=0 files=0"
		for i := range one {
			if got := state(one[i], vOne); got != want {
				t.Errorf("after Writer.Delete: %s, want %s", got, want)
			}
			if got := state(batch[i], vBatch); got != want {
				t.Errorf("after the DeleteBatch: %s, want %s", got, want)
			}
		}
		if got := q(`SELECT count(*) FROM site WHERE siteid = `+ph(1), others); got != 1 {
			t.Errorf("the row the batch refused is gone")
		}
	})
}
