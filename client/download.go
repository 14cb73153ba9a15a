package client

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// maxRounds bounds the delta rounds of one sync; a server under constant
// writes is caught up with on the next sync.
const maxRounds = 8

// SyncOptions tunes one Sync. The zero value syncs every table.
type SyncOptions struct {
	// Full re-checks every table by checksums (full delta sync and
	// integrity check), downloading only rows that differ.
	Full bool
	// Tables limits the delta to these tables (their intervals are due);
	// nil means all. Uploads and first syncs always cover everything.
	Tables []string
	// OnProgress is called on Sync's goroutine; it must not block.
	OnProgress func(Progress)
}

// Progress reports a running sync.
type Progress struct {
	Phase      string // "upload", "first sync", "delta", "reconcile", "files", "search index"
	Table      string
	TablesDone int
	Tables     int
	Rows       int64 // rows stored so far in this phase
	TotalRows  int64 // rows expected (first sync; search index: up to the table's highest rowid)
	Bytes      int64 // bytes received so far in this sync
	// Files and FileBytes count the files and images stored so far in the
	// "files" phase, of FilesTotal and FileBytesTotal to download.
	Files, FilesTotal         int
	FileBytes, FileBytesTotal int64
}

// SyncResult says what one Sync did.
type SyncResult struct {
	Uploaded, Rejected int
	Upserted, Removed  int
	FirstSync          bool
	// Reconciled lists tables compared by checksums, with the reason.
	Reconciled []string
	Rounds     int
	// Files and FileBytes count the files and images downloaded.
	Files     int
	FileBytes int64
}

type tableState struct {
	name, token, snaptoken, cursor string
	done                           bool
	// check: the device changed the table outside a delta; its next
	// delta asks for checksums.
	check bool
}

// recheckKey is the meta key that marks table for a checksum check.
func recheckKey(table string) string { return "recheck:" + table }

func (c *Client) tableStates(ctx context.Context) ([]tableState, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT name, token, snaptoken, cursor, done, EXISTS (SELECT 1 FROM outpost_meta WHERE key = 'recheck:' || name)
		FROM outpost_table ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read table states: %w", err)
	}
	defer rows.Close()
	var out []tableState
	for rows.Next() {
		var s tableState
		if err := rows.Scan(&s.name, &s.token, &s.snaptoken, &s.cursor, &s.done, &s.check); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// pending returns the ids of table with queued local changes: downloads
// never overwrite them (the queued edit wins locally until the server
// has it).
func pending(ctx context.Context, q execer, table string) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT rowid FROM outpost_queue WHERE tablename = ?`, table)
	if err != nil {
		return nil, fmt.Errorf("read queued ids of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Sync uploads the queue, finishes or starts the first sync, then runs
// deltas until the store equals the server's download plan. A cancelled or
// failed Sync loses nothing: each step commits with its position, and the
// next Sync resumes.
func (c *Client) Sync(ctx context.Context, opts SyncOptions) (*SyncResult, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.begin()
	res := &SyncResult{}
	err := c.sync(ctx, opts, res)
	if err == nil {
		err = c.syncFiles(ctx, opts, res)
	}
	if err == nil {
		// The store is ready and its files are in: the search indexes a
		// table still lacks come last (search.go).
		err = c.buildSearchIndexes(ctx, c.progressOf(opts))
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// A cancelled sync surfaces as whatever its work met first (a
		// statement closed under it, a cut stream); the cause is the
		// cancellation, and callers test for it.
		err = fmt.Errorf("%w: %v", ctx.Err(), err)
	}
	if accessLost(err) {
		err = c.loseAccess(ctx, err)
	} else if err == nil {
		err = setMeta(ctx, c.db, "accesslost", "") // access came back
	}
	c.end(res, err)
	if outpost.ErrorCode(err) == outpost.CodeDeviceRevoked {
		c.db.Close()
		err = c.wipeRevoked(ctx, c.UserID(), err)
	}
	return res, err
}

// progressOf reports a sync's progress to its status and to opts.
func (c *Client) progressOf(opts SyncOptions) func(Progress) {
	return func(p Progress) {
		_, p.Bytes = c.Traffic()
		c.setProgress(p)
		if opts.OnProgress != nil {
			opts.OnProgress(p)
		}
	}
}

func (c *Client) sync(ctx context.Context, opts SyncOptions, res *SyncResult) error {
	progress := c.progressOf(opts)
	c.reportPending(ctx)
	if err := c.upload(ctx, res, progress); err != nil {
		return err
	}
	c.reportPending(ctx)
	for attempt := 0; ; attempt++ {
		err := c.download(ctx, opts, res, progress)
		if outpost.ErrorCode(err) != outpost.CodeGone || attempt > 0 {
			return err
		}
		c.logger.InfoContext(ctx, "token expired: clean re-sync")
		if err := c.reset(ctx); err != nil {
			return err
		}
	}
}

func (c *Client) download(ctx context.Context, opts SyncOptions, res *SyncResult, progress func(Progress)) error {
	ready, err := getMeta(ctx, c.db, "ready")
	if err != nil {
		return err
	}
	if err := c.firstSync(ctx, res, progress); err != nil {
		return err
	}
	if ready != "1" {
		opts.Tables = nil // the closing delta covers every table
	}
	if err := c.deltas(ctx, opts, res, progress); err != nil {
		return err
	}
	if ready != "1" {
		return c.markReady(ctx)
	}
	return nil
}

// reset drops every data table's rows and positions for a clean re-sync;
// the upload queue stays.
func (c *Client) reset(ctx context.Context) error {
	return inTx(ctx, c.db, func(tx *sql.Tx) error {
		for _, name := range c.Tables() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+sqlgen.SQLite.Quote(name)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outpost_table SET token = '', snaptoken = '', cursor = '', done = 0`); err != nil {
			return err
		}
		return setMeta(ctx, tx, "ready", "0")
	})
}

