package syncsrv

import (
	"context"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/wire"
)

// TestUploadHonoursShareRights: an upload is re-checked with the rights of
// the share that reaches the row: read only rejects writes and deletes,
// the write right lets updates through (batched and alone), the delete
// right deletes.
func TestUploadHonoursShareRights(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		w := newUploadWorld(t, e, false)
		sys := platform.System()
		acc := rowID(kindOtherAcc, 0)
		testenv.Must(t, w.p.Share(ctx, sys, "account", acc, w.users[0], platform.ShareRead))
		seq := int64(0)
		change := func(op string, cols map[string]any) wire.Change {
			seq++
			return wire.Change{Seq: seq, MutationID: "m", Table: "account", Op: op, ID: acc, BaseVersion: w.base, Columns: cols}
		}
		res := w.upload(t, []wire.Change{change(wire.OpUpdate, map[string]any{"name": "by the device"}), change(wire.OpDelete, nil)}, 10)
		for _, r := range res {
			if r.Status != wire.StatusRejected || r.Error.Code != string(outpost.CodeForbidden) {
				t.Fatalf("change %d on a read-only share: %s %+v, want rejected as forbidden", r.Seq, r.Status, r.Error)
			}
		}
		testenv.Must(t, w.p.Share(ctx, sys, "account", acc, w.users[0], platform.ShareRead|platform.ShareWrite))
		res = w.upload(t, []wire.Change{change(wire.OpUpdate, map[string]any{"name": "by the device"}), change(wire.OpDelete, nil)}, 10)
		if res[0].Status != wire.StatusApplied || res[1].Status != wire.StatusRejected {
			t.Fatalf("with the write right: %+v, want the update applied and the delete rejected", res)
		}
		testenv.Must(t, w.p.Share(ctx, sys, "account", acc, w.users[0], platform.ShareRead|platform.ShareDelete))
		res = w.upload(t, []wire.Change{change(wire.OpDelete, nil)}, 10)
		if res[0].Status != wire.StatusApplied {
			t.Fatalf("with the delete right: %+v, want applied", res)
		}
	})
}

// TestUploadUnreadableLooksMissing: an update or delete of a row the user
// cannot read answers with the code and message of a row that does not
// exist, with conflict detection on and off, and never tells its version.
func TestUploadUnreadableLooksMissing(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		for _, detect := range []bool{false, true} {
			t.Run(e.Name+map[bool]string{false: "/no-detection", true: "/detection"}[detect], func(t *testing.T) {
				ctx := context.Background()
				w := newUploadWorld(t, e, detect)
				hidden, missing := rowID(kindOtherAcc, 1), rowID(kindMissing, 1)
				// The hidden row changed after the device's base version.
				_, err := w.p.Update(ctx, platform.System(), "account", hidden, map[string]any{"name": "server edit"})
				testenv.Must(t, err)
				var version int64
				testenv.Must(t, w.p.DB().Read.QueryRowContext(ctx, `SELECT versionnumber FROM account WHERE accountid = '`+hidden+`'`).Scan(&version))
				for _, op := range []string{wire.OpUpdate, wire.OpDelete} {
					var cols map[string]any
					if op == wire.OpUpdate {
						cols = map[string]any{"name": "x"}
					}
					res := w.upload(t, []wire.Change{
						{Seq: 1, MutationID: "a", Table: "account", Op: op, ID: hidden, BaseVersion: w.base, Columns: cols},
						{Seq: 2, MutationID: "b", Table: "account", Op: op, ID: missing, BaseVersion: w.base, Columns: cols},
					}, 10)
					w.deviceID = outpost.NewID() // the next round starts at seq 1 again
					_, err := w.eng.Open(ctx, w.by, wire.OpenRequest{DeviceID: w.deviceID, AppID: "fieldapp"})
					testenv.Must(t, err)
					a, b := res[0].Error, res[1].Error
					if a == nil || b == nil {
						t.Fatalf("%s: results %+v, want both rejected", op, res)
					}
					if a.Code != b.Code || a.Type != b.Type || strings.ReplaceAll(a.Message, hidden, missing) != b.Message {
						t.Errorf("%s: unreadable row answers %s/%d %q, a missing one %s/%d %q", op, a.Code, a.Type, a.Message, b.Code, b.Type, b.Message)
					}
					if strings.Contains(a.Message, "version") {
						t.Errorf("%s: the answer tells a version: %q", op, a.Message)
					}
				}
			})
		}
	}
}

