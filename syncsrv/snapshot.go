package syncsrv

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// count returns the number of rows of it in the device's scope.
func (s *session) count(ctx context.Context, tx *sql.Tx, it *profile.PlanItem) (int64, error) {
	b := sqlgen.NewBuilder(s.d)
	b.SQL("SELECT count(*) FROM ").Ident(it.Table).SQL(" AS t0 WHERE ")
	if err := s.where(b, it); err != nil {
		return 0, err
	}
	q, args := b.Build()
	var n int64
	if err := tx.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", it.Table, err)
	}
	return n, nil
}

// Snapshot streams the current rows of one table in the device's scope, in
// primary key order after req.After, one page per read snapshot, calling
// emit for each page until the table is done, req.MaxPages pages were sent,
// ctx ends or emit fails. The device stores each page with its cursor in
// one local transaction, so a cut stream resumes where it stopped; the
// first page's token is where the closing delta starts.
func (e *Engine) Snapshot(ctx context.Context, by *security.Principal, req wire.SnapshotRequest, emit func(*wire.SnapshotPage) error) error {
	size := req.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	after := req.After
	for pages := 0; req.MaxPages <= 0 || pages < req.MaxPages; pages++ {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		var page *wire.SnapshotPage
		err := e.read(ctx, by, req.DeviceID, func(tx *sql.Tx, s *session) error {
			var err error
			page, err = s.page(ctx, tx, req.Table, after, size, e.now())
			return err
		})
		if err != nil {
			return err
		}
		if err := emit(page); err != nil {
			return err
		}
		if page.Done {
			return nil
		}
		after = page.Cursor
	}
	return nil
}

func (s *session) page(ctx context.Context, tx *sql.Tx, table, after string, size int, now time.Time) (*wire.SnapshotPage, error) {
	it, t, err := s.item(table)
	if err != nil {
		return nil, err
	}
	cols := columns(t, it)
	b := sqlgen.NewBuilder(s.d)
	b.SQL("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.SQL(", ")
		}
		b.Col("t0", c)
	}
	b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE ")
	if err := s.where(b, it); err != nil {
		return nil, err
	}
	if after != "" {
		b.SQL(" AND ").Col("t0", t.PrimaryKey()).SQL(" > ").Arg(after)
	}
	b.SQL(" ORDER BY ").Col("t0", t.PrimaryKey()).SQL(" LIMIT ").Arg(int64(size))
	q, args := b.Build()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", t.Name, err)
	}
	page := &wire.SnapshotPage{Table: t.Name, Columns: cols, Rows: [][]any{}, Cursor: after, Token: s.token(it, s.cur, now)}
	err = scanWire(rows, t, cols, 0, func(vals []any, _ []int64) error {
		page.Rows = append(page.Rows, vals)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := len(page.Rows); n > 0 {
		page.Cursor = page.Rows[n-1][0].(string)
	}
	page.Done = len(page.Rows) < size
	return page, nil
}
