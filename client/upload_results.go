package client

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// applyResults records the server's answers to batch in tx: each change
// leaves the queue, an applied change moves the base version of the
// device's later queued changes of its row, and a rejected one becomes a
// Sync Error and is reverted locally.
//
// Runs of applied changes are recorded a run at a time: one DELETE for the
// run (the batch is the head of the queue, so its sequence numbers are the
// only ones in their range) and one UPDATE per few rows for the base
// versions, the last applied version of a row winning as it would one
// change at a time. A rejected change first records the run before it, so
// its revert sees the queue as it would one change at a time: the batch's
// earlier changes gone, its later ones still queued.
func (c *Client) applyResults(ctx context.Context, tx *sql.Tx, batch []wire.Change, results []wire.Result, res *SyncResult) error {
	for i, r := range results {
		if r.Seq != batch[i].Seq {
			return fmt.Errorf("result %d is for change %d, not %d", i, r.Seq, batch[i].Seq)
		}
	}
	start := 0
	for i, r := range results {
		if r.Status == wire.StatusApplied {
			continue
		}
		if err := c.recordApplied(ctx, tx, batch[start:i], results[start:i], res); err != nil {
			return err
		}
		start = i + 1
		ch := batch[i]
		if _, err := tx.ExecContext(ctx, `DELETE FROM outpost_queue WHERE seq = ?`, ch.Seq); err != nil {
			return err
		}
		res.Rejected++
		if err := c.recordRejection(ctx, tx, ch, r); err != nil {
			return err
		}
		if err := c.revert(ctx, tx, ch, r); err != nil {
			return err
		}
	}
	return c.recordApplied(ctx, tx, batch[start:], results[start:], res)
}

// baseChunk bounds the row ids of one base-version UPDATE.
const baseChunk = 256

// recordApplied removes run, changes the server applied (results), from
// the queue and moves the base version of the later queued changes of
// their rows to the version each row reached.
func (c *Client) recordApplied(ctx context.Context, tx *sql.Tx, run []wire.Change, results []wire.Result, res *SyncResult) error {
	if len(run) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM outpost_queue WHERE seq BETWEEN ? AND ?`, run[0].Seq, run[len(run)-1].Seq); err != nil {
		return err
	}
	res.Uploaded += len(run)
	// Later changes of a row build on its last applied change, not on a
	// conflict: per version and table, the rows that reached it.
	type key struct {
		version int64
		table   string
	}
	last := map[[2]string]int64{}
	for i, ch := range run {
		if v := results[i].Version; v > 0 {
			last[[2]string{ch.Table, ch.ID}] = v
		}
	}
	if len(last) == 0 {
		return nil
	}
	groups := map[key][]string{}
	var order []key
	for _, ch := range run {
		row := [2]string{ch.Table, ch.ID}
		v, ok := last[row]
		if !ok {
			continue
		}
		delete(last, row) // each row once
		k := key{v, ch.Table}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], ch.ID)
	}
	for _, k := range order {
		ids := groups[k]
		for len(ids) > 0 {
			n := min(len(ids), baseChunk)
			b := sqlgen.NewBuilder(sqlgen.SQLite)
			b.SQL("UPDATE outpost_queue SET baseversion = ").Arg(k.version).SQL(" WHERE tablename = ").Arg(k.table).
				SQL(" AND rowid IN (").StringsArgs(ids[:n]).SQL(")")
			q, args := b.Build()
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			ids = ids[n:]
		}
	}
	return nil
}
