package syncsrv

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// A filter relative to the clock ("last 7 days", "this month") selects
// other rows as time passes, without any row's version moving. Between a
// token's time and now, a date condition can only change its answer for
// rows whose date lies between where each edge of its window was then and
// where it is now: for last-x-days 7, the rows dated from the token's time
// up to now (the upper edge) and those of the days that fell out (the
// lower edge, which moves at midnight). clockBand writes those rows as a
// filter, through the same links as the conditions, so the delta compares
// the scope at the token's time with the scope now on those rows only.

// clockBand returns a filter on e's table selecting the rows whose answer
// to e may differ between the clocks of then and now, or nil when no
// window of e moved.
func clockBand(e filter.Expr, then, now *filter.Env) (filter.Expr, error) {
	var list []filter.Expr
	add := func(x filter.Expr) error {
		b, err := clockBand(x, then, now)
		if b != nil {
			list = append(list, b)
		}
		return err
	}
	switch x := e.(type) {
	case *filter.And:
		for _, y := range x.List {
			if err := add(y); err != nil {
				return nil, err
			}
		}
	case *filter.Or:
		for _, y := range x.List {
			if err := add(y); err != nil {
				return nil, err
			}
		}
	case *filter.Not:
		return clockBand(x.X, then, now)
	case *filter.Link:
		if x.Expr == nil {
			return nil, nil
		}
		b, err := clockBand(x.Expr, then, now)
		if b == nil || err != nil {
			return nil, err
		}
		return &filter.Link{Relationship: x.Relationship, Expr: b}, nil
	case *filter.Cond:
		if !clockOp(x.Op) {
			return nil, nil
		}
		s0, e0, err := filter.DateRange(x.Op, x.Values, then)
		if err != nil {
			return nil, err
		}
		s1, e1, err := filter.DateRange(x.Op, x.Values, now)
		if err != nil {
			return nil, err
		}
		for _, edge := range [][2]time.Time{{s0, s1}, {e0, e1}} {
			a, b := edge[0], edge[1]
			if a.Equal(b) {
				continue
			}
			if a.IsZero() || b.IsZero() {
				// A bound dropped outside the years 1 to 9999: every row
				// beyond the other one may have moved.
				lo := a
				if lo.IsZero() {
					lo = b
				}
				list = append(list, &filter.Not{X: &filter.Cond{Column: x.Column, Op: filter.Lt, Values: []any{lo}}})
				continue
			}
			if b.Before(a) {
				a, b = b, a
			}
			list = append(list, &filter.And{List: []filter.Expr{
				&filter.Cond{Column: x.Column, Op: filter.Ge, Values: []any{a}},
				&filter.Cond{Column: x.Column, Op: filter.Lt, Values: []any{b}},
			}})
		}
	}
	switch len(list) {
	case 0:
		return nil, nil
	case 1:
		return list[0], nil
	}
	return &filter.Or{List: list}, nil
}

// clockOp reports whether op is a date operator relative to the clock.
func clockOp(op filter.Op) bool {
	switch op {
	case filter.Today, filter.Yesterday, filter.Tomorrow, filter.LastXDays, filter.NextXDays,
		filter.LastXWeeks, filter.NextXWeeks, filter.LastXMonths, filter.NextXMonths, filter.LastXYears,
		filter.NextXYears, filter.ThisWeek, filter.LastWeek, filter.NextWeek, filter.ThisMonth,
		filter.LastMonth, filter.NextMonth, filter.ThisYear, filter.LastYear, filter.NextYear:
		return true
	}
	return false
}

// at returns env with its clock stopped at t.
func at(env *filter.Env, t time.Time) *filter.Env {
	c := *env
	c.Now = func() time.Time { return t }
	return &c
}

// clockColumns adds to out the (table, column) pairs of the date columns
// that e, a filter on table, compares with the clock, through its links.
func clockColumns(s *schema.Schema, table string, e filter.Expr, out [][2]string) [][2]string {
	switch x := e.(type) {
	case *filter.And:
		for _, y := range x.List {
			out = clockColumns(s, table, y, out)
		}
	case *filter.Or:
		for _, y := range x.List {
			out = clockColumns(s, table, y, out)
		}
	case *filter.Not:
		out = clockColumns(s, table, x.X, out)
	case *filter.Link:
		if r, ok := s.Relationship(table, x.Relationship); ok && x.Expr != nil {
			out = clockColumns(s, r.Related, x.Expr, out)
		}
	case *filter.Cond:
		if p := [2]string{table, x.Column}; clockOp(x.Op) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// indexClockColumns indexes, once per column and process, the date
// columns the plan's filters compare with the clock (datetime columns are
// not indexed by default). On PostgreSQL the index is built concurrently,
// so writers are not held up. A failure costs only speed: it is logged.
func (e *Engine) indexClockColumns(ctx context.Context, v *planView) {
	db := e.p.DB()
	for _, m := range v.meta {
		for _, p := range m.clockCols {
			key := p[0] + "." + p[1]
			if _, done := e.clockIndexes.Load(key); done {
				continue
			}
			t, ok := v.sch.Table(p[0])
			if !ok {
				continue
			}
			stmt := db.Dialect.CreateIndex(t, p[1])
			if db.Dialect.IsPostgres() {
				stmt = strings.Replace(stmt, "CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1)
			}
			if _, err := db.Write.ExecContext(ctx, stmt); err != nil {
				e.logger.Warn("index a date column of a clock-relative filter", "table", p[0], "column", p[1], "err", err)
				continue
			}
			e.clockIndexes.Store(key, true)
		}
	}
}
