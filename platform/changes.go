package platform

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// Tombstone records a deleted row.
type Tombstone struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

// Changes are the rows and tombstones of one table with a version in
// (After, Token], in version order.
type Changes struct {
	Rows    []outpost.Row
	Deleted []Tombstone
	// Token is the token of the snapshot the changes were read in.
	// Reading again from Token never misses a change: see store.CurrentVersion.
	Token int64
	// More is set when limit cut the result; read again from Next.
	More bool
	Next int64
}

// ChangesSince returns what changed in table after version after, up to
// limit rows plus tombstones, all read from one snapshot.
func (p *Platform) ChangesSince(ctx context.Context, table string, after int64, limit int) (*Changes, error) {
	t, err := p.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	if after < 0 {
		return nil, outpost.Invalidf("since must be 0 or more, got %d", after).WithTarget("since")
	}
	if limit <= 0 || limit > 100000 {
		limit = 10000
	}
	out := &Changes{}
	err = p.db.ReadTx(ctx, func(tx *sql.Tx) error {
		tok, err := p.db.CurrentVersion(ctx, tx)
		if err != nil {
			return err
		}
		out.Token = tok
		if after > 0 {
			h, err := p.prunedVersion(ctx, tx)
			if err != nil {
				return err
			}
			if after < h {
				return outpost.Errorf(outpost.CodeGone, "changes up to version %d were pruned, so deletions after version %d may be missing: read table %q again from version 0", h, after, t.Name).WithTarget("since")
			}
		}
		d := p.db.Dialect
		cols := t.ColumnNames()
		read := func(hi int64, n int) ([]outpost.Row, error) {
			b := sqlgen.NewBuilder(d)
			b.SQL("SELECT ")
			b.Cols("", cols)
			b.SQL(" FROM ").Ident(t.Name).SQL(" WHERE versionnumber > ").Arg(after).SQL(" AND versionnumber <= ").Arg(hi).
				SQL(" ORDER BY versionnumber")
			if n > 0 {
				b.SQL(" LIMIT ").Arg(int64(n))
			}
			q, args := b.Build()
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return nil, fmt.Errorf("changes of %s: %w", t.Name, err)
			}
			return scanRows(t, cols, rows)
		}
		version := func(r outpost.Row) int64 { return r["versionnumber"].(int64) }
		rows, upper, more, err := store.WholeVersions(after, tok, limit, read, version)
		if err != nil {
			return err
		}
		out.Rows = rows
		if more {
			out.More, out.Next = true, upper
		}
		out.Deleted, err = p.tombstones(ctx, tx, t.Name, after, upper)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// tombstones returns the deletions of table with a version in (after, upper].
func (p *Platform) tombstones(ctx context.Context, tx *sql.Tx, table string, after, upper int64) ([]Tombstone, error) {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).
		SQL(`SELECT id, version FROM outpost_tombstone WHERE tablename = `).Arg(table).SQL(` AND version > `).Arg(after).
		SQL(` AND version <= `).Arg(upper).SQL(` ORDER BY version`).Build()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("tombstones of %s: %w", table, err)
	}
	defer rows.Close()
	var out []Tombstone
	for rows.Next() {
		var ts Tombstone
		if err := rows.Scan(&ts.ID, &ts.Version); err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
	return out, rows.Err()
}
