package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// insertRow inserts row into t at version, filling the primary key (when
// missing), created/modified stamps, state and version, and returns the
// row as stored (INSERT … RETURNING: no second statement reads it back).
// Ownership columns are the caller's business.
func (p *Platform) insertRow(ctx context.Context, tx store.Querier, t *schema.Table, row outpost.Row, version int64, by string, now time.Time) (outpost.Row, error) {
	pk := t.PrimaryKey()
	named, _ := row[pk].(string) // an id the caller chose may be a tombstone's
	stampCreate(t, row, version, by, now)
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d)
	b.SQL("INSERT INTO ").Ident(t.Name).SQL(" (")
	cols := insertColumns(t, row)
	b.Cols("", cols).SQL(") VALUES (")
	insertValues(b, d, cols, row)
	var got outpost.Row
	var err error
	if d.IsPostgres() && !store.IsAtCommit(ctx) {
		got, err = queryRow(ctx, tx, t, b.SQL(") RETURNING ").Cols("", t.ColumnNames()))
		if err == nil && got == nil {
			err = errors.New("no row came back")
		}
	} else {
		// Under store.AtCommit (PostgreSQL) the INSERT may only be sent
		// with the COMMIT, so nothing can come back from it.
		q, args := b.SQL(")").Build()
		if _, err = tx.ExecContext(ctx, q, args...); err == nil {
			got = storedRow(d, t, row)
		}
	}
	if err != nil {
		if p.db.IsUnique(err) {
			return nil, outpost.Conflictf("a row of table %q with id %s already exists", t.Name, row[pk]).WithTarget(pk)
		}
		return nil, fmt.Errorf("insert into %s: %w", t.Name, err)
	}
	// A row created again under an id that was deleted is no longer a
	// tombstone. An id the server just made up has none.
	if named != "" {
		if err := p.clearTombstones(ctx, tx, t, []string{named}); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// storedRow is the row a read of row, just inserted, returns: every column
// of t, each the value bound for it decoded as a scan decodes it. SQLite
// stores a bound value as it is, since every value has been converted to
// its column's type (ConvertValue) before it is bound (the one exception,
// negative zero in a REAL column, reads back as zero), so the INSERT needs
// no RETURNING: SQLite would materialise the returned row and the driver
// copy each of its columns, about a sixth of a one-row create's time in
// the writer. PostgreSQL stores them as they are too (its times keep
// microseconds, and every time is cut to milliseconds before it is bound);
// it uses this for an INSERT sent with the COMMIT (WriteLast).
func storedRow(d sqlgen.Dialect, t *schema.Table, row outpost.Row) outpost.Row {
	out := make(outpost.Row, len(t.Columns))
	for _, c := range t.Columns {
		v, ok := row[c.Name]
		if !ok || v == nil {
			out[c.Name] = nil
			continue
		}
		if f, ok := v.(float64); ok && f == 0 {
			v = 0.0
		}
		out[c.Name] = sqlgen.GoValue(c.Type, d.Arg(v))
	}
	return out
}

// stampCreate gives a new row its id (when it has none), its creation and
// modification stamps, its default state and status, and version.
func stampCreate(t *schema.Table, row outpost.Row, version int64, by string, now time.Time) {
	pk := t.PrimaryKey()
	if id, _ := row[pk].(string); id == "" {
		row[pk] = outpost.NewID()
	}
	row[schema.ColCreatedOn] = now
	row[schema.ColModifiedOn] = now
	if by != "" {
		row[schema.ColCreatedBy] = by
		row[schema.ColModifiedBy] = by
	}
	if _, ok := row[schema.ColStateCode]; !ok {
		row[schema.ColStateCode] = int64(0)
	}
	if _, ok := row[schema.ColStatusCode]; !ok {
		row[schema.ColStatusCode] = int64(1)
	}
	row[schema.ColVersionNumber] = version
}

// updateRow sets the columns of set on row id of t at version.
func (p *Platform) updateRow(ctx context.Context, tx store.Querier, t *schema.Table, id string, set outpost.Row, version int64, by string, now time.Time) error {
	q, args := p.updateSQL(t, id, set, version, by, now).Build()
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("update %s %s: %w", t.Name, id, err)
	}
	return nil
}

// updateRowReturning is updateRow that returns the row as the update left
// it (UPDATE … RETURNING: no second statement reads it back), nil when
// there is no row id, or none that also satisfies where. where, when not
// nil, adds a condition on the row, aliased t0, to the update's WHERE.
func (p *Platform) updateRowReturning(ctx context.Context, tx store.Querier, t *schema.Table, id string, set outpost.Row, version int64, by string, now time.Time, where func(b *sqlgen.Builder) error) (outpost.Row, error) {
	b := p.updateSQL(t, id, set, version, by, now)
	if where != nil {
		b.SQL(" AND ")
		if err := where(b); err != nil {
			return nil, err
		}
	}
	row, err := queryRow(ctx, tx, t, b.SQL(" RETURNING ").Cols("", t.ColumnNames()))
	if err != nil {
		return nil, fmt.Errorf("update %s %s: %w", t.Name, id, err)
	}
	return row, nil
}

