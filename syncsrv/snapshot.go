package syncsrv

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// count returns the number of rows of it in the device's scope.
func (s *session) count(ctx context.Context, it *profile.PlanItem) (int64, error) {
	b := sqlgen.NewBuilder(s.d)
	b.SQL("SELECT count(*) FROM ").Ident(it.Table).SQL(" AS t0 WHERE ")
	if err := s.where(b, it); err != nil {
		return 0, err
	}
	q, args := b.Build()
	var n int64
	if err := s.scanRow(ctx, q, args, &n); err != nil {
		return 0, fmt.Errorf("count %s: %w", it.Table, err)
	}
	return n, nil
}

// pagesPerRead bounds the pages one read snapshot serves, and readRows the
// rows. Reading many pages with one query evaluates the scope's subqueries
// (related rows) once instead of once per page, which made a first sync
// quadratic in the scope (docs/benchmarks.md). The pages of one read are
// held in memory and sent after its transaction ends: a device that reads
// slowly, or not at all, waits on the network without a database
// connection or a snapshot, so stalled devices cannot starve the others.
const (
	pagesPerRead = 64
	readRows     = 20_000
)

// Snapshot streams the current rows of one table in the device's scope, in
// primary key order after req.After, calling emit for each page until the
// table is done, req.MaxPages pages were sent, ctx ends or emit fails.
// Pages are read a few at a time (pagesPerRead, readRows), each batch in
// its own read snapshot that ends before the batch is emitted. The device
// stores each page with its cursor in one local transaction, so a cut
// stream resumes where it stopped; the first page's token is where the
// closing delta starts. One user has at most SnapshotStreamsPerUser
// streams at once; more fail with CodeTooMany.
func (e *Engine) Snapshot(ctx context.Context, by *security.Principal, req wire.SnapshotRequest, emit func(*wire.SnapshotPage) error) error {
	release, ok := e.snapshots.take(by.UserID)
	if !ok {
		return tooMany("snapshot streams", e.opts.SnapshotStreamsPerUser, "this user")
	}
	defer release()
	size := req.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	after := req.After
	var batch []*wire.SnapshotPage
	for pages := 0; req.MaxPages <= 0 || pages < req.MaxPages; {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		n := min(pagesPerRead, max(1, readRows/size))
		if req.MaxPages > 0 {
			n = min(n, req.MaxPages-pages)
		}
		batch = batch[:0]
		err := e.read(ctx, by, req.DeviceID, func(s *session) error {
			if err := s.sortMemory(ctx); err != nil {
				return err
			}
			return s.pages(ctx, req.Table, after, size, n, func(page *wire.SnapshotPage) error {
				batch = append(batch, page)
				return nil
			})
		})
		if err != nil {
			return err
		}
		done := false
		for _, page := range batch {
			pages++
			after, done = page.Cursor, page.Done
			if err := emit(page); err != nil {
				return err
			}
		}
		if done || len(batch) == 0 {
			return nil
		}
	}
	return nil
}

// snapshotSortMemory is the memory a PostgreSQL snapshot read may sort
// in. A read sorts up to pagesPerRead pages of rows in primary key order;
// with the default 4 MB the sort of a large scope spilled to disk and took
// longer than finding the rows.
const snapshotSortMemory = "64MB"

// sortMemory raises the sort memory of a PostgreSQL read transaction for
// the rest of it.
func (s *session) sortMemory(ctx context.Context) error {
	if !s.d.IsPostgres() {
		return nil
	}
	tx, err := s.snapshot()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '"+snapshotSortMemory+"'"); err != nil {
		return fmt.Errorf("snapshot sort memory: %w", err)
	}
	return nil
}

// pages emits up to n pages of size rows of table after the cursor, read
// with one query in the session's snapshot. The last page of the table has Done set (it may be
// empty when the table ends on a full page).
func (s *session) pages(ctx context.Context, table, after string, size, n int, emit func(*wire.SnapshotPage) error) error {
	it, t, err := s.item(table)
	if err != nil {
		return err
	}
	cols := s.cols(it)
	limit := size * n
	q, args, err := s.pageQuery(it, t, after, limit)
	if err != nil {
		return err
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", t.Name, err)
	}
	defer rows.Close()
	token := s.token(it, s.cur)
	sc := newPageScanner(t, cols)
	for total := 0; total < limit; {
		page := &wire.SnapshotPage{Table: t.Name, Columns: cols, Cursor: after, Token: token}
		more, err := sc.scan(rows, page, min(size, limit-total))
		if err != nil {
			return err
		}
		total += len(page.Rows)
		after = page.Cursor
		if !more {
			page.Done = true
			return emit(page)
		}
		if err := emit(page); err != nil {
			return err
		}
	}
	return nil
}

// pageQuery is the statement pages runs: the item's download set
// (PlanItem.WriteSelect, the statement the maker's preview shows) after
// the cursor, in key order, at most limit rows.
func (s *session) pageQuery(it *profile.PlanItem, t *schema.Table, after string, limit int) (string, []any, error) {
	b := sqlgen.NewBuilder(s.d)
	if err := it.WriteSelect(b, s.sch, t, s.env()); err != nil {
		return "", nil, err
	}
	if after != "" {
		b.SQL(" AND ").Col("t0", t.PrimaryKey()).SQL(" > ").Arg(after)
	}
	b.SQL(" ORDER BY ").Col("t0", t.PrimaryKey())
	if s.d.IsPostgres() {
		// PostgreSQL sorts at most limit rows (in a bounded heap when the
		// scope is larger). SQLite sorts an ORDER BY with LIMIT by
		// inserting every row of the scope into a temporary b-tree, which
		// took longer than finding the rows; without LIMIT it uses its
		// merge sorter, which holds what the page cache allows in memory
		// and spills the rest to temporary files, and the read stops
		// after limit rows instead.
		b.SQL(" LIMIT ").Arg(int64(limit))
	}
	q, args := b.Build()
	return q, args, nil
}