// markReady builds the indexes after the bulk load (those a first sync
// cut after a table's last page did not build yet) and marks the store
// ready: only now does the app see it (status leaves ConnectedRefresh).
func (c *Client) markReady(ctx context.Context) error {
	return inTx(ctx, c.db, func(tx *sql.Tx) error {
		for _, name := range c.Tables() {
			lt, err := c.table(name)
			if err != nil {
				return err
			}
			if err := createIndexes(ctx, tx, lt); err != nil {
				return err
			}
		}
		return setMeta(ctx, tx, "ready", "1")
	})
}

// indexTable builds the indexes of a table whose first sync is complete.
func (c *Client) indexTable(ctx context.Context, lt *localTable) error {
	return inTx(ctx, c.db, func(tx *sql.Tx) error { return createIndexes(ctx, tx, lt) })
}

// createIndexes creates the indexes of lt that do not exist yet.
func createIndexes(ctx context.Context, tx *sql.Tx, lt *localTable) error {
	for _, stmt := range sqlgen.SQLite.CreateTable(lt.t)[1:] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("index %s: %w", lt.def.Name, err)
		}
	}
	return nil
}

// firstSync downloads every table not yet done, storing many pages per
// local transaction together with the cursor of the last one, and indexes
// each table once its last page is stored.
func (c *Client) firstSync(ctx context.Context, res *SyncResult, progress func(Progress)) error {
	states, err := c.tableStates(ctx)
	if err != nil {
		return err
	}
	p := Progress{Phase: "first sync", Tables: len(states)}
	for _, s := range states {
		lt, err := c.table(s.name)
		if err != nil {
			return err
		}
		// A resumed first sync counts the rows already stored, done tables
		// and the part of the table it stopped in alike.
		var held int64
		if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM `+sqlgen.SQLite.Quote(s.name)).Scan(&held); err != nil {
			return err
		}
		p.Rows += held
		p.TotalRows += max(lt.def.Rows, held)
		if s.done {
			p.TablesDone++
		}
	}
	// The streams of the next tables are requested ahead, once the current
	// one's first page has come: the server reads their scopes while this
	// device stores the current one.
	ahead := map[string]*pageStream{}
	defer func() {
		for _, ps := range ahead {
			ps.close()
		}
	}()
	prefetch := func(from int) {
		n := 0
		for _, t := range states[from:] {
			if t.done {
				continue
			}
			if n++; n > streamsAhead {
				return
			}
			if ahead[t.name] == nil {
				req := wire.SnapshotRequest{DeviceID: c.DeviceID(), Table: t.name, After: t.cursor, PageSize: c.opts.PageSize}
				ahead[t.name] = c.r.openSnapshot(ctx, req)
			}
		}
	}
	for i, s := range states {
		if s.done {
			continue
		}
		res.FirstSync = true
		lt, _ := c.table(s.name)
		p.Table = s.name
		progress(p)
		for !s.done {
			if err := context.Cause(ctx); err != nil {
				return err
			}
			ps := ahead[s.name]
			delete(ahead, s.name)
			if ps == nil {
				req := wire.SnapshotRequest{DeviceID: c.DeviceID(), Table: s.name, After: s.cursor, PageSize: c.opts.PageSize}
				ps = c.r.openSnapshot(ctx, req)
			}
			ap := &pageApplier{c: c, lt: lt, s: &s}
			err := ps.each(ctx, func(page *wire.SnapshotPage) error {
				if page.Error != nil {
					return &outpost.Error{Code: outpost.Code(page.Error.Code), Message: page.Error.Message}
				}
				// Only now ask for the next tables: while the server reads
				// this table's first rows, reading other scopes beside it
				// would only delay the page the device waits for.
				prefetch(i + 1)
				if err := ap.add(ctx, page); err != nil {
					ap.rollback()
					return err
				}
				p.Rows += int64(len(page.Rows))
				p.TotalRows = max(p.TotalRows, p.Rows)
				res.Upserted += len(page.Rows)
				progress(p)
				return nil
			})
			ps.close()
			// Pages applied before a cut stream or a server's error page are
			// whole: keep them, so the next attempt resumes after them.
			if cerr := ap.commit(); cerr != nil {
				return errors.Join(err, cerr)
			}
			if err != nil {
				return err
			}
		}
		// Index the table now rather than at the end: the server is reading
		// the next table meanwhile.
		if err := c.indexTable(ctx, lt); err != nil {
			return err
		}
		p.TablesDone++
		if p.TablesDone == p.Tables {
			// The server's rows may have changed since they were counted at
			// open: the finished download is the whole.
			p.TotalRows = p.Rows
		}
		progress(p)
	}
	return nil
}

// streamsAhead is how many tables' snapshot streams a first sync requests
// ahead of the one it stores.
const streamsAhead = 2

// batchRows is how many first-sync rows one local transaction holds at
// most. Each transaction stores its pages and the cursor of the last one,
// so a cut stream or a killed process resumes after the last commit.
const batchRows = 20000

// pageApplier stores the pages of one snapshot stream, many pages per
// local transaction, with multi-row inserts prepared once per transaction.
type pageApplier struct {
	c  *Client
	lt *localTable
	s  *tableState
	// saved is the table state at the start of the open transaction,
	// restored when it rolls back.
	saved tableState
	tx    *sql.Tx
	skip  map[string]bool
	ins   *inserter
	rows  int
}

func (a *pageApplier) add(ctx context.Context, page *wire.SnapshotPage) error {
	defer a.c.timeApply(time.Now())
	if a.tx == nil {
		tx, err := a.c.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		a.tx, a.saved, a.rows = tx, *a.s, 0
		// The queue cannot change while the transaction is open: the store
		// has one connection.
		if a.skip, err = pending(ctx, tx, a.lt.def.Name); err != nil {
			return err
		}
	}
	tx, s, lt := a.tx, a.s, a.lt
	if s.cursor == "" {
		// A first sync starts from an empty table: rows left from before
		// (a clean re-sync, or local creates the server has by now) go,
		// rows with queued changes stay.
		if err := lt.clear(ctx, tx, a.skip); err != nil {
			return err
		}
	}
	if a.ins == nil || !slices.Equal(a.ins.cols, page.Columns) {
		if a.ins != nil {
			a.ins.close()
		}
		ins, err := newInserter(lt, page.Columns)
		if err != nil {
			return err
		}
		a.ins = ins
	}
	if _, err := a.ins.insert(ctx, tx, page.Rows, a.skip); err != nil {
		return err
	}
	snap := s.snaptoken
	if snap == "" {
		snap = page.Token // the closing delta starts at the first page
	}
	tok := ""
	if page.Done {
		tok = snap
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outpost_table SET cursor = ?, snaptoken = ?, done = ?, token = ?, lastsync = ? WHERE name = ?`,
		page.Cursor, snap, page.Done, tok, a.c.stamp(), lt.def.Name); err != nil {
		return err
	}
	s.cursor, s.snaptoken, s.done, s.token = page.Cursor, snap, page.Done, tok
	a.rows += len(page.Rows)
	if a.rows >= batchRows || page.Done {
		return a.commit()
	}
	return nil
}

