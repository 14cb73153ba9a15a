package syncsrv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
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

// resultChunk bounds the results of one INSERT; inserts are cut into
// powers of two so that the few statement texts stay prepared.
const resultChunk = 128

// storeResults records the results of the changes this batch applied or
// rejected (results[i] for i in fresh) for replay, a few rows per INSERT.
func (e *Engine) storeResults(ctx context.Context, w *platform.Writer, deviceID string, results []wire.Result, fresh map[int64]int) error {
	idx := make([]int, 0, len(fresh))
	for i, r := range results {
		if j, ok := fresh[r.Seq]; ok && j == i {
			idx = append(idx, i)
		}
	}
	dia := e.p.DB().Dialect
	for len(idx) > 0 {
		n := resultChunk
		for n > len(idx) {
			n /= 2
		}
		part := idx[:n]
		idx = idx[n:]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO outpost_syncresult (deviceid, seq, status, version, errortype, errorcode, message, syncerrorid) VALUES `)
		args := make([]any, 0, 8*n)
		for k, i := range part {
			if k > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			sb.WriteString(ph(dia, 8*k+1, 8))
			sb.WriteString(")")
			r := results[i]
			var typ, code, msg, sid any
			if r.Error != nil {
				typ, code, msg, sid = int64(r.Error.Type), r.Error.Code, r.Error.Message, r.Error.SyncErrorID
			}
			args = append(args, deviceID, r.Seq, r.Status, r.Version, typ, code, msg, sid)
		}
		if _, err := w.Tx().ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("record results of changes %d to %d: %w", results[part[0]].Seq, results[part[n-1]].Seq, err)
		}
	}
	return nil
}
