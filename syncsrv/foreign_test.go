package syncsrv_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// TestDeltaRevealsNoForeignIDs: a delta names no row its user may not
// read — neither for rows other users changed or deleted since the
// device's token, nor when the device forges its token to ask from
// version 0.
func TestDeltaRevealsNoForeignIDs(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		s := newServers(t, e)
		d := s.register(t)
		sys := platform.System()
		pr := s.principal(t)

		// Foreign rows: those of each plan table the technician may not read.
		foreign := map[string]bool{}
		for table := range d.tokens {
			all, err := s.p1.List(ctx, sys, table, platform.Query{PageSize: platform.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			mine, err := s.p1.List(ctx, pr, table, platform.Query{PageSize: platform.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			readable := map[string]bool{}
			pk := table + "id"
			for _, r := range mine.Rows {
				readable[r[pk].(string)] = true
			}
			for _, r := range all.Rows {
				if id := r[pk].(string); !readable[id] {
					foreign[id] = true
				}
			}
		}
		var others []string
		for id := range foreign {
			if _, err := s.p1.Get(ctx, sys, "workorder", id, nil); err == nil {
				others = append(others, id)
			}
		}
		if len(others) < 2 {
			t.Fatalf("the demo has %d work orders the technician may not read; the test needs 2", len(others))
		}
		// Other users change and delete their work orders.
		if _, err := s.p1.Update(ctx, sys, "workorder", others[0], map[string]any{"description": "changed elsewhere"}); err != nil {
			t.Fatal(err)
		}
		if err := s.p1.Delete(ctx, sys, "workorder", others[1]); err != nil {
			t.Fatal(err)
		}

		check := func(what string, resp *wire.DeltaResponse) {
			t.Helper()
			for _, td := range resp.Deltas {
				var named []string
				named = append(named, td.Removes...)
				for _, r := range td.Upserts {
					named = append(named, r[0].(string))
				}
				for _, rule := range td.RemoveWhere {
					named = append(named, rule.Values...)
				}
				for _, id := range named {
					if foreign[id] {
						t.Fatalf("%s: the delta of %s names row %s, which the technician may not read", what, td.Table, id)
					}
				}
			}
		}
		req := wire.DeltaRequest{DeviceID: d.id, ProfileVersion: d.version}
		for _, table := range sortedKeys(d.tokens) {
			req.Tables = append(req.Tables, wire.TableState{Table: table, Token: d.tokens[table]})
		}
		resp, err := s.eng1.Delta(ctx, pr, req)
		if err != nil {
			t.Fatal(err)
		}
		check("delta after foreign changes", resp)

		// Forged tokens: from version 0, another fingerprint, dated ten
		// years ahead, unsigned. Each is refused as gone (the device
		// re-syncs from scratch), naming nothing.
		forge := map[string]func(p []string) []string{
			"version 0":        func(p []string) []string { p[0] = "0"; return p },
			"fingerprint":      func(p []string) []string { p[2] = "123abc"; return p },
			"ten years ahead":  func(p []string) []string { p[1] = fmt.Sprint(time.Now().AddDate(10, 0, 0).UnixMilli()); return p },
			"unsigned":         func(p []string) []string { return p[:3] },
			"version 0 signed": func(p []string) []string { p[0] = "0"; p[4] = p[4][:len(p[4])-1] + "A"; return p },
		}
		for what, f := range forge {
			bad := wire.DeltaRequest{DeviceID: d.id, ProfileVersion: d.version}
			for _, ts := range req.Tables {
				ts.Token = strings.Join(f(strings.Split(ts.Token, ".")), ".")
				bad.Tables = append(bad.Tables, ts)
			}
			resp, err := s.eng1.Delta(ctx, pr, bad)
			if outpost.ErrorCode(err) != outpost.CodeGone {
				t.Fatalf("forged token (%s): got %v, want it refused as gone", what, err)
			}
			if resp != nil {
				check("forged token ("+what+")", resp)
			}
			if strings.Contains(err.Error(), "workorder") && !strings.Contains(err.Error(), "clean re-sync") {
				t.Fatalf("forged token (%s): %v does not tell the device what to do", what, err)
			}
		}
	})
}
