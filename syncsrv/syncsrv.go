// Package syncsrv is the server side of device sync: first sync, delta with
// exact removals, checksums, upload, conflicts and Sync Errors.
//
// The engine keeps no state that matters in memory: a device's position is
// its tokens, and everything the server must remember (registered devices,
// the last upload sequence applied per device and its results) lives in the
// database, written in the same transaction as the data it guards. What it
// caches (devices, plans, the newest versions per table) is checked against
// the snapshot of every request before it is used (deltacache.go), so
// several servers can share one database.
package syncsrv

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
)

// Planner is what sync needs from offline profiles; *apps.Service
// implements it.
type Planner interface {
	// AppProfile returns the published profile id of the offline app appID
	// that by may open, and the kind of the app ("canvas" or "modeldriven").
	AppProfile(ctx context.Context, by *security.Principal, appID string) (profileID, kind string, err error)
	// Plan returns by's download plan for the published profile.
	Plan(ctx context.Context, by *security.Principal, profileID string) (*profile.Plan, error)
}

// Defaults of Options.
const (
	DefaultTokenMaxAge = 7 * 24 * time.Hour
	DefaultMaxRows     = 3_000_000
	DefaultPageSize    = 2000
	MaxPageSize        = 10000
	DefaultDeltaLimit  = 5000
	// MaxUploadChanges is the most changes one upload may carry.
	MaxUploadChanges = 1000
)

// Options tunes an Engine. The zero value is ready to use.
type Options struct {
	// OneChangeAtATime makes uploads apply every change alone in its
	// savepoint, without the batched checks of runs of updates: the same
	// answers, slower (tests compare the two paths with it).
	OneChangeAtATime bool
	// TokenMaxAge is how old a device's token may be before the device must
	// re-sync from scratch; default 7 days.
	TokenMaxAge time.Duration
	// MaxRows is the per-device row cap; default 3,000,000.
	MaxRows int64
	// KeyRotation is how often the key sync tokens are signed with is
	// replaced; default 30 days (DefaultKeyRotation).
	KeyRotation time.Duration
	// Now is the clock; default the platform's.
	Now func() time.Time
	// Logger; default discards.
	Logger *slog.Logger
	// SnapshotStreamsPerUser is how many snapshot streams one user may
	// have open at once on this server; default
	// DefaultSnapshotStreamsPerUser. More are refused with CodeTooMany.
	SnapshotStreamsPerUser int
	// EventStreamsPerUser and EventStreamsPerDevice bound the change-hint
	// streams (Subscribe) of one user and one device; defaults
	// DefaultEventStreamsPerUser and DefaultEventStreamsPerDevice.
	EventStreamsPerUser   int
	EventStreamsPerDevice int
	// StagedBytesPerDevice and StagedBytesPerUser bound the content of
	// staged files (StageFile) not yet attached by their change; defaults
	// DefaultStagedBytesPerDevice and DefaultStagedBytesPerUser. Staging
	// past them is refused with CodeTooMany until staged files attach or
	// expire.
	StagedBytesPerDevice int64
	StagedBytesPerUser   int64
	// StagedFileMaxAge is how long staged content whose change never came
	// is kept; default DefaultStagedFileMaxAge.
	StagedFileMaxAge time.Duration
	// TelemetryRetention is how long sync telemetry events are kept
	// before the janitor prunes them; default DefaultTelemetryRetention.
	TelemetryRetention time.Duration
}

// Engine serves devices.
type Engine struct {
	p       *platform.Platform
	planner Planner
	opts    Options
	now     func() time.Time
	logger  *slog.Logger
	hub     *hub
	cache   *cache
	scopes  scopeEnvs
	// clockIndexes are the date columns indexed for clock bands.
	clockIndexes sync.Map
	// keys sign and verify sync tokens (tokenkey.go).
	keys tokenKeys
	// snapshots counts open snapshot streams per user; eventsPerUser and
	// eventsPerDevice the change-hint subscriptions.
	snapshots       *counter
	eventsPerUser   *counter
	eventsPerDevice *counter
	restores        restores
	// janitor counts the janitor's rounds and what they pruned.
	janitor janitorStats
}

// orDefault sets *v to d when it is not positive.
func orDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// New returns the sync engine over p, planning downloads with planner.
func New(p *platform.Platform, planner Planner, opts Options) *Engine {
	// Unset (or negative) options take their defaults.
	orDefault(&opts.TokenMaxAge, DefaultTokenMaxAge)
	orDefault(&opts.KeyRotation, DefaultKeyRotation)
	orDefault(&opts.MaxRows, DefaultMaxRows)
	orDefault(&opts.SnapshotStreamsPerUser, DefaultSnapshotStreamsPerUser)
	orDefault(&opts.EventStreamsPerUser, DefaultEventStreamsPerUser)
	orDefault(&opts.EventStreamsPerDevice, DefaultEventStreamsPerDevice)
	orDefault(&opts.StagedBytesPerDevice, DefaultStagedBytesPerDevice)
	orDefault(&opts.StagedBytesPerUser, DefaultStagedBytesPerUser)
	orDefault(&opts.StagedFileMaxAge, DefaultStagedFileMaxAge)
	orDefault(&opts.TelemetryRetention, DefaultTelemetryRetention)
	e := &Engine{p: p, planner: planner, opts: opts, now: opts.Now, logger: opts.Logger, hub: newHub(), cache: newCache(),
		snapshots: newCounter(opts.SnapshotStreamsPerUser), eventsPerUser: newCounter(opts.EventStreamsPerUser),
		eventsPerDevice: newCounter(opts.EventStreamsPerDevice)}
	if e.now == nil {
		e.now = p.Now
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	p.OnCommit(e.hub.publish)
	p.OnCommit(e.cache.noticeCommit)
	return e
}