// TestRetryAppliesOnlyRecordedUploads: a retry applies only a change the
// server recorded from its owner's device, re-checked with that user's
// privileges, and records who retried; a planted or reassigned Sync Error
// is refused and changes nothing.
func TestRetryAppliesOnlyRecordedUploads(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		w := newUploadWorld(t, e, false)
		sys := platform.System()
		adminID, err := w.p.CreateUser(ctx, sys, platform.UserInput{FullName: "Admin", DomainName: "admin"})
		testenv.Must(t, err)
		testenv.Must(t, w.p.AssignUserRole(ctx, sys, adminID, security.RoleSystemAdministrator))
		admin, err := w.p.Principal(ctx, adminID)
		testenv.Must(t, err)
		other := rowID(kindOtherWO, 1) // user 0 reads it, cannot write it
		res := w.upload(t, []wire.Change{{Seq: 1, MutationID: "a", Table: "workorder", Op: wire.OpUpdate, ID: other, BaseVersion: w.base,
			Columns: map[string]any{"description": "by user 0"}}}, 10)
		if res[0].Status != wire.StatusRejected {
			t.Fatalf("upload: %+v, want rejected", res)
		}
		seID := res[0].Error.SyncErrorID

		// The administrator's retry applies it as user 0: still refused.
		if _, err := w.eng.Retry(ctx, admin, seID); outpost.ErrorCode(err) != outpost.CodeForbidden {
			t.Fatalf("retry without the write privilege: %v, want forbidden", err)
		}
		// Once user 0 may write it, the retry applies, and says who retried.
		testenv.Must(t, w.p.Share(ctx, sys, "workorder", other, w.users[0], platform.ShareRead|platform.ShareWrite))
		se, err := w.eng.Retry(ctx, admin, seID)
		testenv.Must(t, err)
		if se.State != 1 || se.ModifiedBy != adminID {
			t.Fatalf("retried error: state %d, modified by %q; want resolved, by %s", se.State, se.ModifiedBy, adminID)
		}
		row, err := w.p.Get(ctx, sys, "workorder", other, nil)
		testenv.Must(t, err)
		if row["description"] != "by user 0" || row["modifiedby"] != w.users[0] {
			t.Fatalf("row after retry: %v by %v, want user 0's change", row["description"], row["modifiedby"])
		}

		// A Sync Error the server did not record from this upload (an
		// older server let callers write them) is never applied, even
		// when it names a real device and sequence.
		victim := rowID(kindOwnWO, 3)
		planted, err := w.p.Create(ctx, sys, "syncerror", map[string]any{"name": "planted", "ownerid": w.users[0],
			"actiondata":  `{"seq":1,"table":"workorder","op":"delete","id":"` + victim + `"}`,
			"requestdata": `{"deviceId":"` + w.deviceID + `","seq":1}`})
		testenv.Must(t, err)
		for _, by := range []*security.Principal{admin, w.by} {
			if _, err := w.eng.Retry(ctx, by, planted["syncerrorid"].(string)); outpost.ErrorCode(err) != outpost.CodeConflict {
				t.Fatalf("retry of a planted sync error: %v, want a conflict", err)
			}
		}
		// A recorded error moved to another user is not theirs to retry.
		res = w.upload(t, []wire.Change{{Seq: 2, MutationID: "b", Table: "workorder", Op: wire.OpDelete, ID: rowID(kindOtherWO, 2), BaseVersion: w.base}}, 10)
		moved := res[0].Error.SyncErrorID
		testenv.Must(t, w.p.Write(ctx, func(wr *platform.Writer) error {
			_, err := wr.Tx().ExecContext(ctx, `UPDATE syncerror SET `+schema.ColOwnerID+` = '`+w.users[1]+`' WHERE syncerrorid = '`+moved+`'`)
			return err
		}))
		if _, err := w.eng.Retry(ctx, admin, moved); outpost.ErrorCode(err) != outpost.CodeConflict {
			t.Fatalf("retry of a reassigned sync error: %v, want a conflict", err)
		}
		if _, err := w.p.Get(ctx, sys, "workorder", victim, nil); err != nil {
			t.Fatalf("planted delete was applied: %v", err)
		}
		if _, err := w.p.Get(ctx, sys, "workorder", rowID(kindOtherWO, 2), nil); err != nil {
			t.Fatalf("reassigned delete was applied: %v", err)
		}
	})
}
