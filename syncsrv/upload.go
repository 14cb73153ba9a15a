package syncsrv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// errConflict marks a change rejected by conflict detection.
var errConflict = errors.New("row changed on the server since the device read it")

// Upload applies a device's queued changes in sequence order, exactly once:
// the device's last applied sequence and each change's result are stored
// in the same transaction as the changes, so a replayed batch (a retry
// after a lost reply, a duplicate send) gets the first answer again and
// changes nothing. Each change passes the platform's privilege checks
// (Create/Write/Delete, Append/Append To for lookups); a rejected change
// becomes a Sync Error row owned by the user and never blocks the changes
// behind it. With conflict detection on, an update or delete whose base
// version is older than the server's row is rejected as a Conflict.
//
// Runs of updates are checked with a few queries per run and written a
// few rows per statement (upload_batch.go); every other change, and every
// update those checks would reject, runs alone in its savepoint, so the
// answers are those of applying the changes one at a time.
func (e *Engine) Upload(ctx context.Context, by *security.Principal, req wire.UploadRequest) (*wire.UploadResponse, error) {
	if len(req.Changes) > MaxUploadChanges {
		return nil, outpost.Invalidf("an upload carries at most %d changes, got %d", MaxUploadChanges, len(req.Changes)).WithTarget("changes")
	}
	changes := append([]wire.Change(nil), req.Changes...)
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Seq < changes[j].Seq })
	if len(changes) > 0 && changes[0].Seq <= 0 {
		return nil, outpost.Invalidf("change seq %d: sequence numbers start at 1 and grow by one per change", changes[0].Seq).WithTarget("changes")
	}
	db := e.p.DB()
	dev, err := e.loadDevice(ctx, db.Read, by, req.DeviceID)
	if err != nil {
		return nil, err
	}
	if err := e.checkAccess(ctx, by, dev.ID); err != nil {
		return nil, err
	}
	pr, err := e.p.Principal(ctx, dev.UserID)
	if err != nil {
		return nil, err
	}
	detect, err := e.conflictDetection(ctx)
	if err != nil {
		return nil, err
	}
	var results []wire.Result
	batched := !e.opts.OneChangeAtATime
	for attempt := 0; ; attempt++ {
		results = results[:0]
		err = e.p.Write(ctx, func(w *platform.Writer) error {
			var err error
			results, err = e.applyBatch(ctx, w, pr, dev.ID, changes, detect, batched)
			return err
		})
		if batched && errors.Is(err, errBatchFailed) {
			// A write the checks allowed failed in the database: apply
			// the batch again one change at a time, each in its savepoint.
			batched = false
			continue
		}
		if err == nil || !db.IsBusy(err) || attempt >= 4 {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("upload of device %s: %w", dev.ID, err)
	}
	if err := e.revertRows(ctx, by, dev.ID, changes, results); err != nil {
		return nil, err
	}
	return &wire.UploadResponse{Results: results}, nil
}

