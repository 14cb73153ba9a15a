package syncsrv

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// Delta returns, per table of req, what changed for the device since its
// token, all read from one snapshot:
//
//   - when nothing the table's scope depends on moved, the rows changed
//     since the token that are in scope (upserts), and the ids of rows
//     deleted or changed out of scope (removes) — O(changes);
//   - otherwise (the user's teams, business unit, roles or hierarchy, the
//     profile, a linked table or the clock of a relative filter moved, or
//     req.Full) the table's checksums: the device compares them with its
//     own and calls Reconcile for the buckets that differ.
//
// A token older than TokenMaxAge fails with CodeGone: the device must
// re-sync from scratch. When the plan's tables differ from the request's,
// the response carries the plan's tables; tables no longer in the plan are
// left out of the deltas.
func (e *Engine) Delta(ctx context.Context, by *security.Principal, req wire.DeltaRequest) (*wire.DeltaResponse, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultDeltaLimit
	}
	limit = min(limit, MaxPageSize)
	now := e.now()
	toks := make([]token, len(req.Tables))
	for i, ts := range req.Tables {
		tok, err := parseToken(ts.Token)
		if err != nil {
			return nil, err
		}
		if now.Sub(tok.Issued) > e.opts.TokenMaxAge {
			return nil, outpost.Errorf(outpost.CodeGone, "the device last synced table %q on %s, more than %s ago: a clean re-sync is needed",
				ts.Table, tok.Issued.Format(time.DateOnly), e.opts.TokenMaxAge).WithTarget("token")
		}
		toks[i] = tok
	}
	out := &wire.DeltaResponse{Deltas: []wire.TableDelta{}}
	err := e.read(ctx, by, req.DeviceID, func(tx *sql.Tx, s *session) error {
		out.ProfileVersion = s.plan.Version
		out.Tables, out.Deltas = nil, out.Deltas[:0]
		have := make([]string, len(req.Tables))
		for i, ts := range req.Tables {
			have[i] = ts.Table
		}
		if want := s.tables(); req.ProfileVersion != s.plan.Version || !sameTables(have, want) {
			out.Tables = want
		}
		for i, ts := range req.Tables {
			it, ok := s.items[ts.Table]
			if !ok {
				continue
			}
			td, err := e.tableDelta(ctx, tx, s, it, toks[i], req.Full, limit, now)
			if err != nil {
				return err
			}
			out.Deltas = append(out.Deltas, *td)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func sameTables(a []string, b []wire.Table) bool {
	if len(a) != len(b) {
		return false
	}
	names := make([]string, len(b))
	for i, t := range b {
		names[i] = t.Name
	}
	a, names = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(names))
	return slices.Equal(a, names)
}

func (e *Engine) tableDelta(ctx context.Context, tx *sql.Tx, s *session, it *profile.PlanItem, tok token, full bool, limit int, now time.Time) (*wire.TableDelta, error) {
	reason, err := e.reconcileReason(ctx, tx, s, it, tok, full, now)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		sums, err := s.checksums(ctx, tx, it)
		if err != nil {
			return nil, err
		}
		return &wire.TableDelta{Table: it.Table, Token: s.token(it, s.cur, now), Reconcile: sums, Reason: reason}, nil
	}
	return s.changes(ctx, tx, it, tok.Version, limit, now)
}

// reconcileReason says why rows of it may have entered or left the
// device's scope without their own version moving since tok, or "".
func (e *Engine) reconcileReason(ctx context.Context, tx *sql.Tx, s *session, it *profile.PlanItem, tok token, full bool, now time.Time) (string, error) {
	switch {
	case full:
		return "full sync", nil
	case tok.Scope != scopeFingerprint(s.pr, it):
		return "scope changed (profile, privileges, teams, business unit or hierarchy)", nil
	case it.Filter != nil && clockRelative(it.Filter) &&
		(now.Sub(tok.Issued) >= e.opts.TimeWindow || now.YearDay() != tok.Issued.YearDay()):
		return "filter relative to the date", nil
	}
	cols := dependencyColumns(s.sch, it)
	for _, dep := range dependencies(s.sch, it) {
		moved, err := s.scopeMoved(ctx, tx, dep, cols[dep], tok.Version)
		if err != nil {
			return "", err
		}
		if moved {
			return "related table " + dep + " changed", nil
		}
	}
	return "", nil
}

// changedSince reports whether table has a row or tombstone newer than v.
// It asks for the newest version of each, which both engines answer from
// the end of an index whatever v is: "versionnumber > $1 LIMIT 1" let
// PostgreSQL pick a sequential scan on stale statistics, 240 ms per check
// on a 1,000,000-row table (docs/benchmarks.md).
func (s *session) changedSince(ctx context.Context, tx *sql.Tx, table string, v int64) (bool, error) {
	var rows, tombs sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(versionnumber) FROM `+s.d.Quote(table)).Scan(&rows); err != nil {
		return false, fmt.Errorf("check changes of %s: %w", table, err)
	}
	if rows.Int64 > v {
		return true, nil
	}
	err := tx.QueryRowContext(ctx, `SELECT max(version) FROM outpost_tombstone WHERE tablename = `+s.d.Placeholder(1), table).Scan(&tombs)
	if err != nil {
		return false, fmt.Errorf("check deletes of %s: %w", table, err)
	}
	return tombs.Int64 > v, nil
}

// changes returns the rows of it changed after version after, up to limit
// rows cut at a whole version, with tombstones of the same range.
func (s *session) changes(ctx context.Context, tx *sql.Tx, it *profile.PlanItem, after int64, limit int, now time.Time) (*wire.TableDelta, error) {
	t := s.sch.MustTable(it.Table)
	cols := columns(t, it)
	query := func(upto int64, lim int) ([][]any, []bool, error) {
		b := sqlgen.NewBuilder(s.d)
		b.SQL("SELECT ")
		for _, c := range cols {
			b.Col("t0", c).SQL(", ")
		}
		b.SQL("CASE WHEN ")
		if err := s.where(b, it); err != nil {
			return nil, nil, err
		}
		b.SQL(" THEN 1 ELSE 0 END FROM ").Ident(t.Name).SQL(" AS t0 WHERE t0.versionnumber > ").Arg(after).
			SQL(" AND t0.versionnumber <= ").Arg(upto).SQL(" ORDER BY t0.versionnumber")
		if lim > 0 {
			b.SQL(" LIMIT ").Arg(int64(lim))
		}
		q, args := b.Build()
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("changes of %s: %w", t.Name, err)
		}
		var vals [][]any
		var in []bool
		err = scanWire(rows, t, cols, 1, func(v []any, ext []int64) error {
			vals, in = append(vals, v), append(in, ext[0] == 1)
			return nil
		})
		return vals, in, err
	}
	upper := s.cur
	vals, in, err := query(upper, limit+1)
	if err != nil {
		return nil, err
	}
	more := false
	if len(vals) > limit {
		last := vals[limit][1].(int64)
		upper = last - 1
		if upper <= after {
			// One transaction wrote more than limit rows: send it whole.
			upper = last
			if vals, in, err = query(upper, 0); err != nil {
				return nil, err
			}
		} else {
			for len(vals) > 0 && vals[len(vals)-1][1].(int64) > upper {
				vals, in = vals[:len(vals)-1], in[:len(in)-1]
			}
		}
		more = upper < s.cur
	}
	td := &wire.TableDelta{Table: t.Name, Token: s.token(it, upper, now), Columns: cols, More: more}
	for i, v := range vals {
		if in[i] {
			td.Upserts = append(td.Upserts, v)
		} else {
			td.Removes = append(td.Removes, v[0].(string))
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM outpost_tombstone WHERE tablename = `+s.d.Placeholder(1)+
		` AND version > `+s.d.Placeholder(2)+` AND version <= `+s.d.Placeholder(3)+` ORDER BY version`, t.Name, after, upper)
	if err != nil {
		return nil, fmt.Errorf("tombstones of %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		td.Removes = append(td.Removes, id)
	}
	if len(td.Upserts) == 0 && len(td.Removes) == 0 {
		td.Columns = nil
	}
	return td, rows.Err()
}
