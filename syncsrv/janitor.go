package syncsrv

import (
	"context"
	"sync/atomic"
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

// DefaultTelemetryRetention is the default of Options.TelemetryRetention.
const DefaultTelemetryRetention = 30 * 24 * time.Hour

// JanitorStats are the janitor's counts since the engine started: rounds
// that pruned everything, rounds where some step failed, and rows pruned
// by kind (tombstones, scopelog, staged files, telemetry).
type JanitorStats struct {
	Runs, Failed                            int64
	Tombstones, ScopeLog, Staged, Telemetry int64
}

type janitorStats struct {
	runs, failed                            atomic.Int64
	tombstones, scopeLog, staged, telemetry atomic.Int64
}

// JanitorStats returns the janitor's counts (for metrics).
func (e *Engine) JanitorStats() JanitorStats {
	j := &e.janitor
	return JanitorStats{Runs: j.runs.Load(), Failed: j.failed.Load(), Tombstones: j.tombstones.Load(), ScopeLog: j.scopeLog.Load(),
		Staged: j.staged.Load(), Telemetry: j.telemetry.Load()}
}

// RunJanitor runs a janitor round now and then every interval until ctx
// ends.
func (e *Engine) RunJanitor(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		e.JanitorRound(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// JanitorRound prunes tombstones and the scope log, staged file content
// whose change never came and sync telemetry past its retention, logging
// what it removed and any failure (the next round tries again).
func (e *Engine) JanitorRound(ctx context.Context) {
	j := &e.janitor
	failed := false
	res, err := e.Prune(ctx)
	switch {
	case err != nil:
		failed = true
		if ctx.Err() == nil {
			e.logger.Warn("prune tombstones and scope log", "err", err)
		}
	case res.Tombstones+res.ScopeLog > 0:
		j.tombstones.Add(res.Tombstones)
		j.scopeLog.Add(res.ScopeLog)
		e.logger.Info("pruned", "horizon", res.Horizon, "tombstones", res.Tombstones, "scopelog", res.ScopeLog)
	}
	if n, err := e.pruneStaged(ctx); err != nil {
		failed = true
		if ctx.Err() == nil {
			e.logger.Warn("prune staged files", "err", err)
		}
	} else if n > 0 {
		j.staged.Add(int64(n))
		e.logger.Info("pruned staged files", "files", n)
	}
	if n, err := e.p.PruneTelemetry(ctx, e.opts.TelemetryRetention); err != nil {
		failed = true
		if ctx.Err() == nil {
			e.logger.Warn("prune sync telemetry", "err", err)
		}
	} else if n > 0 {
		j.telemetry.Add(n)
		e.logger.Info("pruned sync telemetry", "events", n, "retention", e.opts.TelemetryRetention)
	}
	if failed {
		j.failed.Add(1)
	} else {
		j.runs.Add(1)
	}
}
