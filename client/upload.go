package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// uploadBatch is how many queued changes one upload carries.
const uploadBatch = 200

// writable reports whether a device may set column c of lt.
func writable(lt *localTable, c string, create bool) bool {
	switch c {
	case schema.ColStateCode, schema.ColStatusCode:
		return true
	case lt.pk(), schema.ColOwnerID:
		return create
	}
	return !schema.IsSystemColumn(lt.def.Name, c)
}

// convertValues checks user values against lt and returns them both in
// wire form (for the queue) and in stored form (for the local table).
func convertValues(lt *localTable, values map[string]any, create bool) (wireVals, stored map[string]any, err error) {
	wireVals, stored = map[string]any{}, map[string]any{}
	for k, v := range values {
		typ, ok := lt.types[k]
		if !ok {
			return nil, nil, outpost.Invalidf("table %q has no column %q on this device", lt.def.Name, k).WithTarget(k)
		}
		if !writable(lt, k, create) {
			return nil, nil, outpost.Invalidf("column %q of table %q is maintained by Outpost and cannot be written", k, lt.def.Name).WithTarget(k)
		}
		if typ == schema.File || typ == schema.Image {
			return nil, nil, outpost.Invalidf("column %q of table %q holds a file: set it with PutFile", k, lt.def.Name).WithTarget(k)
		}
		sv, err := storeValue(typ, v)
		if err != nil {
			return nil, nil, outpost.Invalidf("column %q of table %q: %v", k, lt.def.Name, err).WithTarget(k)
		}
		stored[k] = sv
		wireVals[k] = readValue(typ, sv)
	}
	return wireVals, stored, nil
}

func (c *Client) enqueue(ctx context.Context, tx *sql.Tx, lt *localTable, op, id string, base int64, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outpost_queue (mutationid, tablename, op, rowid, baseversion, data, createdon) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		outpost.NewID(), lt.def.Name, op, id, base, string(b), c.stamp())
	return err
}

func (c *Client) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Create inserts a row locally and queues it for upload; it returns the
// row's new id. The server re-checks everything when the change arrives.
func (c *Client) Create(ctx context.Context, table string, values map[string]any) (string, error) {
	lt, err := c.table(table)
	if err != nil {
		return "", err
	}
	w, stored, err := convertValues(lt, values, true)
	if err != nil {
		return "", err
	}
	id, _ := stored[lt.pk()].(string)
	if id == "" {
		id = outpost.NewID()
	} else if !outpost.ValidID(id) {
		return "", outpost.Invalidf("%q is not a row id", id).WithTarget(lt.pk())
	}
	delete(w, lt.pk())
	stored[lt.pk()] = id
	stored[schema.ColVersionNumber] = int64(0)
	if _, ok := lt.types[schema.ColOwnerID]; ok && stored[schema.ColOwnerID] == nil {
		stored[schema.ColOwnerID] = c.UserID()
	}
	err = inTx(ctx, c.db, func(tx *sql.Tx) error {
		if err := insertLocal(ctx, tx, lt, stored); err != nil {
			return err
		}
		return c.enqueue(ctx, tx, lt, wire.OpCreate, id, 0, w)
	})
	if err != nil {
		return "", err
	}
	c.wake()
	return id, nil
}

func insertLocal(ctx context.Context, tx *sql.Tx, lt *localTable, stored map[string]any) error {
	cols := make([]string, 0, len(stored))
	args := make([]any, 0, len(stored))
	for _, c := range lt.columnNames() {
		if v, ok := stored[c]; ok {
			cols = append(cols, sqlgen.SQLite.Quote(c))
			args = append(args, v)
		}
	}
	q := `INSERT INTO ` + sqlgen.SQLite.Quote(lt.def.Name) + ` (` + strings.Join(cols, ", ") + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return outpost.Conflictf("a row of table %q with id %v exists on this device", lt.def.Name, stored[lt.pk()])
	}
	return nil
}

