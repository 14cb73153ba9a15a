package syncsrv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/wire"
)

// A scope change (the user left a team, moved business unit, gained or lost
// reports) changes which rows of a table the device may hold without any
// row's version moving. Rather than make the device compare checksums and
// list the ids of every row in the buckets that differ, the server works
// out the difference itself: it remembers, per scope fingerprint, the
// user's filter environment, so from a token it can evaluate the scope the
// device was given and the scope it has now on the same rows. Rows at or
// below the token's version that left are removed, those that entered are
// sent, and rows changed since the token travel as in any delta. When
// every row of an owner leaves, the removal is sent as a rule ("rows owned
// by team T") instead of one id per row.

// maxScopeMoveIns bounds the rows a scope change may bring in one delta;
// more fall back to checksum reconciliation, which pages by bucket.
const maxScopeMoveIns = 20000

// scopeEnv is the part of a principal a plan filter is evaluated with, as
// recorded under a scope fingerprint.
type scopeEnv struct {
	UserID              string   `json:"u"`
	BusinessUnitID      string   `json:"b"`
	TeamIDs             []string `json:"t,omitempty"`
	HierarchyUserIDs    []string `json:"h,omitempty"`
	BusinessUnitSubtree []string `json:"s,omitempty"`
}

func (se *scopeEnv) principal() *security.Principal {
	return &security.Principal{UserID: se.UserID, BusinessUnitID: se.BusinessUnitID, TeamIDs: se.TeamIDs,
		HierarchyUserIDs: se.HierarchyUserIDs, BusinessUnitSubtree: se.BusinessUnitSubtree}
}

// scopeEnvs caches which fingerprints are recorded, and their
// environments; recorded rows never change.
type scopeEnvs struct {
	mu   sync.Mutex
	envs map[uint64]*scopeEnv
}

func fingerprintKey(fp uint64) string { return strconv.FormatUint(fp, 16) }

// rememberScopes records the filter environment under every fingerprint
// the session can put in a token, once per fingerprint. A failure only
// costs a later scope change its shortcut (the device reconciles by
// checksums instead), so it is logged, not returned.
func (e *Engine) rememberScopes(ctx context.Context, s *session) {
	var missing []uint64
	e.scopes.mu.Lock()
	for i := range s.plan.Items {
		fp := s.fingerprint(&s.plan.Items[i])
		if _, ok := e.scopes.envs[fp]; !ok {
			missing = append(missing, fp)
		}
	}
	e.scopes.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	env := &scopeEnv{UserID: s.pr.UserID, BusinessUnitID: s.pr.BusinessUnitID, TeamIDs: s.pr.TeamIDs,
		HierarchyUserIDs: s.pr.HierarchyUserIDs, BusinessUnitSubtree: s.pr.BusinessUnitSubtree}
	data, err := json.Marshal(env)
	if err != nil {
		return
	}
	db := e.p.DB()
	d := db.Dialect
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		for _, fp := range missing {
			_, err := tx.ExecContext(ctx, `INSERT INTO outpost_scopeenv (fingerprint, userid, env) VALUES (`+d.Placeholders(1, 3)+
				`) ON CONFLICT (fingerprint) DO NOTHING`, fingerprintKey(fp), s.pr.UserID, string(data))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.logger.Warn("record scope fingerprints", "user", s.pr.UserID, "err", err)
		return
	}
	for _, fp := range missing {
		e.scopes.put(fp, env)
	}
}

// maxCachedScopes bounds the fingerprints kept in memory; over it the
// cache starts afresh (recording again is an idempotent insert).
const maxCachedScopes = 100_000

func (c *scopeEnvs) put(fp uint64, env *scopeEnv) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.envs == nil || len(c.envs) >= maxCachedScopes {
		c.envs = map[uint64]*scopeEnv{}
	}
	c.envs[fp] = env
}

// recordedEnv returns the environment recorded under fp, or nil.
func (e *Engine) recordedEnv(ctx context.Context, q store.Querier, fp uint64) (*scopeEnv, error) {
	e.scopes.mu.Lock()
	env := e.scopes.envs[fp]
	e.scopes.mu.Unlock()
	if env != nil {
		return env, nil
	}
	var data string
	err := q.QueryRowContext(ctx, `SELECT env FROM outpost_scopeenv WHERE fingerprint = `+e.p.DB().Dialect.Placeholder(1), fingerprintKey(fp)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read scope fingerprint: %w", err)
	}
	env = &scopeEnv{}
	if err := json.Unmarshal([]byte(data), env); err != nil {
		return nil, nil // unreadable: reconcile instead
	}
	e.scopes.put(fp, env)
	return env, nil
}