// queryRow runs b, a statement that returns every column of t for at most
// one row, and returns that row, nil when there is none.
func queryRow(ctx context.Context, q store.Querier, t *schema.Table, b *sqlgen.Builder) (outpost.Row, error) {
	query, args := b.Build()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	got, err := scanRows(t, t.ColumnNames(), rows)
	if err != nil || len(got) == 0 {
		return nil, err
	}
	return got[0], nil
}

// updateSQL is the UPDATE of updateRow, stamps included; the row is
// aliased t0.
func (p *Platform) updateSQL(t *schema.Table, id string, set outpost.Row, version int64, by string, now time.Time) *sqlgen.Builder {
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d)
	b.SQL("UPDATE ").Ident(t.Name).SQL(" AS t0 SET ")
	stampUpdate(set, version, by, now)
	first := true
	for _, c := range t.Columns {
		v, ok := set[c.Name]
		if !ok || c.Name == t.PrimaryKey() {
			continue
		}
		if !first {
			b.SQL(", ")
		}
		first = false
		b.Ident(c.Name).SQL(" = ").Arg(d.Arg(v))
	}
	return b.SQL(" WHERE t0.").Ident(t.PrimaryKey()).SQL(" = ").Arg(id)
}

// stampUpdate adds to set what every update of a row also sets: when and
// by whom it was modified, and its version.
func stampUpdate(set outpost.Row, version int64, by string, now time.Time) {
	set[schema.ColModifiedOn] = now
	if by != "" {
		set[schema.ColModifiedBy] = by
	}
	set[schema.ColVersionNumber] = version
}

// deleteRow deletes row id of t and leaves a tombstone at version. It
// reports whether the row existed.
func (p *Platform) deleteRow(ctx context.Context, tx store.Querier, t *schema.Table, id string, version int64) (bool, error) {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL("DELETE FROM ").Ident(t.Name).SQL(" WHERE ").Ident(t.PrimaryKey()).SQL(" = ").Arg(id).Build()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("delete %s %s: %w", t.Name, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	query, args = sqlgen.NewBuilder(d).SQL("INSERT INTO outpost_tombstone (tablename, id, version) VALUES (").Args(t.Name, id, version).
		SQL(") ON CONFLICT (tablename, id) DO UPDATE SET version = excluded.version").Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return false, fmt.Errorf("tombstone %s %s: %w", t.Name, id, err)
	}
	query, args = sqlgen.NewBuilder(d).
		SQL("DELETE FROM outpost_share WHERE objecttable = ").Arg(t.Name).SQL(" AND objectid = ").Arg(id).Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return false, fmt.Errorf("unshare %s %s: %w", t.Name, id, err)
	}
	return true, nil
}

// scanRows reads every row of rows into Rows of t's columns cols.
func scanRows(t *schema.Table, cols []string, rows *sql.Rows) ([]outpost.Row, error) {
	defer rows.Close()
	sc, err := newRowScanner(t, cols)
	if err != nil {
		return nil, err
	}
	var out []outpost.Row
	for rows.Next() {
		r, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan %s: %w", t.Name, err)
	}
	return out, nil
}

// rowScanner turns result rows of t's columns cols, followed by the
// destinations extra, into Rows.
type rowScanner struct {
	t     *schema.Table
	cols  []string
	types []schema.Type
	vals  []any
	ptrs  []any
}

func newRowScanner(t *schema.Table, cols []string, extra ...any) (*rowScanner, error) {
	sc := &rowScanner{t: t, cols: cols, types: make([]schema.Type, len(cols)), vals: make([]any, len(cols))}
	for i, name := range cols {
		c, ok := t.Column(name)
		if !ok {
			return nil, fmt.Errorf("scan %s: no column %s", t.Name, name)
		}
		sc.types[i] = c.Type
		sc.ptrs = append(sc.ptrs, &sc.vals[i])
	}
	sc.ptrs = append(sc.ptrs, extra...)
	return sc, nil
}

// scan reads one row from src (a *sql.Rows or *sql.Row); the error of a
// *sql.Row without a row is sql.ErrNoRows, unwrapped.
func (sc *rowScanner) scan(src interface{ Scan(...any) error }) (outpost.Row, error) {
	if err := src.Scan(sc.ptrs...); errors.Is(err, sql.ErrNoRows) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("scan %s: %w", sc.t.Name, err)
	}
	r := make(outpost.Row, len(sc.cols))
	for i, name := range sc.cols {
		r[name] = sqlgen.GoValue(sc.types[i], sc.vals[i])
	}
	return r, nil
}

// getRow reads row id of t with every column, or returns nil when absent.
func (p *Platform) getRow(ctx context.Context, q store.Querier, t *schema.Table, id string) (outpost.Row, error) {
	b := sqlgen.NewBuilder(p.db.Dialect)
	b.SQL("SELECT ").Cols("", t.ColumnNames())
	b.SQL(" FROM ").Ident(t.Name).SQL(" WHERE ").Ident(t.PrimaryKey()).SQL(" = ").Arg(id)
	row, err := queryRow(ctx, q, t, b)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t.Name, id, err)
	}
	return row, nil
}