// localVersion returns the version of row id, or false when absent.
func localVersion(ctx context.Context, q execer, lt *localTable, id string) (int64, bool, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT versionnumber FROM `+sqlgen.SQLite.Quote(lt.def.Name)+` WHERE `+sqlgen.SQLite.Quote(lt.pk())+` = ?`, id).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return v.Int64, err == nil, err
}

// Update changes columns of a local row and queues only the changed
// columns (per-column last writer wins on the server).
func (c *Client) Update(ctx context.Context, table, id string, values map[string]any) error {
	lt, err := c.table(table)
	if err != nil {
		return err
	}
	w, stored, err := convertValues(lt, values, false)
	if err != nil {
		return err
	}
	cur, err := c.Get(ctx, table, id)
	if err != nil {
		return err
	}
	for k, v := range w {
		if cur[k] == v {
			delete(w, k)
			delete(stored, k)
		}
	}
	if len(w) == 0 {
		return nil
	}
	err = inTx(ctx, c.db, func(tx *sql.Tx) error {
		base, ok, err := localVersion(ctx, tx, lt, id)
		if err != nil || !ok {
			return errorsOr(err, outpost.NotFoundf("no row of table %q has id %s on this device", table, id))
		}
		if err := updateLocal(ctx, tx, lt, id, stored); err != nil {
			return err
		}
		return c.enqueue(ctx, tx, lt, wire.OpUpdate, id, base, w)
	})
	if err == nil {
		c.wake()
	}
	return err
}

func errorsOr(err error, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

func updateLocal(ctx context.Context, tx *sql.Tx, lt *localTable, id string, stored map[string]any) error {
	var sets []string
	var args []any
	for _, c := range lt.columnNames() {
		if v, ok := stored[c]; ok && c != lt.pk() {
			sets = append(sets, sqlgen.SQLite.Quote(c)+" = ?")
			args = append(args, v)
		}
	}
	if len(sets) == 0 {
		return nil
	}
	args = append(args, id)
	_, err := tx.ExecContext(ctx, `UPDATE `+sqlgen.SQLite.Quote(lt.def.Name)+` SET `+strings.Join(sets, ", ")+` WHERE `+sqlgen.SQLite.Quote(lt.pk())+` = ?`, args...)
	return err
}

// Delete deletes a local row and queues the delete.
func (c *Client) Delete(ctx context.Context, table, id string) error {
	lt, err := c.table(table)
	if err != nil {
		return err
	}
	err = inTx(ctx, c.db, func(tx *sql.Tx) error {
		base, ok, err := localVersion(ctx, tx, lt, id)
		if err != nil || !ok {
			return errorsOr(err, outpost.NotFoundf("no row of table %q has id %s on this device", table, id))
		}
		if _, err := lt.remove(ctx, tx, []string{id}, nil); err != nil {
			return err
		}
		return c.enqueue(ctx, tx, lt, wire.OpDelete, id, base, nil)
	})
	if err == nil {
		c.wake()
	}
	return err
}

// queued reads up to n changes from the head of the queue.
func queued(ctx context.Context, q execer, where string, n int, args ...any) ([]wire.Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, mutationid, tablename, op, rowid, baseversion, data FROM outpost_queue `+where+` ORDER BY seq LIMIT ?`, append(args, n)...)
	if err != nil {
		return nil, fmt.Errorf("read upload queue: %w", err)
	}
	defer rows.Close()
	var out []wire.Change
	for rows.Next() {
		var ch wire.Change
		var data string
		if err := rows.Scan(&ch.Seq, &ch.MutationID, &ch.Table, &ch.Op, &ch.ID, &ch.BaseVersion, &data); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&ch.Columns); err != nil {
			return nil, fmt.Errorf("read upload queue: change %d: %w", ch.Seq, err)
		}
		out = append(out, ch)
	}
	return out, rows.Err()
}

