package syncsrv

import (
	"context"
	"time"

	"github.com/outposthq/outpost/platform"
)

// pruneSlack is added to TokenMaxAge when pruning, for clocks of servers
// sharing a database that disagree a little.
const pruneSlack = time.Hour

// Prune marks the current version and drops the tombstones and scope log
// entries no unexpired sync token can need: a token older than
// TokenMaxAge is refused anyway (the device re-syncs), so entries older
// than TokenMaxAge plus an hour are kept for nobody. Servers sharing a
// database must use the same TokenMaxAge.
func (e *Engine) Prune(ctx context.Context) (platform.PruneResult, error) {
	if err := e.p.MarkVersion(ctx); err != nil {
		return platform.PruneResult{}, err
	}
	if err := e.rotateKeys(ctx); err != nil {
		return platform.PruneResult{}, err
	}
	return e.p.Prune(ctx, e.opts.TokenMaxAge+pruneSlack)
}

// RunJanitor prunes now and then every interval until ctx ends, logging
// what it removed and any failure (the next round tries again).
func (e *Engine) RunJanitor(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := e.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			e.logger.Warn("prune tombstones and scope log", "err", err)
		case res.Tombstones+res.ScopeLog > 0:
			e.logger.Info("pruned", "horizon", res.Horizon, "tombstones", res.Tombstones, "scopelog", res.ScopeLog)
		}
		// Staged file content whose change never came.
		if n, err := e.pruneStaged(ctx); err != nil && ctx.Err() == nil {
			e.logger.Warn("prune staged files", "err", err)
		} else if n > 0 {
			e.logger.Info("pruned staged files", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
