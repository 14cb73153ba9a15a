package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// uploadBatch is how many queued changes one upload carries at most: the
// server's limit, so that the fixed cost of a request and of its two
// transactions is spread over as many changes as it takes.
const uploadBatch = 1000

// uploadBytes bounds the queued data of one upload (the batch stops at the
// change that crosses it, and always carries one), well below the size of
// request body a server accepts.
const uploadBytes = 1 << 20

// uploadFileBytes bounds the file content a batch stages before it is sent
// (the batch stops at the file change that crosses it, and always carries
// one): the server bounds the staged content waiting per device, by
// default 128 MiB, which this and one more file of the largest kind fit.
const uploadFileBytes = 64 << 20

// nextQueued reads the batch of the queue after seq: queued, cut at the
// file change whose unstaged content crosses uploadFileBytes.
func nextQueued(ctx context.Context, q execer, seq int64) ([]wire.Change, error) {
	batch, err := queued(ctx, q, `WHERE seq > ?`, uploadBatch, uploadBytes, seq)
	if err != nil {
		return nil, err
	}
	var size int64
	for i, ch := range batch {
		for _, fid := range fileIDs(ch) {
			var n int64
			err := q.QueryRowContext(ctx, `SELECT coalesce(sum(length(content)), 0) FROM outpost_filedata WHERE fileid = ? AND staged = 0`, fid).Scan(&n)
			if err != nil {
				return nil, fmt.Errorf("read file %s: %w", fid, err)
			}
			size += n
		}
		if size >= uploadFileBytes {
			return batch[:i+1], nil
		}
	}
	return batch, nil
}

// fileIDs returns the ids of the files change ch attaches: none unless it
// is a file change.
func fileIDs(ch wire.Change) []string {
	if ch.Op != wire.OpFile {
		return nil
	}
	var out []string
	for _, v := range ch.Columns {
		if fid, ok := v.(string); ok {
			out = append(out, fid)
		}
	}
	return out
}

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
		rc, _ := lt.rules.Column(k)
		cv, err := schema.ConvertValue(lt.rules, rc, fromText(typ, v))
		if err != nil {
			return nil, nil, err
		}
		if err := checkNotBlank(lt, rc, cv); err != nil {
			return nil, nil, err
		}
		sv, err := storeValue(typ, cv)
		if err != nil {
			return nil, nil, outpost.Invalidf("column %q of table %q: %v", k, lt.def.Name, err).WithTarget(k)
		}
		stored[k] = sv
		wireVals[k] = sqlgen.WireValue(typ, sv)
	}
	if create {
		if err := schema.CheckRequired(lt.rules, stored); err != nil {
			return nil, nil, err
		}
	}
	return wireVals, stored, nil
}

// checkNotBlank refuses an empty or whitespace-only text for a required
// column: a form's cleared field or a canvas app's "" means no value, which
// a required column does not allow. Every write of the library (forms,
// canvas apps, the command line) passes here.
func checkNotBlank(lt *localTable, rc *schema.Column, v any) error {
	s, ok := v.(string)
	if !ok || rc == nil || !rc.Required || strings.TrimSpace(s) != "" {
		return nil
	}
	return outpost.Invalidf("column %q of table %q is required: give it a value that is not empty or only spaces", rc.Name, lt.def.Name).WithTarget(rc.Name)
}

// fromText reads a value typed as text (a form field, a command line) for
// a number or yes/no column; text that is not one stays text, so that the
// server's rules refuse it with the server's message.
func fromText(typ schema.Type, v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	switch typ {
	case schema.Integer, schema.Choice:
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(s)
		}
	case schema.Decimal, schema.Money:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(s)
		}
	case schema.Boolean:
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	}
	return v
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
	c.notify()
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
	q := `INSERT INTO ` + sqlgen.SQLite.Quote(lt.def.Name) + ` (` + strings.Join(cols, ", ") + `) VALUES (` + sqlgen.SQLite.Placeholders(1, len(cols)) + `)`
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
	return c.changeLocal(ctx, lt, id, wire.OpUpdate, w, func(tx *sql.Tx) error {
		return updateLocal(ctx, tx, lt, id, stored)
	})
}