// upload pushes the queue until it is empty. A change leaves the queue only
// with its result, in the transaction that applies the result, so a lost
// reply or a crash resends it and the server answers from its record.
func (c *Client) upload(ctx context.Context, res *SyncResult, progress func(Progress)) error {
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		batch, err := queued(ctx, c.db, "", uploadBatch)
		if err != nil || len(batch) == 0 {
			return err
		}
		progress(Progress{Phase: "upload", Rows: int64(res.Uploaded)})
		var resp wire.UploadResponse
		if err := c.stageFiles(ctx, batch); err != nil {
			return err
		}
		if err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/upload", wire.UploadRequest{DeviceID: c.DeviceID(), Changes: batch}, &resp); err != nil {
			return err
		}
		if len(resp.Results) != len(batch) {
			return fmt.Errorf("upload: %d results for %d changes", len(resp.Results), len(batch))
		}
		if err := inTx(ctx, c.db, func(tx *sql.Tx) error { return c.applyResults(ctx, tx, batch, resp.Results, res) }); err != nil {
			return fmt.Errorf("apply upload results: %w", err)
		}
	}
}

func (c *Client) applyResults(ctx context.Context, tx *sql.Tx, batch []wire.Change, results []wire.Result, res *SyncResult) error {
	for i, r := range results {
		ch := batch[i]
		if r.Seq != ch.Seq {
			return fmt.Errorf("result %d is for change %d, not %d", i, r.Seq, ch.Seq)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outpost_queue WHERE seq = ?`, ch.Seq); err != nil {
			return err
		}
		if r.Status == wire.StatusApplied {
			res.Uploaded++
			if r.Version > 0 {
				// Later changes of the row build on this one, not on a conflict.
				if _, err := tx.ExecContext(ctx, `UPDATE outpost_queue SET baseversion = ? WHERE tablename = ? AND rowid = ?`, r.Version, ch.Table, ch.ID); err != nil {
					return err
				}
			}
			continue
		}
		res.Rejected++
		if err := c.recordRejection(ctx, tx, ch, r); err != nil {
			return err
		}
		if err := c.revert(ctx, tx, ch, r); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) recordRejection(ctx context.Context, tx *sql.Tx, ch wire.Change, r wire.Result) error {
	e := r.Error
	if e == nil {
		e = &wire.ChangeError{Type: wire.ErrorOther, Code: "internal", Message: "rejected"}
	}
	data, _ := json.Marshal(ch)
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO outpost_error (seq, syncerrorid, tablename, rowid, op, type, code, message, time, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ch.Seq, e.SyncErrorID, ch.Table, ch.ID, ch.Op, e.Type, e.Code, e.Message, c.stamp(), string(data))
	return err
}

// revert undoes a rejected change locally: the row becomes the server's
// (or goes, when the server has none the device may hold), then the
// device's later queued changes of the row are laid over it again.
func (c *Client) revert(ctx context.Context, tx *sql.Tx, ch wire.Change, r wire.Result) error {
	lt, err := c.table(ch.Table)
	if err != nil {
		return nil // table no longer offline: nothing to revert
	}
	if _, err := lt.remove(ctx, tx, []string{ch.ID}, nil); err != nil {
		return err
	}
	if r.Row != nil {
		if _, err := lt.upsert(ctx, tx, r.Columns, [][]any{r.Row}, nil); err != nil {
			return err
		}
	}
	later, err := queued(ctx, tx, `WHERE tablename = ? AND rowid = ?`, 1<<30, ch.Table, ch.ID)
	if err != nil {
		return err
	}
	for _, l := range later {
		if l.Op == wire.OpFile { // a file id, laid over as is
			if err := updateLocal(ctx, tx, lt, l.ID, l.Columns); err != nil {
				return err
			}
			continue
		}
		_, stored, err := convertValues(lt, l.Columns, l.Op == wire.OpCreate)
		if err != nil {
			continue
		}
		switch l.Op {
		case wire.OpCreate:
			stored[lt.pk()] = l.ID
			stored[schema.ColVersionNumber] = int64(0)
			_ = insertLocal(ctx, tx, lt, stored)
		case wire.OpUpdate:
			err = updateLocal(ctx, tx, lt, l.ID, stored)
		case wire.OpDelete:
			_, err = lt.remove(ctx, tx, []string{l.ID}, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
