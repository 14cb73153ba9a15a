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
			query, args := sqlgen.NewBuilder(d).SQL(`INSERT INTO outpost_scopeenv (fingerprint, userid, env) VALUES (`).
				Args(fingerprintKey(fp), s.pr.UserID, string(data)).SQL(`) ON CONFLICT (fingerprint) DO NOTHING`).Build()
			_, err := tx.ExecContext(ctx, query, args...)
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
	query, args := sqlgen.NewBuilder(e.p.DB().Dialect).SQL(`SELECT env FROM outpost_scopeenv WHERE fingerprint = `).Arg(fingerprintKey(fp)).Build()
	err := q.QueryRowContext(ctx, query, args...).Scan(&data)
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
func (e *Engine) scopeDiff(ctx context.Context, s *session, it *profile.PlanItem, tok token, limit int) (*wire.TableDelta, error) {
	old, err := e.tokenPrincipal(ctx, s, it, tok)
	if err != nil || old == nil {
		return nil, err
	}
	c := &scopeCompare{s: s, it: it, t: s.sch.MustTable(it.Table), tok: tok, oldEnv: at(old.Env(), tok.Issued), newEnv: s.env()}
	if old == s.pr && it.Filter != nil {
		if c.band, err = clockBand(it.Filter, c.oldEnv, c.newEnv); err != nil {
			return nil, fmt.Errorf("clock band of %s: %w", it.Table, err)
		}
		if c.band == nil {
			return s.changes(ctx, it, tok.Version, limit)
		}
	}
	inIDs, err := c.moveIns(ctx)
	if err != nil || len(inIDs) > maxScopeMoveIns {
		return nil, err
	}
	ins, err := s.rowsByID(ctx, it, inIDs)
	if err != nil {
		return nil, err
	}
	outs, gone, err := c.moveOuts(ctx)
	if err != nil {
		return nil, err
	}
	td, err := s.changes(ctx, it, tok.Version, limit)
	if err != nil {
		return nil, err
	}
	if len(gone) > 0 {
		td.RemoveWhere = []wire.RemoveRule{{Column: schema.ColOwnerID, Values: gone}}
	}
	td.Removes = append(outs, td.Removes...)
	if len(ins) > 0 {
		if td.Columns == nil {
			td.Columns = s.cols(it)
		}
		td.Upserts = append(ins, td.Upserts...)
	}
	return td, nil
}

// tokenPrincipal returns the principal the token's scope was computed
// for: the session's own when the scope fingerprint is unchanged, else
// the one recorded under the token's fingerprint; nil when none was
// recorded or it is not this user's (the caller then reconciles).
func (e *Engine) tokenPrincipal(ctx context.Context, s *session, it *profile.PlanItem, tok token) (*security.Principal, error) {
	if tok.Scope == s.fingerprint(it) {
		return s.pr, nil
	}
	tx, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	env, err := e.recordedEnv(ctx, tx, tok.Scope)
	if err != nil || env == nil {
		return nil, err
	}
	old := env.principal()
	if old.UserID != s.pr.UserID || scopeFingerprint(old, it) != tok.Scope {
		return nil, nil
	}
	return old, nil
}

// scopeCompare compares an item's scope at a token (oldEnv) with its scope
// now (newEnv) on the rows unchanged since the token, within the clock
// band when only the clock moved.
type scopeCompare struct {
	s              *session
	it             *profile.PlanItem
	t              *schema.Table
	tok            token
	oldEnv, newEnv *filter.Env
	band           filter.Expr
}

// in writes "t0 at or below the token and in the scope of env", and in the
// clock band when banded. The filters stay plain conditions of the WHERE
// clause (no CASE around them), so the planners turn their links into
// joins: a correlated EXISTS inside a CASE ran once per row on PostgreSQL.
func (c *scopeCompare) in(b *sqlgen.Builder, env *filter.Env, banded bool) error {
	b.SQL(" WHERE t0.versionnumber <= ").Arg(c.tok.Version).SQL(" AND ")
	if err := c.it.WriteScope(b, c.s.sch, env); err != nil {
		return err
	}
	if c.band != nil && banded {
		b.SQL(" AND (")
		if err := b.Expr(c.s.sch, c.it.Table, "t0", c.band, c.newEnv); err != nil {
			return fmt.Errorf("compile clock band of %s: %w", c.it.Table, err)
		}
		b.SQL(")")
	}
	return nil
}

