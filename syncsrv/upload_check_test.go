package syncsrv

import (
	"context"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/wire"
)

// TestUploadRejectsMalformedChanges sends changes whose fields are empty,
// unknown, huge or hold NUL bytes: each is answered rejected with a Sync
// Error naming the field, nothing panics, and the valid change behind them
// is applied.
func TestUploadRejectsMalformedChanges(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		w := newUploadWorld(t, e, false)
		own := rowID(kindOwnWO, 5)
		bad := []struct {
			ch     wire.Change
			target string
		}{
			{wire.Change{Table: "workorder", Op: "", ID: own, Columns: map[string]any{"name": "x"}}, "op"},
			{wire.Change{Table: "workorder", Op: "u", ID: own}, "op"},
			{wire.Change{Table: "workorder", Op: strings.Repeat("é", 5000), ID: own}, "op"},
			{wire.Change{Table: "workorder", Op: "update\x00", ID: own}, "op"},
			{wire.Change{Table: "", Op: wire.OpUpdate, ID: own}, "table"},
			{wire.Change{Table: "work\x00order", Op: wire.OpUpdate, ID: own}, "table"},
			{wire.Change{Table: strings.Repeat("t", 100000), Op: wire.OpUpdate, ID: own}, "table"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own + "\x00"}, "id"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own, MutationID: strings.Repeat("m", 5000)}, "mutationId"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own, MutationID: "m\x00"}, "mutationId"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own, BaseVersion: -4}, "baseVersion"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own, Columns: map[string]any{"description": "a\x00b"}}, "description"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own, Columns: map[string]any{"": "x"}}, "columns"},
			{wire.Change{Table: "workorder", Op: wire.OpUpdate, ID: own, Columns: map[string]any{"na\x00me": "x"}}, "columns"},
		}
		var changes []wire.Change
		for i, b := range bad {
			b.ch.Seq = int64(i + 1)
			changes = append(changes, b.ch)
		}
		good := wire.Change{Seq: int64(len(bad) + 1), MutationID: "good", Table: "workorder", Op: wire.OpUpdate, ID: own, Columns: map[string]any{"description": "after the bad ones"}}
		changes = append(changes, good)
		resp, err := w.eng.Upload(context.Background(), w.by, wire.UploadRequest{DeviceID: w.deviceID, Changes: changes})
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		if len(resp.Results) != len(changes) {
			t.Fatalf("%d results for %d changes", len(resp.Results), len(changes))
		}
		for i, b := range bad {
			r := resp.Results[i]
			if r.Status != wire.StatusRejected || r.Error == nil || r.Error.Code != "invalid" || r.Error.SyncErrorID == "" {
				t.Errorf("change %d (%q): %+v %+v, want rejected as invalid with a Sync Error", i+1, b.target, r, r.Error)
				continue
			}
			if !strings.Contains(r.Error.Message, b.target) {
				t.Errorf("change %d: message %q does not name %q", i+1, r.Error.Message, b.target)
			}
		}
		if r := resp.Results[len(bad)]; r.Status != wire.StatusApplied {
			t.Fatalf("the valid change after the bad ones: %+v %+v", r, r.Error)
		}
		var desc string
		testenv.Must(t, w.p.DB().Read.QueryRowContext(context.Background(), `SELECT description FROM workorder WHERE workorderid = `+w.p.DB().Dialect.Placeholder(1), own).Scan(&desc))
		if desc != "after the bad ones" {
			t.Fatalf("description = %q", desc)
		}
	})
}
