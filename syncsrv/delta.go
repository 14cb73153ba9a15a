package syncsrv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
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
		tok, err := e.parseToken(ctx, ts.Table, ts.Token, now)
		if err != nil {
			return nil, err
		}
		toks[i] = tok
	}
	if err := e.loadRestores(ctx); err != nil {
		return nil, err
	}
	// Most deltas find nothing to send: answer them from one statement,
	// without a read transaction, when they can be (deltacache.go).
	s, err := e.prepare(ctx, by, req.DeviceID, false)
	if err != nil {
		return nil, err
	}
	if out, err := e.quickDelta(ctx, s, req, toks, limit); err != nil || out != nil {
		return out, err
	}
	var out *wire.DeltaResponse
	err = e.read(ctx, by, req.DeviceID, func(s *session) error {
		var err error
		out, err = e.delta(ctx, s, req, toks, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// quickDelta answers req from the probe statement alone, in its snapshot,
// when every table can be answered from the newest versions it read (or
// remembers for the same counter value): nothing to send, or rows only
// outside the token's range. It returns nil when the request needs a read
// transaction: something changed, a commit notice named a table the
// request depends on, or the session is stale.
func (e *Engine) quickDelta(ctx context.Context, s *session, req wire.DeltaRequest, toks []token, limit int) (*wire.DeltaResponse, error) {
	if req.Full || slices.ContainsFunc(req.Tables, func(ts wire.TableState) bool { return ts.Check }) {
		return nil, nil
	}
	known := make(map[string]tableMax, len(s.view.probeTables))
	if _, noticed := e.cache.known(s.view.probeTables, known); noticed {
		return nil, nil
	}
	ok, err := e.probe(ctx, e.p.DB().Read, s, false)
	if err != nil || !ok {
		return nil, err
	}
	s.fromProbe = true
	out, err := e.delta(ctx, s, req, toks, limit)
	if errors.Is(err, errNeedSnapshot) {
		return nil, nil
	}
	return out, err
}

// delta computes the response to req in the session's snapshot or, when
// the session answers from its probe alone, from the newest versions the
// probe read, failing with errNeedSnapshot when a statement is needed.
func (e *Engine) delta(ctx context.Context, s *session, req wire.DeltaRequest, toks []token, limit int) (*wire.DeltaResponse, error) {
	out := &wire.DeltaResponse{ProfileVersion: s.plan.Version, Deltas: make([]wire.TableDelta, 0, len(req.Tables))}
	have := make([]string, len(req.Tables))
	for i, ts := range req.Tables {
		have[i] = ts.Table
	}
	if req.ProfileVersion != s.plan.Version || !sameTables(have, s.plan.Items) {
		out.Tables = s.tables()
	}
	for i, ts := range req.Tables {
		it, ok := s.items[ts.Table]
		if !ok {
			continue
		}
		td, err := e.tableDelta(ctx, s, it, toks[i], req.Full || ts.Check, limit)
		if err != nil {
			return nil, err
		}
		out.Deltas = append(out.Deltas, *td)
	}
	return out, nil
}

// sameTables reports whether a names the tables of items, in any order.
func sameTables(a []string, items []profile.PlanItem) bool {
	if len(a) != len(items) {
		return false
	}
	names := make([]string, len(items))
	for i := range items {
		names[i] = items[i].Table
	}
	a, names = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(names))
	return slices.Equal(a, names)
}

func (e *Engine) tableDelta(ctx context.Context, s *session, it *profile.PlanItem, tok token, full bool, limit int) (*wire.TableDelta, error) {
	reason, scopeOnly, err := e.reconcileReason(ctx, s, it, tok, full)
	if err != nil {
		return nil, err
	}
	if scopeOnly {
		td, err := e.scopeDiff(ctx, s, it, tok, limit)
		if err != nil || td != nil {
			return td, err
		}
	}
	if reason != "" {
		sums, err := s.checksums(ctx, it)
		if err != nil {
			return nil, err
		}
		return &wire.TableDelta{Table: it.Table, Token: s.token(it, s.cur), Reconcile: sums, Reason: reason}, nil
	}
	return s.changes(ctx, it, tok.Version, limit)
}

// reconcileReason says why rows of it may have entered or left the
// device's scope without their own version moving since tok, or "".
// scopeOnly is set when the only reason is a change of the user's scope
// (teams, business unit, hierarchy) that the server can work out itself.
func (e *Engine) reconcileReason(ctx context.Context, s *session, it *profile.PlanItem, tok token, full bool) (reason string, scopeOnly bool, err error) {
	m := s.view.meta[it.Table]
	switch {
	case full:
		return "full sync", false, nil
	case tok.Version > s.cur || e.lostHistory(tok):
		// The token names changes this database does not have: it was
		// restored from a backup older than the device's last sync.
		// Versions from here on repeat ones the device has passed, so
		// only checksums tell what it holds that the server does not.
		return "token from the future of the server (restored from a backup)", false, nil
	}
	for _, dep := range m.deps {
		moved, err := s.scopeMoved(ctx, dep, m.depCols[dep], tok.Version)
		if err != nil {
			return "", false, err
		}
		if moved {
			return "related table " + dep + " changed", false, nil
		}
	}
	if tok.Scope != m.fingerprint {
		return "scope changed (profile, privileges, teams, business unit or hierarchy)", true, nil
	}
	if m.clock && !tok.Issued.Equal(s.now) {
		band, err := clockBand(it.Filter, at(s.pr.Env(), tok.Issued), s.env())
		if err != nil || band != nil {
			return "filter relative to the date", true, err
		}
	}
	return "", false, nil
}

// changedSince reports whether table has a row or tombstone newer than v,
// from the newest versions the probe read; a table the probe did not read
// is asked for them in the snapshot. They are answered from the end of an index
// whatever v is: "versionnumber > $1 LIMIT 1" let PostgreSQL pick a
// sequential scan on stale statistics, 240 ms per check on a
// 1,000,000-row table (docs/benchmarks.md).
func (s *session) changedSince(ctx context.Context, table string, v int64) (bool, error) {
	m, err := s.tableMax(ctx, table)
	return max(m.rows, m.tombs) > v, err
}

// tableMax returns the newest row and tombstone versions of table in the
// snapshot.
func (s *session) tableMax(ctx context.Context, table string) (tableMax, error) {
	if m, ok := s.maxes[table]; ok {
		return m, nil
	}
	var rows, tombs sql.NullInt64
	if err := s.scanRow(ctx, `SELECT max(versionnumber) FROM `+s.d.Quote(table), nil, &rows); err != nil {
		return tableMax{}, fmt.Errorf("check changes of %s: %w", table, err)
	}
	b := sqlgen.NewBuilder(s.d).SQL("SELECT max(version) FROM outpost_tombstone WHERE tablename = ").Arg(table)
	q, args := b.Build()
	if err := s.scanRow(ctx, q, args, &tombs); err != nil {
		return tableMax{}, fmt.Errorf("check deletes of %s: %w", table, err)
	}
	m := tableMax{rows: rows.Int64, tombs: tombs.Int64}
	if s.maxes == nil {
		s.maxes = map[string]tableMax{}
	}
	s.maxes[table] = m
	return m, nil
}

// changes returns the rows of it changed after version after, up to limit
// rows cut at a whole version, with tombstones of the same range. The
// newest versions of the table in the snapshot say which of the two queries
// can find anything; a session answering from its probe alone fails with
// errNeedSnapshot when one of them is needed.
func (s *session) changes(ctx context.Context, it *profile.PlanItem, after int64, limit int) (*wire.TableDelta, error) {
	t := s.sch.MustTable(it.Table)
	newest, err := s.tableMax(ctx, t.Name)
	if err != nil {
		return nil, err
	}
	cols := s.cols(it)
	if newest.rows > after || newest.tombs > after {
		if _, err := s.snapshot(); err != nil {
			return nil, err
		}
	}
	// A change read is its values and whether it is in scope.
	type change struct {
		vals []any
		in   bool
	}
	read := func(upto int64, lim int) ([]change, error) {
		if newest.rows <= after {
			return nil, nil
		}
		b := sqlgen.NewBuilder(s.d)
		b.SQL("SELECT ").Cols("t0", cols).SQL(", CASE WHEN ")
		if err := s.where(b, it); err != nil {
			return nil, err
		}
		b.SQL(" THEN 1 ELSE 0 END FROM ").Ident(t.Name).SQL(" AS t0 WHERE t0.versionnumber > ").Arg(after).
			SQL(" AND t0.versionnumber <= ").Arg(upto).SQL(" ORDER BY t0.versionnumber")
		if lim > 0 {
			b.SQL(" LIMIT ").Arg(int64(lim))
		}
		q, args := b.Build()
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("changes of %s: %w", t.Name, err)
		}
		var out []change
		err = scanWire(rows, t, cols, 1, func(v []any, ext []int64) error {
			out = append(out, change{v, ext[0] == 1})
			return nil
		})
		return out, err
	}
	// Column 1 is versionnumber (columns puts the key, then the version, first).
	changed, upper, more, err := store.WholeVersions(after, s.cur, limit, read, func(c change) int64 { return c.vals[1].(int64) })
	if err != nil {
		return nil, err
	}
	td := &wire.TableDelta{Table: t.Name, Token: s.token(it, upper), Columns: cols, More: more}
	for _, c := range changed {
		if c.in {
			td.Upserts = append(td.Upserts, c.vals)
		} else {
			td.RemoveKeys = append(td.RemoveKeys, wire.RemoveKey(c.vals[0].(string)))
		}
	}
	if newest.tombs > after {
		if err := s.tombstones(ctx, t.Name, after, upper, td); err != nil {
			return nil, err
		}
	}
	if len(td.Upserts) == 0 {
		td.Columns = nil
	}
	return td, nil
}

// tombstones adds the removal keys of rows of table deleted after version
// after up to upper to td's.
func (s *session) tombstones(ctx context.Context, table string, after, upper int64, td *wire.TableDelta) error {
	b := sqlgen.NewBuilder(s.d).SQL("SELECT id FROM outpost_tombstone WHERE tablename = ").Arg(table).
		SQL(" AND version > ").Arg(after).SQL(" AND version <= ").Arg(upper).SQL(" ORDER BY version")
	q, args := b.Build()
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("tombstones of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		td.RemoveKeys = append(td.RemoveKeys, wire.RemoveKey(id))
	}
	return rows.Err()
}