// changeLocal runs write on row id of lt in one transaction of the device
// store and queues change op with data, based on the row's version there,
// then wakes the uploader. A row the device does not hold is not found.
func (c *Client) changeLocal(ctx context.Context, lt *localTable, id, op string, data map[string]any, write func(tx *sql.Tx) error) error {
	err := inTx(ctx, c.db, func(tx *sql.Tx) error {
		base, ok, err := localVersion(ctx, tx, lt, id)
		if err != nil || !ok {
			return errorsOr(err, outpost.NotFoundf("no row of table %q has id %s on this device", lt.def.Name, id))
		}
		if err := write(tx); err != nil {
			return err
		}
		return c.enqueue(ctx, tx, lt, op, id, base, data)
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
	return c.changeLocal(ctx, lt, id, wire.OpDelete, nil, func(tx *sql.Tx) error {
		_, err := lt.remove(ctx, tx, []string{id}, nil)
		return err
	})
}

// queued reads up to n changes from the head of the queue; with maxBytes
// above zero it stops after the change whose data reaches maxBytes.
func queued(ctx context.Context, q execer, where string, n, maxBytes int, args ...any) ([]wire.Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, mutationid, tablename, op, rowid, baseversion, data FROM outpost_queue `+where+` ORDER BY seq LIMIT ?`, append(args, n)...)
	if err != nil {
		return nil, fmt.Errorf("read upload queue: %w", err)
	}
	defer rows.Close()
	var out []wire.Change
	size := 0
	for (maxBytes <= 0 || size < maxBytes) && rows.Next() {
		var ch wire.Change
		var data string
		if err := rows.Scan(&ch.Seq, &ch.MutationID, &ch.Table, &ch.Op, &ch.ID, &ch.BaseVersion, &data); err != nil {
			return nil, err
		}
		size += len(data)
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
//
// Batches are sent in sequence order, each once the previous one's reply
// has arrived, so the server applies them in order; the device's own work
// overlaps the server's: it reads the next batch while a batch is on the
// server, and records a batch's results while the next one is. The next
// batch's base versions are moved in memory as recording the results moves
// them in the queue. A reply lost with a batch in flight, or a failure to
// record results, leaves both batches queued: the next upload resends them
// and the server answers from its record.
//
// Progress reports "upload" before the first batch is sent and after each
// batch's results are recorded: the last report marks the end of the
// upload.
func (c *Client) upload(ctx context.Context, res *SyncResult, progress func(Progress)) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	batch, err := nextQueued(ctx, c.db, 0)
	if err != nil || len(batch) == 0 {
		return err
	}
	progress(Progress{Phase: "upload"})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	flight := c.send(ctx, batch)
	for {
		next := c.readAfter(ctx, batch[len(batch)-1].Seq)
		resp, err := flight.wait()
		nb := next.wait()
		if err != nil {
			return err
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if nb.err != nil {
			return nb.err
		}
		flight = nil
		if len(nb.batch) > 0 {
			moveBases(nb.batch, batch, resp.Results)
			flight = c.send(ctx, nb.batch)
		}
		err = inTx(ctx, c.db, func(tx *sql.Tx) error { return c.applyResults(ctx, tx, batch, resp.Results, res) })
		if err != nil {
			if flight != nil {
				cancel()
				_, _ = flight.wait()
			}
			return fmt.Errorf("apply upload results: %w", err)
		}
		progress(Progress{Phase: "upload", Rows: int64(res.Uploaded)})
		if flight == nil {
			return nil
		}
		batch = nb.batch
	}
}

// inFlight is an upload request on its way: its reply, once wait returns.
type inFlight struct {
	done chan struct{}
	resp wire.UploadResponse
	err  error
}

// send stages batch's files and sends it on another goroutine.
func (c *Client) send(ctx context.Context, batch []wire.Change) *inFlight {
	f := &inFlight{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		if f.err = c.stageFiles(ctx, batch); f.err != nil {
			return
		}
		f.err = c.r.call(ctx, http.MethodPost, wire.Prefix+"/upload", wire.UploadRequest{DeviceID: c.DeviceID(), Changes: batch}, &f.resp)
		if f.err == nil && len(f.resp.Results) != len(batch) {
			f.err = fmt.Errorf("upload: %d results for %d changes", len(f.resp.Results), len(batch))
		}
	}()
	return f
}

func (f *inFlight) wait() (*wire.UploadResponse, error) {
	<-f.done
	return &f.resp, f.err
}

// nextBatch is the read of the batch after a sequence number.
type nextBatch struct {
	done  chan struct{}
	batch []wire.Change
	err   error
}

// readAfter reads, on another goroutine, the batch that follows seq.
func (c *Client) readAfter(ctx context.Context, seq int64) *nextBatch {
	n := &nextBatch{done: make(chan struct{})}
	go func() {
		defer close(n.done)
		n.batch, n.err = nextQueued(ctx, c.db, seq)
	}()
	return n
}

func (n *nextBatch) wait() *nextBatch {
	<-n.done
	return n
}

// moveBases sets the base version of each change of next whose row a
// change of batch was applied to, to the version the row reached: what
// recording batch's results does to the queued changes.
func moveBases(next, batch []wire.Change, results []wire.Result) {
	last := map[[2]string]int64{}
	for i, ch := range batch {
		if r := results[i]; r.Status == wire.StatusApplied && r.Version > 0 && r.Seq == ch.Seq {
			last[[2]string{ch.Table, ch.ID}] = r.Version
		}
	}
	if len(last) == 0 {
		return
	}
	for i := range next {
		if v, ok := last[[2]string{next[i].Table, next[i].ID}]; ok {
			next[i].BaseVersion = v
		}
	}
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
	if r.Row == nil {
		// The device does not hold the row, outside any delta: it left
		// now, or went already with the device's own rejected delete. The
		// table's token no longer says what the device holds (a scope that
		// comes back unchanged would not send the row again), so the next
		// delta checks it.
		if err := setMeta(ctx, tx, recheckKey(ch.Table), "1"); err != nil {
			return err
		}
	}
	if r.Row != nil {
		if _, err := lt.upsert(ctx, tx, r.Columns, [][]any{r.Row}, nil); err != nil {
			return err
		}
	}
	later, err := queued(ctx, tx, `WHERE tablename = ? AND rowid = ?`, 1<<30, 0, ch.Table, ch.ID)
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
