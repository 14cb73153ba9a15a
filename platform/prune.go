package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// Tombstones and the scope log grow with every delete and write; a reader
// needs the entries after its own position only. Positions are versions,
// and readers that hold one (device sync tokens) give up after a maximum
// age. The platform therefore notes, from time to time, which version was
// current when (outpost_versionmark), and Prune drops the entries at or
// below the newest version that was current longer ago than the age every
// reader gives up at: nobody can still need them.

// settingPrunedVersion names the setting that holds the pruning horizon:
// change reads from a version below it may have missed deletions.
const settingPrunedVersion = "outpost.prunedversion"

// PruneResult is what one Prune removed.
type PruneResult struct {
	// Horizon is the version at or below which entries are gone (0: none
	// old enough yet).
	Horizon    int64
	Tombstones int64
	ScopeLog   int64
}

// MarkVersion records the current version with the current time, for
// Prune; a server calls it periodically.
func (p *Platform) MarkVersion(ctx context.Context) error {
	d := p.db.Dialect
	return p.db.Tx(ctx, func(tx *sql.Tx) error {
		v, err := p.db.CurrentVersion(ctx, tx)
		if err != nil {
			return err
		}
		query, args := sqlgen.NewBuilder(d).
			SQL(`INSERT INTO outpost_versionmark (version, markedon) VALUES (`).Arg(v).SQL(`, `).Arg(d.TimeArg(p.now())).
			SQL(`) ON CONFLICT (version) DO NOTHING`).Build()
		_, err = tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("mark version: %w", err)
		}
		return nil
	})
}

// Prune deletes the tombstones and scope log entries that no reader whose
// position is younger than keep can need: those at or below the newest
// version marked more than keep ago. Readers older than keep must start
// over (sync tokens expire; ChangesSince refuses positions below the
// horizon).
func (p *Platform) Prune(ctx context.Context, keep time.Duration) (PruneResult, error) {
	if keep <= 0 {
		return PruneResult{}, outpost.Invalidf("keep must be positive, got %s", keep).WithTarget("keep")
	}
	d := p.db.Dialect
	var res PruneResult
	err := p.db.Tx(ctx, func(tx *sql.Tx) error {
		var h sql.NullInt64
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT max(version) FROM outpost_versionmark WHERE markedon < `).Arg(d.TimeArg(p.now().Add(-keep))).Build()
		err := tx.QueryRowContext(ctx, query, args...).Scan(&h)
		if err != nil {
			return fmt.Errorf("read version marks: %w", err)
		}
		if h.Int64 <= 0 {
			return nil
		}
		res.Horizon = h.Int64
		for _, q := range []struct {
			sql string
			n   *int64
		}{
			{`DELETE FROM outpost_tombstone WHERE version <= `, &res.Tombstones},
			{`DELETE FROM outpost_scopelog WHERE version <= `, &res.ScopeLog},
			{`DELETE FROM outpost_versionmark WHERE version < `, nil},
		} {
			r, err := sqlgen.NewBuilder(d).SQL(q.sql).Arg(res.Horizon).Exec(ctx, tx)
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			if q.n != nil {
				*q.n, _ = r.RowsAffected()
			}
		}
		query, args = sqlgen.NewBuilder(d).
			SQL(`INSERT INTO outpost_setting (name, value) VALUES (`).Arg(settingPrunedVersion).SQL(`, `).Arg(strconv.FormatInt(res.Horizon, 10)).
			SQL(`) ON CONFLICT (name) DO UPDATE SET value = excluded.value`).Build()
		_, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return PruneResult{}, err
	}
	return res, nil
}

// prunedVersion returns the pruning horizon: deletions at or below it may
// be gone.
func (p *Platform) prunedVersion(ctx context.Context, q store.Querier) (int64, error) {
	var v string
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`SELECT value FROM outpost_setting WHERE name = `).Arg(settingPrunedVersion).Build()
	err := q.QueryRowContext(ctx, query, args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read pruning horizon: %w", err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}