// diff writes the columns sel of the rows in the scope of a but not of not.
func (c *scopeCompare) diff(b *sqlgen.Builder, sel []string, a, not *filter.Env) error {
	for i, env := range []*filter.Env{a, not} {
		if i > 0 {
			b.SQL(" EXCEPT ")
		}
		b.SQL("SELECT ").Cols("t0", sel)
		b.SQL(" FROM ").Ident(c.t.Name).SQL(" AS t0")
		if err := c.in(b, env, true); err != nil {
			return err
		}
	}
	return nil
}

// query runs the statement b for what (named in errors), calling scan for
// every row.
func (c *scopeCompare) query(ctx context.Context, b *sqlgen.Builder, what string, scan func(*sql.Rows) error) error {
	q, args := b.Build()
	rows, err := c.s.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", what, c.t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s of %s: %w", what, c.t.Name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s of %s: %w", what, c.t.Name, err)
	}
	return nil
}

// moveIns returns the ids of the rows that entered the scope, at most
// maxScopeMoveIns+1 of them (more means: reconcile instead).
func (c *scopeCompare) moveIns(ctx context.Context) ([]string, error) {
	b := sqlgen.NewBuilder(c.s.d)
	if err := c.diff(b, []string{c.t.PrimaryKey()}, c.newEnv, c.oldEnv); err != nil {
		return nil, err
	}
	b.SQL(" LIMIT ").Arg(int64(maxScopeMoveIns + 1))
	var ids []string
	err := c.query(ctx, b, "rows entering the scope", func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// moveOuts returns the ids of the rows that left the scope, and the owners
// all of whose rows the device held left (removed by one rule, when the
// device holds the owner column, instead of one id per row).
func (c *scopeCompare) moveOuts(ctx context.Context) (outs, gone []string, err error) {
	byOwner := c.t.HasOwner() && slices.Contains(c.s.cols(c.it), schema.ColOwnerID)
	sel := []string{c.t.PrimaryKey()}
	if byOwner {
		sel = append(sel, schema.ColOwnerID)
	}
	b := sqlgen.NewBuilder(c.s.d)
	if err := c.diff(b, sel, c.oldEnv, c.newEnv); err != nil {
		return nil, nil, err
	}
	outsByOwner := map[string][]string{}
	err = c.query(ctx, b, "rows leaving the scope", func(rows *sql.Rows) error {
		var id string
		var owner sql.NullString
		dst := []any{&id}
		if byOwner {
			dst = append(dst, &owner)
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		if byOwner && owner.Valid {
			outsByOwner[owner.String] = append(outsByOwner[owner.String], id)
		} else {
			outs = append(outs, id)
		}
		return nil
	})
	if err != nil || len(outsByOwner) == 0 {
		return outs, nil, err
	}
	owners := slices.Sorted(maps.Keys(outsByOwner))
	stay, err := c.ownersStaying(ctx, owners)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range owners {
		// A rule is worth it from a handful of rows on.
		if !stay[o] && len(outsByOwner[o]) >= 8 {
			gone = append(gone, o)
		} else {
			outs = append(outs, outsByOwner[o]...)
		}
	}
	return outs, gone, nil
}

// ownersStaying returns which of owners still own a row in the scope now,
// among all their rows in the scope at the token (not only the band's).
func (c *scopeCompare) ownersStaying(ctx context.Context, owners []string) (map[string]bool, error) {
	b := sqlgen.NewBuilder(c.s.d)
	b.SQL("SELECT DISTINCT ").Col("t0", schema.ColOwnerID).SQL(" FROM ").Ident(c.t.Name).SQL(" AS t0")
	if err := c.in(b, c.oldEnv, false); err != nil {
		return nil, err
	}
	b.SQL(" AND ").Col("t0", schema.ColOwnerID).SQL(" IN (").StringsArgs(owners).SQL(") AND ")
	if err := c.it.WriteScope(b, c.s.sch, c.newEnv); err != nil {
		return nil, err
	}
	stay := map[string]bool{}
	err := c.query(ctx, b, "owners staying in the scope", func(rows *sql.Rows) error {
		var o string
		if err := rows.Scan(&o); err != nil {
			return err
		}
		stay[o] = true
		return nil
	})
	return stay, err
}
