package platform_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// tasks creates tasks t00..t(n-1) owned by owner, with prioritycode i%3.
func tasks(t *testing.T, p *platform.Platform, owner string, n int) {
	t.Helper()
	ctx := context.Background()
	testenv.Must(t, p.Write(ctx, func(w *platform.Writer) error {
		for i := range n {
			in := map[string]any{"subject": fmt.Sprintf("t%02d", i), "prioritycode": i % 3, "ownerid": owner,
				"scheduledend": fmt.Sprintf("2026-01-%02dT10:00:00Z", i%28+1)}
			if i%4 == 0 {
				in["description"] = "has " + strings.Repeat("x", i)
			}
			if _, err := w.Create(ctx, platform.System(), "task", in); err != nil {
				return err
			}
		}
		return nil
	}))
}

func subjects(rows []outpost.Row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r["subject"].(string))
	}
	return out
}

func TestListODataOptions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		tasks(t, p, o.u1, 12)
		sys := platform.System()
		list := func(q platform.Query) *platform.Page {
			t.Helper()
			return testenv.MustGet[*platform.Page](t)(p.List(ctx, sys, "task", q))
		}
		tests := []struct {
			name string
			q    platform.Query
			want []string
		}{
			{"eq", platform.Query{Filter: "prioritycode eq 2"}, []string{"t02", "t05", "t08", "t11"}},
			{"and/or/not", platform.Query{Filter: "(prioritycode eq 0 or subject eq 't01') and not (subject eq 't09')"}, []string{"t00", "t01", "t03", "t06"}},
			{"ranges", platform.Query{Filter: "prioritycode ge 1 and subject lt 't05'"}, []string{"t01", "t02", "t04"}},
			{"contains and startswith", platform.Query{Filter: "contains(description,'xxxxxxxx') and startswith(subject,'t')"}, []string{"t08"}},
			{"endswith", platform.Query{Filter: "endswith(subject,'1')"}, []string{"t01", "t11"}},
			{"null", platform.Query{Filter: "description eq null and prioritycode eq 1"}, []string{"t01", "t07", "t10"}},
			{"in", platform.Query{Filter: "subject in ('t03','t07','zz')"}, []string{"t03", "t07"}},
			{"ne includes nulls", platform.Query{Filter: "description ne 'has ' and prioritycode eq 0"}, []string{"t03", "t06", "t09"}},
			{"datetime", platform.Query{Filter: "scheduledend gt 2026-01-10T00:00:00Z"}, []string{"t09", "t10", "t11"}},
			{"orderby desc top", platform.Query{OrderBy: []platform.Order{{Column: "subject", Desc: true}}, Top: 3}, []string{"t11", "t10", "t09"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				if q.OrderBy == nil {
					q.OrderBy = []platform.Order{{Column: "subject"}}
				}
				if diff := cmp.Diff(tt.want, subjects(list(q).Rows)); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
			})
		}
		// $select returns only the chosen columns plus id and version.
		page := list(platform.Query{Select: []string{"subject"}, Top: 1, OrderBy: []platform.Order{{Column: "subject"}}})
		if len(page.Rows[0]) != 3 {
			t.Errorf("$select row = %v, want subject, taskid and versionnumber", page.Rows[0])
		}
		// Server-driven paging walks every row once; $count ignores paging.
		var all []string
		q := platform.Query{PageSize: 5, Count: true, OrderBy: []platform.Order{{Column: "subject"}}}
		for pages := 0; ; pages++ {
			pg := list(q)
			if *pg.Count != 12 {
				t.Fatalf("count = %d, want 12", *pg.Count)
			}
			all = append(all, subjects(pg.Rows)...)
			if !pg.More {
				if pages != 2 {
					t.Errorf("%d pages, want 3", pages+1)
				}
				break
			}
			q.Skip = pg.NextSkip
		}
		if len(all) != 12 || all[0] != "t00" || all[11] != "t11" {
			t.Errorf("paging returned %v", all)
		}
		// $top with paging stops at $top.
		pg := list(platform.Query{PageSize: 5, Top: 7, OrderBy: []platform.Order{{Column: "subject"}}})
		pg2 := list(platform.Query{PageSize: 5, Top: 7, Skip: pg.NextSkip, OrderBy: []platform.Order{{Column: "subject"}}})
		if len(pg.Rows) != 5 || len(pg2.Rows) != 2 || pg2.More {
			t.Errorf("top 7 in pages of 5 gave %d then %d rows (more=%v)", len(pg.Rows), len(pg2.Rows), pg2.More)
		}
	})
}

func TestDataBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		acc := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": o.u1}))
		id := acc["accountid"].(string)
		tests := []struct {
			name   string
			op     func() error
			code   outpost.Code
			target string
		}{
			{"unknown table", func() error { _, err := p.Create(ctx, sys, "nope", map[string]any{}); return err }, outpost.CodeNotFound, "nope"},
			{"unknown column", func() error {
				_, err := p.Create(ctx, sys, "account", map[string]any{"name": "x", "nope": 1, "ownerid": o.u1})
				return err
			}, outpost.CodeInvalid, "nope"},
			{"wrong type", func() error {
				_, err := p.Create(ctx, sys, "account", map[string]any{"name": 5, "ownerid": o.u1})
				return err
			}, outpost.CodeInvalid, "name"},
			{"too long", func() error {
				_, err := p.Create(ctx, sys, "account", map[string]any{"name": strings.Repeat("x", 161), "ownerid": o.u1})
				return err
			}, outpost.CodeInvalid, "name"},
			{"missing required", func() error { _, err := p.Create(ctx, sys, "account", map[string]any{"ownerid": o.u1}); return err }, outpost.CodeInvalid, "name"},
			{"null required", func() error { _, err := p.Update(ctx, sys, "account", id, map[string]any{"name": nil}); return err }, outpost.CodeInvalid, "name"},
			{"system column", func() error {
				_, err := p.Update(ctx, sys, "account", id, map[string]any{"versionnumber": 1})
				return err
			}, outpost.CodeInvalid, "versionnumber"},
			{"bad date", func() error {
				_, err := p.Create(ctx, sys, "contact", map[string]any{"lastname": "x", "birthdate": "yesterday", "ownerid": o.u1})
				return err
			}, outpost.CodeInvalid, "birthdate"},
			{"bad lookup id", func() error {
				_, err := p.Update(ctx, sys, "account", id, map[string]any{"primarycontactid": "123"})
				return err
			}, outpost.CodeInvalid, "primarycontactid"},
			{"duplicate id", func() error {
				_, err := p.Create(ctx, sys, "account", map[string]any{"accountid": id, "name": "dup", "ownerid": o.u1})
				return err
			}, outpost.CodeConflict, "accountid"},
			{"missing row", func() error {
				_, err := p.Update(ctx, sys, "account", outpost.NewID(), map[string]any{"name": "x"})
				return err
			}, outpost.CodeNotFound, "id"},
			{"bad id", func() error { return p.Delete(ctx, sys, "account", "42") }, outpost.CodeInvalid, "id"},
			{"bad filter", func() error { _, err := p.List(ctx, sys, "account", platform.Query{Filter: "name eq"}); return err }, outpost.CodeInvalid, "$filter"},
			{"filter unknown column", func() error {
				_, err := p.List(ctx, sys, "account", platform.Query{Filter: "nme eq 'x'"})
				return err
			}, outpost.CodeInvalid, "$filter"},
			{"filter wrong type", func() error {
				_, err := p.List(ctx, sys, "account", platform.Query{Filter: "revenue eq 'x'"})
				return err
			}, outpost.CodeInvalid, "$filter"},
			{"bad select", func() error {
				_, err := p.List(ctx, sys, "account", platform.Query{Select: []string{"nope"}})
				return err
			}, outpost.CodeInvalid, "$select"},
			{"bad orderby", func() error {
				_, err := p.List(ctx, sys, "account", platform.Query{OrderBy: []platform.Order{{Column: "nope"}}})
				return err
			}, outpost.CodeInvalid, "$orderby"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.op()
				wantCode(t, err, tt.code)
				if got := outpost.ErrorTarget(err); got != tt.target {
					t.Errorf("target = %q, want %q (%v)", got, tt.target, err)
				}
			})
		}
		// Nothing above wrote anything: the account is unchanged.
		got := testenv.MustGet[outpost.Row](t)(p.Get(ctx, sys, "account", id, nil))
		if got["versionnumber"] != acc["versionnumber"] || got["name"] != "a" {
			t.Errorf("account changed by failed writes: %v", got)
		}
	})
}

