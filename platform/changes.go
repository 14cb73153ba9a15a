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
	// Token is the counter value of the snapshot the changes were read in.
	// Reading again from Token never misses a change: see store.NextVersion.
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
		tok, err := store.CurrentVersion(ctx, tx)
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
		// Whole versions only: a page never splits one transaction's rows,
		// so "version > Next" resumes exactly.
		d := p.db.Dialect
		b := sqlgen.NewBuilder(d)
		cols := t.ColumnNames()
		b.SQL("SELECT ")
		selectColumns(b, "", cols)
		b.SQL(" FROM ").Ident(t.Name).SQL(" WHERE versionnumber > ").Arg(after).SQL(" AND versionnumber <= ").Arg(tok).
			SQL(" ORDER BY versionnumber LIMIT ").Arg(int64(limit + 1))
		q, args := b.Build()
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("changes of %s: %w", t.Name, err)
		}
		if out.Rows, err = scanRows(t, cols, rows); err != nil {
			return err
		}
		upper := tok
		if len(out.Rows) > limit {
			// Cut below the last version seen so no version is split.
			last := out.Rows[limit][("versionnumber")].(int64)
			upper = last - 1
			for len(out.Rows) > 0 && out.Rows[len(out.Rows)-1]["versionnumber"].(int64) > upper {
				out.Rows = out.Rows[:len(out.Rows)-1]
			}
			if upper <= after {
				// One transaction wrote more than limit rows: take it whole.
				return p.wholeVersion(ctx, tx, t.Name, cols, after, last, out)
			}
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

func (p *Platform) wholeVersion(ctx context.Context, tx *sql.Tx, table string, cols []string, after, v int64, out *Changes) error {
	t := p.Schema().MustTable(table)
	b := sqlgen.NewBuilder(p.db.Dialect)
	b.SQL("SELECT ")
	selectColumns(b, "", cols)
	b.SQL(" FROM ").Ident(t.Name).SQL(" WHERE versionnumber > ").Arg(after).SQL(" AND versionnumber <= ").Arg(v).SQL(" ORDER BY versionnumber")
	q, args := b.Build()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("changes of %s: %w", t.Name, err)
	}
	if out.Rows, err = scanRows(t, cols, rows); err != nil {
		return err
	}
	out.More, out.Next = v < out.Token, v
	out.Deleted, err = p.tombstones(ctx, tx, t.Name, after, v)
	return err
}

// tombstones returns the deletions of table with a version in (after, upper].
func (p *Platform) tombstones(ctx context.Context, tx *sql.Tx, table string, after, upper int64) ([]Tombstone, error) {
	d := p.db.Dialect
	rows, err := tx.QueryContext(ctx, `SELECT id, version FROM outpost_tombstone WHERE tablename = `+d.Placeholder(1)+
		` AND version > `+d.Placeholder(2)+` AND version <= `+d.Placeholder(3)+` ORDER BY version`, table, after, upper)
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