// applyBatch applies changes in w. With batched set, runs of updates are
// checked a run at a time (platform.UpdateBatch) and written a few rows
// per statement, without a savepoint each; an update the batched checks
// would reject, and every other change, runs alone in its savepoint, so
// results, Sync Errors and the rows written are the same either way.
func (e *Engine) applyBatch(ctx context.Context, w *platform.Writer, pr *security.Principal, deviceID string, changes []wire.Change, detect, batched bool) ([]wire.Result, error) {
	d := e.p.DB().Dialect
	tx := w.Tx()
	lock := ""
	if d.IsPostgres() {
		lock = " FOR UPDATE"
	}
	var last int64
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT lastseq FROM outpost_device WHERE deviceid = `).Arg(deviceID).SQL(lock).Build()
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&last); err != nil {
		return nil, fmt.Errorf("read last sequence: %w", err)
	}
	if err := contiguous(changes, last); err != nil {
		return nil, err
	}
	written := map[string]bool{} // rows this batch wrote: not conflicts with themselves
	results := make([]wire.Result, 0, len(changes))
	fresh := map[int64]int{} // seq -> index in results, for results not stored yet
	var run *updateRun
	tried := 0 // changes before tried were offered to a create or delete run
	for i := 0; i < len(changes); i++ {
		ch := changes[i]
		if ch.Seq <= last {
			if j, ok := fresh[ch.Seq]; ok {
				results = append(results, storedForm(results[j]))
				continue
			}
			r, ok, err := e.storedResult(ctx, tx, deviceID, ch.Seq)
			if err != nil {
				return nil, err
			}
			if ok {
				results = append(results, r)
				continue
			}
			// No result for a sequence at or below the last: the device's
			// sequence jumped ahead before sequences were checked. The
			// change is recorded as a Sync Error, never acknowledged
			// unapplied.
			ce, err := e.reject(ctx, w, pr, deviceID, ch, outpost.Conflictf("change seq %d is at or below the device's last applied sequence %d, which skipped it: it was not applied", ch.Seq, last).WithTarget("seq"))
			if err != nil {
				return nil, err
			}
			fresh[ch.Seq] = len(results)
			results = append(results, wire.Result{Seq: ch.Seq, Status: wire.StatusRejected, Error: ce})
			continue
		}
		if batched && i >= tried && (ch.Op == wire.OpCreate || ch.Op == wire.OpDelete) {
			// The run's updates go first.
			if err := run.flush(ctx); err != nil {
				return nil, err
			}
			run = nil
			n, next, err := e.applyRun(ctx, w, pr, changes, i, last, detect, written)
			if err != nil {
				return nil, err
			}
			for _, ch := range changes[i : i+n] {
				written[ch.Table+"/"+ch.ID] = true
				last = ch.Seq
				fresh[ch.Seq] = len(results)
				results = append(results, wire.Result{Seq: ch.Seq, Status: wire.StatusApplied, Version: w.Version()})
			}
			tried = next
			if n > 0 {
				i += n
				if i >= next {
					i-- // the whole run applied
					continue
				}
				// The run stopped at a change it would not apply: that
				// change goes alone, below.
				ch = changes[i]
			}
		}
		r := wire.Result{Seq: ch.Seq, Status: wire.StatusApplied, Version: w.Version()}
		done := false
		if batched && e.batchable(w, ch) {
			if run == nil || i < run.start || i >= run.end {
				if err := run.flush(ctx); err != nil {
					return nil, err
				}
				var err error
				if run, err = e.prepareRun(ctx, w, pr, changes, i); err != nil {
					return nil, err
				}
			}
			done = run.apply(i, ch, detect, written)
		}
		if done {
			written[ch.Table+"/"+ch.ID] = true
		} else {
			// The change reads and writes rows: the run's updates go first.
			if err := run.flush(ctx); err != nil {
				return nil, err
			}
			err := w.Savepoint(ctx, func() error { return e.apply(ctx, w, pr, ch, detect, written) })
			if err != nil {
				ce, serr := e.reject(ctx, w, pr, deviceID, ch, err)
				if serr != nil {
					return nil, serr
				}
				r = wire.Result{Seq: ch.Seq, Status: wire.StatusRejected, Error: ce}
			} else {
				written[ch.Table+"/"+ch.ID] = true
				// The change may have moved what the run's checks read.
				run = nil
			}
		}
		last = ch.Seq
		fresh[ch.Seq] = len(results)
		results = append(results, r)
	}
	if err := run.flush(ctx); err != nil {
		return nil, err
	}
	if err := e.storeResults(ctx, w, deviceID, results, fresh); err != nil {
		return nil, err
	}
	query, args = sqlgen.NewBuilder(d).
		SQL(`UPDATE outpost_device SET lastseq = `).Arg(last).SQL(`, lastseen = `).Arg(d.TimeArg(w.Now())).
		SQL(` WHERE deviceid = `).Arg(deviceID).Build()
	_, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("record last sequence: %w", err)
	}
	return results, nil
}

// apply performs one change with by's privileges.
func (e *Engine) apply(ctx context.Context, w *platform.Writer, by *security.Principal, ch wire.Change, detect bool, written map[string]bool) error {
	if err := checkChange(ch); err != nil {
		return err
	}
	t, err := e.p.Schema().LookupTable(ch.Table)
	if err != nil {
		return err
	}
	if ch.Op == wire.OpUpdate || ch.Op == wire.OpDelete || ch.Op == wire.OpFile {
		// A row by cannot read answers as a missing one, before conflict
		// detection looks at its version.
		cur, err := w.VisibleVersion(ctx, by, t.Name, ch.ID)
		if err != nil {
			return err
		}
		if detect && cur > ch.BaseVersion && !written[ch.Table+"/"+ch.ID] {
			return &outpost.Error{Code: outpost.CodeConflict, Message: fmt.Sprintf("the row of table %q changed on the server (version %d) after the device read it (version %d)", t.Name, cur, ch.BaseVersion), Err: errConflict}
		}
	}
	input := make(map[string]any, len(ch.Columns)+1)
	for k, v := range ch.Columns {
		input[k] = v
	}
	switch ch.Op {
	case wire.OpCreate:
		input[t.PrimaryKey()] = ch.ID
		_, err = w.Create(ctx, by, t.Name, input)
	case wire.OpUpdate:
		delete(input, t.PrimaryKey())
		_, err = w.Update(ctx, by, t.Name, ch.ID, input)
	case wire.OpDelete:
		err = w.Delete(ctx, by, t.Name, ch.ID)
	case wire.OpFile:
		err = e.applyFile(ctx, w, by, t, ch)
	default:
		err = outpost.Invalidf("change %d: op must be create, update or delete, got %q", ch.Seq, ch.Op).WithTarget("op")
	}
	return err
}

// classify returns the Sync Error type of a rejection.
func classify(op string, err error) int {
	switch {
	case errors.Is(err, errConflict):
		return wire.ErrorConflict
	case outpost.ErrorCode(err) == outpost.CodeNotFound:
		return wire.ErrorNotFound
	case outpost.ErrorCode(err) == outpost.CodeConflict && op == wire.OpCreate:
		return wire.ErrorAlreadyExists
	}
	return wire.ErrorOther
}

var actionOf = map[string]int64{wire.OpCreate: 0, wire.OpUpdate: 1, wire.OpDelete: 2, wire.OpFile: 1}

// reject records a rejected change as a Sync Error row owned by the user.
func (e *Engine) reject(ctx context.Context, w *platform.Writer, by *security.Principal, deviceID string, ch wire.Change, cause error) (*wire.ChangeError, error) {
	code := outpost.ErrorCode(cause)
	msg := outpost.ErrorMessage(cause)
	if code == outpost.CodeInternal {
		e.logger.ErrorContext(ctx, "upload change failed", "device", deviceID, "seq", ch.Seq, "err", cause)
	}
	typ := classify(ch.Op, cause)
	// Only fields that passed checkChange go into the row's text columns;
	// the whole change is kept as JSON, which escapes anything.
	action, _ := json.Marshal(ch)
	_, known := actionOf[ch.Op]
	mutation := ""
	if validMutationID(ch.MutationID) {
		mutation = ch.MutationID
	}
	request, _ := json.Marshal(map[string]any{"deviceId": deviceID, "seq": ch.Seq, "mutationId": mutation, "baseVersion": ch.BaseVersion})
	verb := "Change"
	if known {
		verb = strings.ToUpper(ch.Op[:1]) + ch.Op[1:]
	}
	row := map[string]any{
		"errortime": w.Now(), "errormessage": clip(msg, 4000), "errordetail": clip(fmt.Sprintf("%s: %s", code, msg), 100000),
		"errorcode": string(code), "errortype": int64(typ), "actiondata": clip(string(action), 1048576),
		"requestdata": string(request), schema.ColOwnerID: by.UserID,
	}
	name := verb + " of a change"
	if schema.ValidName(ch.Table) {
		row["entityname"], row["regardingobjecttable"] = ch.Table, ch.Table
		name = verb + " of " + ch.Table
		if outpost.ValidID(ch.ID) {
			row["regardingobjectid"] = ch.ID
			name += " " + ch.ID
		}
	}
	row["name"] = name + " rejected"
	if a, ok := actionOf[ch.Op]; ok {
		row["action"] = a
	}
	created, err := w.Create(ctx, platform.System(), "syncerror", row)
	if err != nil {
		return nil, fmt.Errorf("record sync error of change %d: %w", ch.Seq, err)
	}
	return &wire.ChangeError{Type: typ, Code: string(code), Message: msg, SyncErrorID: created["syncerrorid"].(string)}, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// contiguous checks that the changes above last (sorted by sequence) carry
// last+1, last+2, ... without a gap; repeats of a sequence are allowed
// (the same change sent twice).
func contiguous(changes []wire.Change, last int64) error {
	next := last + 1
	for _, ch := range changes {
		switch {
		case ch.Seq < next:
		case ch.Seq == next:
			next++
		default:
			return outpost.Invalidf("change seq %d follows the device's last sequence %d: sequence numbers grow by one per change without gaps; send seq %d next", ch.Seq, next-1, next).WithTarget("changes")
		}
	}
	return nil
}

// storedResult returns the stored result of change seq, ok false when
// none is stored: the row of seq, or of the run of applied changes that
// holds it (the last row from seq down).
func (e *Engine) storedResult(ctx context.Context, tx *sql.Tx, deviceID string, seq int64) (wire.Result, bool, error) {
	d := e.p.DB().Dialect
	r := wire.Result{Seq: seq}
	var first int64
	var last, typ sql.NullInt64
	var code, msg, sid sql.NullString
	query, args := sqlgen.NewBuilder(d).
		SQL(`SELECT seq, lastseq, status, version, errortype, errorcode, message, syncerrorid FROM outpost_syncresult WHERE deviceid = `).Arg(deviceID).
		SQL(` AND seq <= `).Arg(seq).SQL(` ORDER BY seq DESC LIMIT 1`).Build()
	err := tx.QueryRowContext(ctx, query, args...).Scan(&first, &last, &r.Status, &r.Version, &typ, &code, &msg, &sid)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read result of change %d: %w", seq, err)
	}
	if first != seq && (!last.Valid || last.Int64 < seq) {
		return wire.Result{Seq: seq}, false, nil
	}
	if r.Status == wire.StatusRejected {
		r.Error = &wire.ChangeError{Type: int(typ.Int64), Code: code.String, Message: msg.String, SyncErrorID: sid.String}
	}
	return r, true, nil
}

// revertRows fills, for each rejected change, the server's current row
// when it is in the device's scope, so the device reverts to it.
func (e *Engine) revertRows(ctx context.Context, by *security.Principal, deviceID string, changes []wire.Change, results []wire.Result) error {
	idx := map[int64]wire.Change{}
	for _, ch := range changes {
		idx[ch.Seq] = ch
	}
	rejected := false
	for _, r := range results {
		rejected = rejected || r.Status == wire.StatusRejected
	}
	if !rejected {
		return nil
	}
	return e.read(ctx, by, deviceID, func(s *session) error {
		for i := range results {
			r := &results[i]
			ch := idx[r.Seq]
			it, ok := s.items[ch.Table]
			if r.Status != wire.StatusRejected || !ok || !outpost.ValidID(ch.ID) {
				continue
			}
			rows, err := s.rowsByID(ctx, it, []string{ch.ID})
			if err != nil {
				return err
			}
			if len(rows) == 1 {
				r.Columns, r.Row = s.cols(it), rows[0]
			}
		}
		return nil
	})
}
