package syncsrv

import (
	"context"
	"fmt"
	"strings"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
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
func (s *session) scopeMoved(ctx context.Context, table string, cols map[string]bool, v int64) (bool, error) {
	changed, err := s.changedSince(ctx, table, v)
	if err != nil || !changed || cols == nil {
		return changed, err
	}
	l, err := s.scopeLog(ctx, table, v)
	if err != nil {
		return false, err
	}
	if !l.logged || l.all {
		return true, nil
	}
	for c := range l.columns {
		if cols[c] {
			return true, nil
		}
	}
	return false, nil
}

type scopeLogKey struct {
	table string
	after int64
}

// scopeLog is what the scope log says about a table's writes in a range
// of versions: whether any was logged, whether one changed every column,
// and the columns the others changed.
type scopeLog struct {
	logged, all bool
	columns     map[string]bool
}

// scopeLog reads the scope log of table for the versions after v up to the
// snapshot's, once per request: the tables linked to the same table with
// the same token share it.
func (s *session) scopeLog(ctx context.Context, table string, v int64) (scopeLog, error) {
	key := scopeLogKey{table, v}
	if l, ok := s.scopeLogs[key]; ok {
		return l, nil
	}
	query, args := sqlgen.NewBuilder(s.d).
		SQL(`SELECT columns FROM outpost_scopelog WHERE tablename = `).Arg(table).SQL(` AND version > `).Arg(v).
		SQL(` AND version <= `).Arg(s.cur).Build()
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return scopeLog{}, fmt.Errorf("read scope log of %s: %w", table, err)
	}
	defer rows.Close()
	l := scopeLog{columns: map[string]bool{}}
	for rows.Next() {
		var list string
		if err := rows.Scan(&list); err != nil {
			return scopeLog{}, err
		}
		l.logged = true
		if list == platform.AllColumns {
			l.all = true
			break
		}
		for _, c := range strings.Split(list, ",") {
			l.columns[c] = true
		}
	}
	if err := rows.Err(); err != nil {
		return scopeLog{}, err
	}
	if s.scopeLogs == nil {
		s.scopeLogs = map[scopeLogKey]scopeLog{}
	}
	s.scopeLogs[key] = l
	return l, nil
}
