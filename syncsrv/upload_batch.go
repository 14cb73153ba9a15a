package syncsrv

import (
	"context"
	"errors"
	"fmt"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// errBatchFailed marks a batched read or write that failed in the
// database: the upload is applied again one change at a time, where such a
// failure rejects only its own change.
var errBatchFailed = errors.New("batched upload write failed")

// updateRun is a run of consecutive updates, changes[start:end], whose
// checks were read at once.
type updateRun struct {
	start, end int
	batch      *platform.UpdateBatch
}

// batchable reports whether ch can be checked with a run of updates.
func (e *Engine) batchable(w *platform.Writer, ch wire.Change) bool {
	if ch.Op != wire.OpUpdate || checkChange(ch) != nil {
		return false
	}
	if _, err := e.p.Schema().LookupTable(ch.Table); err != nil {
		return false
	}
	return w.BatchUpdatable(ch.Table)
}

// updateInput is the input apply gives Writer.Update for ch.
func updateInput(w *platform.Writer, ch wire.Change) map[string]any {
	input := make(map[string]any, len(ch.Columns))
	for k, v := range ch.Columns {
		input[k] = v
	}
	delete(input, w.Schema().MustTable(ch.Table).PrimaryKey())
	return input
}

// prepareRun reads the checks of the batchable changes from changes[i] up
// to the first change that is not.
func (e *Engine) prepareRun(ctx context.Context, w *platform.Writer, by *security.Principal, changes []wire.Change, i int) (*updateRun, error) {
	end := i
	var ups []platform.PendingUpdate
	for end < len(changes) && e.batchable(w, changes[end]) {
		ch := changes[end]
		ups = append(ups, platform.PendingUpdate{Table: ch.Table, ID: ch.ID, Input: updateInput(w, ch)})
		end++
	}
	b, err := w.PrepareUpdates(ctx, by, ups)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBatchFailed, err)
	}
	return &updateRun{start: i, end: end, batch: b}, nil
}

// apply applies changes[i] (ch) of the run when apply would apply it: the
// row exists, it passes conflict detection and the platform's checks. It
// reports false, having done nothing, otherwise. The row is written by the
// run's next flush.
func (r *updateRun) apply(i int, ch wire.Change, detect bool, written map[string]bool) bool {
	k := i - r.start
	cur, ok := r.batch.Version(k)
	if !ok {
		return false
	}
	if detect && cur > ch.BaseVersion && !written[ch.Table+"/"+ch.ID] {
		return false
	}
	return r.batch.Apply(k)
}

// flush writes the run's applied updates.
func (r *updateRun) flush(ctx context.Context) error {
	if r == nil {
		return nil
	}
	if err := r.batch.Flush(ctx); err != nil {
		return fmt.Errorf("%w: %w", errBatchFailed, err)
	}
	return nil
}

// storedForm is r as storedResult reads it back.
func storedForm(r wire.Result) wire.Result {
	out := wire.Result{Seq: r.Seq, Status: r.Status, Version: r.Version}
	if r.Error != nil {
		e := *r.Error
		out.Error = &e
	}
	return out
}

// resultChunk bounds the result rows of one INSERT; inserts are cut into
// powers of two so that the few statement texts stay prepared.
const resultChunk = 128

// storedRow is one row of outpost_syncresult: the result of change seq, or
// of every change from seq to last when last > seq (a run of applied
// changes with one version).
type storedRow struct {
	wire.Result
	last int64
}

// extends reports whether r, the result of the change after the row's
// last, joins the row: both applied, without error, with one version.
func (p storedRow) extends(r wire.Result) bool {
	applied := func(r wire.Result) bool { return r.Status == wire.StatusApplied && r.Error == nil }
	return applied(p.Result) && applied(r) && p.Version == r.Version && p.last+1 == r.Seq
}

// resultRows folds the results the batch applied or rejected (results[i]
// for i in fresh) into rows: consecutive applied changes with one version
// share one row.
func resultRows(results []wire.Result, fresh map[int64]int) []storedRow {
	var out []storedRow
	for i, r := range results {
		if j, ok := fresh[r.Seq]; !ok || j != i {
			continue
		}
		if n := len(out); n > 0 && out[n-1].extends(r) {
			out[n-1].last = r.Seq
			continue
		}
		out = append(out, storedRow{Result: r, last: r.Seq})
	}
	return out
}