func TestDeleteLeavesTombstoneAndClearsLookups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		acc := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": o.u1}))
		con := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "contact", map[string]any{"lastname": "c", "ownerid": o.u1, "parentcustomerid@odata.bind": "/account(" + acc["accountid"].(string) + ")"}))
		if con["parentcustomerid"] != acc["accountid"] {
			t.Fatalf("@odata.bind did not set the lookup: %v", con["parentcustomerid"])
		}
		before := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "account", 0, 0)).Token
		testenv.Must(t, p.Delete(ctx, sys, "account", acc["accountid"].(string)))
		ch := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "account", before, 0))
		if len(ch.Deleted) != 1 || ch.Deleted[0].ID != acc["accountid"] {
			t.Fatalf("tombstones after delete = %v", ch.Deleted)
		}
		cch := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "contact", before, 0))
		if len(cch.Rows) != 1 || cch.Rows[0]["parentcustomerid"] != nil {
			t.Fatalf("contact after its account's delete = %v", cch.Rows)
		}
	})
}

func TestImport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		cols := []string{"subject", "ownerid", "owningbusinessunit", "owneridtype"}
		rows := [][]any{{"a", o.u1, o.a, "systemuser"}, {"b", o.u2, o.a, "systemuser"}}
		testenv.Must(t, p.Write(ctx, func(w *platform.Writer) error { return w.Import(ctx, platform.System(), "task", cols, rows) }))
		page := testenv.MustGet[*platform.Page](t)(p.List(ctx, platform.System(), "task", platform.Query{Count: true}))
		if *page.Count != 2 || page.Rows[0]["versionnumber"] == nil {
			t.Fatalf("imported rows = %v", page.Rows)
		}
		err := p.Write(ctx, func(w *platform.Writer) error {
			return w.Import(ctx, principal(t, p, o.u1), "task", cols, rows)
		})
		wantCode(t, err, outpost.CodeForbidden)
	})
}

func TestKeysetPaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		tasks(t, p, o.u1, 11)
		seen := map[string]bool{}
		q := platform.Query{PageSize: 4}
		pages := 0
		for {
			pg := testenv.MustGet[*platform.Page](t)(p.List(ctx, platform.System(), "task", q))
			pages++
			for _, r := range pg.Rows {
				id := r["taskid"].(string)
				if seen[id] {
					t.Fatalf("row %s returned twice", id)
				}
				seen[id] = true
			}
			if !pg.More {
				break
			}
			if pg.NextAfter == "" {
				t.Fatal("a page without $orderby has no keyset cursor")
			}
			q.Skip, q.After = pg.NextSkip, pg.NextAfter
		}
		if len(seen) != 11 || pages != 3 {
			t.Fatalf("keyset paging returned %d rows in %d pages, want 11 in 3", len(seen), pages)
		}
		// $top still stops the walk.
		pg := testenv.MustGet[*platform.Page](t)(p.List(ctx, platform.System(), "task", platform.Query{PageSize: 4, Top: 6}))
		pg2 := testenv.MustGet[*platform.Page](t)(p.List(ctx, platform.System(), "task", platform.Query{PageSize: 4, Top: 6, Skip: pg.NextSkip, After: pg.NextAfter}))
		if len(pg2.Rows) != 2 || pg2.More {
			t.Fatalf("second page under $top 6 has %d rows (more=%v)", len(pg2.Rows), pg2.More)
		}
		_, err := p.List(ctx, platform.System(), "task", platform.Query{After: "nope"})
		wantCode(t, err, outpost.CodeInvalid)
	})
}
