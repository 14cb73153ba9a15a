package syncsrv

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
)

// dependencyColumns returns, per table the item's filter links to, the
// columns of that table the filter reads; nil means any change matters
// (an N:N intersect table, whose rows are only created and deleted).
// Conditions on the item's own table are left out: its own changes reach
// the device through their versions.
func dependencyColumns(s *schema.Schema, item *profile.PlanItem) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(table, col string) {
		m, ok := out[table]
		if ok && m == nil {
			return
		}
		if m == nil {
			m = map[string]bool{}
			out[table] = m
		}
		if col != "" {
			m[col] = true
		}
	}
	var walk func(table string, e filter.Expr, own bool)
	walk = func(table string, e filter.Expr, own bool) {
		switch x := e.(type) {
		case *filter.And:
			for _, y := range x.List {
				walk(table, y, own)
			}
		case *filter.Or:
			for _, y := range x.List {
				walk(table, y, own)
			}
		case *filter.Not:
			walk(table, x.X, own)
		case *filter.Cond:
			if !own {
				add(table, x.Column)
			}
		case *filter.Link:
			r, ok := s.Relationship(table, x.Relationship)
			if !ok {
				return
			}
			switch r.Kind {
			case schema.ManyToOne:
				add(r.Related, "") // linked by its primary key, which never changes
				if !own {
					add(table, r.Column)
				}
			case schema.OneToMany:
				add(r.Related, r.Column)
			default:
				add(r.Related, "")
				out[r.Intersect] = nil
			}
			if x.Expr != nil {
				walk(r.Related, x.Expr, false)
			}
		}
	}
	if item.Filter != nil {
		walk(item.Table, item.Filter, true)
	}
	for _, d := range item.DependsOn {
		if _, ok := out[d]; !ok {
			out[d] = nil
		}
	}
	delete(out, item.Table)
	return out
}

// scopeMoved reports whether a write to table after version v changed one
// of cols (nil: any change counts). A change the scope log does not
// explain counts too.
func (s *session) scopeMoved(ctx context.Context, tx *sql.Tx, table string, cols map[string]bool, v int64) (bool, error) {
	changed, err := s.changedSince(ctx, tx, table, v)
	if err != nil || !changed || cols == nil {
		return changed, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT columns FROM outpost_scopelog WHERE tablename = `+s.d.Placeholder(1)+
		` AND version > `+s.d.Placeholder(2)+` AND version <= `+s.d.Placeholder(3), table, v, s.cur)
	if err != nil {
		return false, fmt.Errorf("read scope log of %s: %w", table, err)
	}
	defer rows.Close()
	logged := false
	for rows.Next() {
		var list string
		if err := rows.Scan(&list); err != nil {
			return false, err
		}
		logged = true
		if list == platform.AllColumns {
			return true, nil
		}
		for _, c := range strings.Split(list, ",") {
			if cols[c] {
				return true, nil
			}
		}
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return !logged, nil
}