// storeResults records the results of the changes this batch applied or
// rejected (results[i] for i in fresh) for replay, a run of applied
// changes a row, a few rows per INSERT.
func (e *Engine) storeResults(ctx context.Context, w *platform.Writer, deviceID string, results []wire.Result, fresh map[int64]int) error {
	rows := resultRows(results, fresh)
	dia := e.p.DB().Dialect
	for len(rows) > 0 {
		n := resultChunk
		for n > len(rows) {
			n /= 2
		}
		part := rows[:n]
		rows = rows[n:]
		b := sqlgen.NewBuilder(dia).SQL(`INSERT INTO outpost_syncresult (deviceid, seq, lastseq, status, version, errortype, errorcode, message, syncerrorid) VALUES `)
		for k, r := range part {
			if k > 0 {
				b.SQL(", ")
			}
			var last, typ, code, msg, sid any
			if r.last > r.Seq {
				last = r.last
			}
			if r.Error != nil {
				typ, code, msg, sid = int64(r.Error.Type), r.Error.Code, r.Error.Message, r.Error.SyncErrorID
			}
			b.SQL("(").Args(deviceID, r.Seq, last, r.Status, r.Version, typ, code, msg, sid).SQL(")")
		}
		query, args := b.Build()
		if _, err := w.Tx().ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("record results of changes %d to %d: %w", part[0].Seq, part[n-1].last, err)
		}
	}
	return nil
}

// runMax bounds the changes of one create or delete run.
const runMax = 1000

// applyRun applies a run of creates, or of deletes, of one table that
// starts at changes[i], the way apply would apply each: creates all at once
// or none (platform.Writer.CreateBatch), deletes checked at once and
// written together (platform.DeleteBatch), up to the first one apply would
// reject. It returns how many changes from i it applied and next: the
// changes from i+applied up to next are not to be offered to a run again
// (they go alone, each in its savepoint).
func (e *Engine) applyRun(ctx context.Context, w *platform.Writer, by *security.Principal, changes []wire.Change, i int, last int64, detect bool, written map[string]bool) (applied, next int, err error) {
	first := changes[i]
	end := i
	for end < len(changes) && end-i < runMax && e.runnable(w, first, changes[end], last+int64(end-i)+1) {
		end++
	}
	if end-i < 2 {
		return 0, i + 1, nil // a lone change goes alone
	}
	run := changes[i:end]
	if first.Op == wire.OpCreate {
		inputs := make([]map[string]any, len(run))
		pk := w.Schema().MustTable(first.Table).PrimaryKey()
		for k, ch := range run {
			in := make(map[string]any, len(ch.Columns)+1)
			for c, v := range ch.Columns {
				in[c] = v
			}
			in[pk] = ch.ID
			inputs[k] = in
		}
		_, ok, err := w.CreateBatch(ctx, by, first.Table, inputs)
		if err != nil {
			return 0, 0, fmt.Errorf("%w: %w", errBatchFailed, err)
		}
		if !ok {
			return 0, end, nil
		}
		return len(run), end, nil
	}
	ids := make([]string, len(run))
	for k, ch := range run {
		ids[k] = ch.ID
	}
	b, err := w.PrepareDeletes(ctx, by, first.Table, ids)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errBatchFailed, err)
	}
	applied, next = len(run), end
	for k, ch := range run {
		cur, ok := b.Version(ch.ID)
		if !ok || (detect && cur > ch.BaseVersion && !written[ch.Table+"/"+ch.ID]) || !b.Delete(ch.ID) {
			applied, next = k, i+k+1
			break
		}
		written[ch.Table+"/"+ch.ID] = true
	}
	if err := b.Flush(ctx); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errBatchFailed, err)
	}
	return applied, next, nil
}

// runnable reports whether ch, whose sequence number should be seq, can
// join a run that starts with first: the same operation on the same table,
// a well-formed change, a table whose writes the platform can batch, and
// the next sequence number (a change sent twice, or a replay, ends the
// run).
func (e *Engine) runnable(w *platform.Writer, first, ch wire.Change, seq int64) bool {
	if ch.Op != first.Op || ch.Table != first.Table || ch.Seq != seq || checkChange(ch) != nil {
		return false
	}
	if _, err := e.p.Schema().LookupTable(ch.Table); err != nil {
		return false
	}
	if ch.Op == wire.OpCreate {
		return w.BatchUpdatable(ch.Table)
	}
	return w.BatchDeletable(ch.Table)
}
