// Package syncsrv is the server side of device sync: first sync, delta with
// exact removals, checksums, upload, conflicts and Sync Errors.
package syncsrv

import (
	"context"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
)

// Planner is what sync needs from offline profiles; *profile.Service
// implements it.
type Planner interface {
	// AppProfile returns the published profile id of the offline app appID
	// that by may open, and the kind of the app ("canvas" or "modeldriven").
	AppProfile(ctx context.Context, by *security.Principal, appID string) (profileID, kind string, err error)
	// Plan returns by's download plan for the published profile.
	Plan(ctx context.Context, by *security.Principal, profileID string) (*profile.Plan, error)
}

// Options tunes an Engine. The zero value is ready to use.
type Options struct{}

// Engine serves devices.
type Engine struct {
	p       *platform.Platform
	planner Planner
}

// New returns the sync engine over p, planning downloads with planner.
func New(p *platform.Platform, planner Planner, opts Options) *Engine {
	return &Engine{p: p, planner: planner}
}
