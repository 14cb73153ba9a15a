package syncsrv_test

import (
	"context"
	"slices"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// snapshotEnv is a seeded server and the technicians' principals.
type snapshotEnv struct {
	env *demo.Env
	p   *platform.Platform
	eng *syncsrv.Engine
}

func newSnapshotEnv(t *testing.T, e testenv.Engine) *snapshotEnv {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 15})
	if err != nil {
		t.Fatal(err)
	}
	return &snapshotEnv{env: env, p: p, eng: syncsrv.New(p, apps.New(p), syncsrv.Options{})}
}

func (s *snapshotEnv) principal(t *testing.T, id string) *security.Principal {
	t.Helper()
	pr, err := s.p.Principal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// download reads every table of a new device of user with requests of at
// most maxPages pages of size rows, each resuming after the cursor of the
// last page received. It checks the pages' order and cursors and returns
// the rows, by table and id.
func (s *snapshotEnv) download(t *testing.T, user string, size, maxPages int) (string, map[string]map[string][]any, []wire.Table) {
	t.Helper()
	ctx := context.Background()
	pr := s.principal(t, user)
	id := outpost.NewID()
	open, err := s.eng.Open(ctx, pr, wire.OpenRequest{DeviceID: id, AppID: s.env.ModelDrivenApp})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]any{}
	for _, tb := range open.Tables {
		rows := map[string][]any{}
		out[tb.Name] = rows
		after, done, requests := "", false, 0
		for !done {
			if requests++; requests > 10000 {
				t.Fatalf("%s: no end after %d requests", tb.Name, requests)
			}
			pages := 0
			err := s.eng.Snapshot(ctx, pr, wire.SnapshotRequest{DeviceID: id, Table: tb.Name, After: after, PageSize: size, MaxPages: maxPages}, func(p *wire.SnapshotPage) error {
				pages++
				if done {
					t.Fatalf("%s: page after the last one", tb.Name)
				}
				if len(p.Rows) > size {
					t.Fatalf("%s: page of %d rows, asked for %d", tb.Name, len(p.Rows), size)
				}
				for _, r := range p.Rows {
					key := r[0].(string)
					if key <= after {
						t.Fatalf("%s: row %s after cursor %s", tb.Name, key, after)
					}
					if _, dup := rows[key]; dup {
						t.Fatalf("%s: row %s sent twice", tb.Name, key)
					}
					rows[key] = r
					after = key
				}
				if p.Cursor != after {
					t.Fatalf("%s: page cursor %q, last row %q", tb.Name, p.Cursor, after)
				}
				done = p.Done
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if maxPages > 0 && !done && pages != maxPages {
				t.Fatalf("%s: %d pages in a request of %d that did not end the table", tb.Name, pages, maxPages)
			}
		}
	}
	return id, out, open.Tables
}

// TestSnapshotResumesByCursor downloads the tables whole, and again in
// requests of a few pages each resuming after the last cursor, with pages
// small enough that a table spans several reads: both hold exactly the
// rows of the device's scope, each once, in primary key order.
func TestSnapshotResumesByCursor(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		s := newSnapshotEnv(t, e)
		tech := s.env.Technicians[0].ID
		id, whole, tables := s.download(t, tech, 1, 0)
		want, err := s.eng.Expected(context.Background(), s.principal(t, tech), id)
		if err != nil {
			t.Fatal(err)
		}
		_, resumed, _ := s.download(t, tech, 3, 2)
		for _, tb := range tables {
			if len(want[tb.Name]) == 0 {
				continue
			}
			if tb.Name == "workorder" && len(want[tb.Name]) <= 64 {
				t.Fatalf("only %d work orders: one read holds them all", len(want[tb.Name]))
			}
			for name, got := range map[string]map[string][]any{"whole": whole[tb.Name], "resumed": resumed[tb.Name]} {
				if len(got) != len(want[tb.Name]) {
					t.Fatalf("%s %s: %d rows, the scope %d", name, tb.Name, len(got), len(want[tb.Name]))
				}
				for key, r := range got {
					w, ok := want[tb.Name][key]
					if !ok {
						t.Fatalf("%s %s: row %s is not in the scope", name, tb.Name, key)
					}
					if r[1] != w["versionnumber"] {
						t.Fatalf("%s %s: row %s version %v, the scope %v", name, tb.Name, key, r[1], w["versionnumber"])
					}
				}
			}
		}
	})
}

// TestSnapshotHoldsOnlyTheUsersRows checks that no work order owned by
// another technician (and neither shared with the user nor owned by one of
// their teams) reaches the user's device, while it does reach that
// technician's.
func TestSnapshotHoldsOnlyTheUsersRows(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		s := newSnapshotEnv(t, e)
		tech, other := s.env.Technicians[0].ID, s.env.Technicians[1].ID
		pr := s.principal(t, tech)
		_, mine, _ := s.download(t, tech, 50, 0)
		_, theirs, _ := s.download(t, other, 50, 0)
		owners := append([]string{tech}, pr.TeamIDs...)
		for key := range mine["workorder"] {
			row, err := s.p.Get(context.Background(), platform.System(), "workorder", key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(owners, row["ownerid"].(string)) {
				t.Fatalf("work order %s of owner %v is on the device of %s", key, row["ownerid"], tech)
			}
		}
		foreign := 0
		for key := range theirs["workorder"] {
			row, err := s.p.Get(context.Background(), platform.System(), "workorder", key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if row["ownerid"] == other {
				foreign++
				if _, ok := mine["workorder"][key]; ok {
					t.Fatalf("work order %s of %s is on the device of %s", key, other, tech)
				}
			}
		}
		if foreign == 0 {
			t.Fatal("the other technician owns no work orders: the test proves nothing")
		}
	})
}