// commit commits the open transaction, if any.
func (a *pageApplier) commit() error {
	if a.tx == nil {
		return nil
	}
	a.ins.release()
	err := a.tx.Commit()
	a.tx = nil
	if err != nil {
		*a.s = a.saved
	}
	return err
}

// rollback drops the open transaction, if any, and its pages.
func (a *pageApplier) rollback() {
	if a.tx == nil {
		return
	}
	a.ins.release()
	_ = a.tx.Rollback()
	a.tx = nil
	*a.s = a.saved
}

func (c *Client) stamp() string { return c.now().UTC().Format(sqlgen.TimeFormat) }

// deltas runs delta rounds until one needs no follow-up.
func (c *Client) deltas(ctx context.Context, opts SyncOptions, res *SyncResult, progress func(Progress)) error {
	full := opts.Full
	for round := 0; round < maxRounds; round++ {
		res.Rounds++
		states, err := c.tableStates(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		req := wire.DeltaRequest{DeviceID: c.info.DeviceID, ProfileVersion: c.info.ProfileVersion, Full: full}
		c.mu.Unlock()
		for _, s := range states {
			if s.done && (opts.Tables == nil || slices.Contains(opts.Tables, s.name)) {
				req.Tables = append(req.Tables, wire.TableState{Table: s.name, Token: s.token, Check: s.check})
			}
		}
		resp, err := c.r.delta(ctx, req)
		if err != nil {
			return err
		}
		again := false
		if resp.Tables != nil {
			if err := c.replan(ctx, resp.Tables, resp.ProfileVersion); err != nil {
				return err
			}
			if err := c.firstSync(ctx, res, progress); err != nil {
				return err
			}
			again = true
		}
		for i := range resp.Deltas {
			td := &resp.Deltas[i]
			lt, err := c.table(td.Table)
			if err != nil {
				continue // dropped by replan
			}
			progress(Progress{Phase: "delta", Table: td.Table})
			if td.Reconcile != nil {
				res.Reconciled = append(res.Reconciled, td.Table+": "+td.Reason)
				if err := c.reconcile(ctx, lt, td, res, progress); err != nil {
					return err
				}
				again = true
				continue
			}
			if err := c.applyDelta(ctx, lt, td, res); err != nil {
				return err
			}
			again = again || td.More
		}
		full = false
		if !again {
			return nil
		}
	}
	return nil
}

// replan applies a changed table set (profile republished, privileges
// changed): unchanged tables keep their rows and are reconciled next round.
func (c *Client) replan(ctx context.Context, defs []wire.Table, version int64) error {
	err := inTx(ctx, c.db, func(tx *sql.Tx) error {
		if err := c.applyTables(ctx, tx, defs); err != nil {
			return err
		}
		return setMeta(ctx, tx, "profileversion", fmt.Sprint(version))
	})
	if err != nil {
		return fmt.Errorf("apply republished profile: %w", err)
	}
	return c.load(ctx)
}

func (c *Client) applyDelta(ctx context.Context, lt *localTable, td *wire.TableDelta, res *SyncResult) error {
	defer c.timeApply(time.Now())
	return inTx(ctx, c.db, func(tx *sql.Tx) error {
		skip, err := pending(ctx, tx, lt.def.Name)
		if err != nil {
			return err
		}
		// Rules first: a row they remove that is still in scope comes again
		// in the upserts.
		r, err := lt.removeWhere(ctx, tx, td.RemoveWhere, skip)
		if err != nil {
			return err
		}
		n, err := lt.upsert(ctx, tx, td.Columns, td.Upserts, skip)
		if err != nil {
			return err
		}
		m, err := lt.remove(ctx, tx, td.Removes, skip)
		if err != nil {
			return err
		}
		k, err := lt.removeKeys(ctx, tx, td.RemoveKeys, skip)
		if err != nil {
			return err
		}
		res.Upserted, res.Removed = res.Upserted+n, res.Removed+m+r+k
		_, err = tx.ExecContext(ctx, `UPDATE outpost_table SET token = ?, lastsync = ? WHERE name = ?`, td.Token, c.stamp(), lt.def.Name)
		return err
	})
}

// maxHave bounds the rows one reconcile request carries.
const maxHave = 20000

// reconcile compares the server's bucket sums with the local ones and asks
// for the rows of differing buckets only.
func (c *Client) reconcile(ctx context.Context, lt *localTable, td *wire.TableDelta, res *SyncResult, progress func(Progress)) error {
	n := td.Reconcile.Buckets
	if n <= 0 || len(td.Reconcile.Sums) != n {
		return fmt.Errorf("reconcile %s: the server sent %d sums for %d buckets", lt.def.Name, len(td.Reconcile.Sums), n)
	}
	local := make([]uint64, n)
	byBucket := make([][]wire.IDVersion, n)
	rows, err := c.db.QueryContext(ctx, `SELECT `+sqlgen.SQLite.Quote(lt.pk())+`, versionnumber FROM `+sqlgen.SQLite.Quote(lt.def.Name))
	if err != nil {
		return fmt.Errorf("read checksums of %s: %w", lt.def.Name, err)
	}
	for rows.Next() {
		var iv wire.IDVersion
		var v sql.NullInt64
		if err := rows.Scan(&iv.ID, &v); err != nil {
			rows.Close()
			return err
		}
		iv.Version = v.Int64
		b := wire.Bucket(iv.ID, n)
		local[b] += wire.RowHash(iv.ID, iv.Version)
		byBucket[b] = append(byBucket[b], iv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var diff []int
	for b := range n {
		if local[b] != td.Reconcile.Sums[b] {
			diff = append(diff, b)
		}
	}
	for len(diff) > 0 {
		req := wire.ReconcileRequest{DeviceID: c.DeviceID(), Table: lt.def.Name, Buckets: n, Have: []wire.IDVersion{}}
		for len(diff) > 0 && (len(req.Diff) == 0 || len(req.Have)+len(byBucket[diff[0]]) <= maxHave) {
			req.Diff = append(req.Diff, diff[0])
			req.Have = append(req.Have, byBucket[diff[0]]...)
			diff = diff[1:]
		}
		progress(Progress{Phase: "reconcile", Table: lt.def.Name})
		var resp wire.ReconcileResponse
		if err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/reconcile", req, &resp); err != nil {
			return err
		}
		part := &wire.TableDelta{Columns: resp.Columns, Upserts: resp.Upserts, Removes: resp.Removes}
		applyStart := time.Now()
		err := inTx(ctx, c.db, func(tx *sql.Tx) error {
			skip, err := pending(ctx, tx, lt.def.Name)
			if err != nil {
				return err
			}
			k, err := lt.upsert(ctx, tx, part.Columns, part.Upserts, skip)
			if err != nil {
				return err
			}
			m, err := lt.remove(ctx, tx, part.Removes, skip)
			res.Upserted, res.Removed = res.Upserted+k, res.Removed+m
			return err
		})
		c.timeApply(applyStart)
		if err != nil {
			return err
		}
	}
	// The token moves only once every differing bucket is repaired: a
	// reconcile cut half way is redone from the old token.
	return inTx(ctx, c.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outpost_meta WHERE key = ?`, recheckKey(lt.def.Name)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE outpost_table SET token = ?, lastsync = ?, lastcheck = ? WHERE name = ?`, td.Token, c.stamp(), c.stamp(), lt.def.Name)
		return err
	})
}