// scopeDiff returns the delta of it for a token issued under another scope
// fingerprint or at another time of a filter relative to the clock,
// computed on the server, or nil when it cannot be: the fingerprint is
// unknown, the item's filter or columns changed (only the user's
// environment and the clock may differ), or too many rows enter. The
// caller has checked that no table the scope links to moved since the
// token.
//
// The scope at the token is the token's environment at the token's time.
// When only the clock moved, the rows compared are those of the filter's
// clock band (clockdiff.go): the rows whose dates lie between where the
// windows' edges were and where they are, read through the index of the
// date column.
func (e *Engine) scopeDiff(ctx context.Context, tx *sql.Tx, s *session, it *profile.PlanItem, tok token, limit int, now time.Time) (*wire.TableDelta, error) {
	old := s.pr
	if tok.Scope != s.fingerprint(it) {
		env, err := e.recordedEnv(ctx, tx, tok.Scope)
		if err != nil || env == nil {
			return nil, err
		}
		old = env.principal()
		if old.UserID != s.pr.UserID || scopeFingerprint(old, it) != tok.Scope {
			return nil, nil
		}
	}
	t := s.sch.MustTable(it.Table)
	cols := columns(t, it)
	oldEnv, newEnv := at(old.Env(), tok.Issued), s.env()
	var band filter.Expr
	if old == s.pr && it.Filter != nil {
		var err error
		if band, err = clockBand(it.Filter, oldEnv, newEnv); err != nil {
			return nil, fmt.Errorf("clock band of %s: %w", it.Table, err)
		}
		if band == nil {
			return s.changes(ctx, tx, it, tok.Version, limit, now)
		}
	}
	// in writes "t0 at or below the token and in the scope of env", and
	// in the clock band when banded. The filters stay plain conditions of
	// the WHERE clause (no CASE around them), so the planners turn their
	// links into joins: a correlated EXISTS inside a CASE ran once per row
	// on PostgreSQL.
	in := func(b *sqlgen.Builder, env *filter.Env, banded bool) error {
		b.SQL(" WHERE t0.versionnumber <= ").Arg(tok.Version).SQL(" AND ")
		if err := it.WriteScope(b, s.sch, env); err != nil {
			return err
		}
		if band != nil && banded {
			b.SQL(" AND (")
			if err := b.Expr(s.sch, it.Table, "t0", band, newEnv); err != nil {
				return fmt.Errorf("compile clock band of %s: %w", it.Table, err)
			}
			b.SQL(")")
		}
		return nil
	}
	// diff writes the rows (sel) in the scope of a but not of b.
	diff := func(b *sqlgen.Builder, sel []string, a, not *filter.Env) error {
		for i, env := range []*filter.Env{a, not} {
			if i > 0 {
				b.SQL(" EXCEPT ")
			}
			b.SQL("SELECT ").Cols("t0", sel)
			b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0")
			if err := in(b, env, true); err != nil {
				return err
			}
		}
		return nil
	}

	// Move-ins: their ids, then whole rows, bounded.
	b := sqlgen.NewBuilder(s.d)
	if err := diff(b, []string{t.PrimaryKey()}, newEnv, oldEnv); err != nil {
		return nil, err
	}
	b.SQL(" LIMIT ").Arg(int64(maxScopeMoveIns + 1))
	q, args := b.Build()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("rows entering the scope of %s: %w", t.Name, err)
	}
	var inIDs []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rows entering the scope of %s: %w", t.Name, err)
		}
		inIDs = append(inIDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows entering the scope of %s: %w", t.Name, err)
	}
	if len(inIDs) > maxScopeMoveIns {
		return nil, nil
	}
	ins, err := s.rowsByID(ctx, tx, it, inIDs)
	if err != nil {
		return nil, err
	}

	// Move-outs, with their owners when the device holds the owner column.
	byOwner := t.HasOwner() && slices.Contains(cols, schema.ColOwnerID)
	sel := []string{t.PrimaryKey()}
	if byOwner {
		sel = append(sel, schema.ColOwnerID)
	}
	b = sqlgen.NewBuilder(s.d)
	if err := diff(b, sel, oldEnv, newEnv); err != nil {
		return nil, err
	}
	q, args = b.Build()
	rows, err = tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("rows leaving the scope of %s: %w", t.Name, err)
	}
	var outs []string
	outsByOwner := map[string][]string{}
	for rows.Next() {
		var id string
		var owner sql.NullString
		dst := []any{&id}
		if byOwner {
			dst = append(dst, &owner)
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rows leaving the scope of %s: %w", t.Name, err)
		}
		if byOwner && owner.Valid {
			outsByOwner[owner.String] = append(outsByOwner[owner.String], id)
		} else {
			outs = append(outs, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows leaving the scope of %s: %w", t.Name, err)
	}

	// An owner all of whose rows the device holds leave is removed by rule.
	var gone []string
	if len(outsByOwner) > 0 {
		owners := slices.Sorted(maps.Keys(outsByOwner))
		b = sqlgen.NewBuilder(s.d)
		b.SQL("SELECT DISTINCT ").Col("t0", schema.ColOwnerID).SQL(" FROM ").Ident(t.Name).SQL(" AS t0")
		// Every row of the owner, not only those of the band.
		if err := in(b, oldEnv, false); err != nil {
			return nil, err
		}
		b.SQL(" AND ").Col("t0", schema.ColOwnerID).SQL(" IN (").StringsArgs(owners).SQL(") AND ")
		if err := it.WriteScope(b, s.sch, newEnv); err != nil {
			return nil, err
		}
		q, args = b.Build()
		rows, err = tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("owners staying in the scope of %s: %w", t.Name, err)
		}
		stay := map[string]bool{}
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return nil, err
			}
			stay[o] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, o := range owners {
			// A rule is worth it from a handful of rows on.
			if !stay[o] && len(outsByOwner[o]) >= 8 {
				gone = append(gone, o)
			} else {
				outs = append(outs, outsByOwner[o]...)
			}
		}
	}

	td, err := s.changes(ctx, tx, it, tok.Version, limit, now)
	if err != nil {
		return nil, err
	}
	if len(gone) > 0 {
		td.RemoveWhere = []wire.RemoveRule{{Column: schema.ColOwnerID, Values: gone}}
	}
	td.Removes = append(outs, td.Removes...)
	if len(ins) > 0 {
		if td.Columns == nil {
			td.Columns = cols
		}
		td.Upserts = append(ins, td.Upserts...)
	}
	return td, nil
}
