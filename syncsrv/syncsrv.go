// Package syncsrv is the server side of device sync: first sync, delta with
// exact removals, checksums, upload, conflicts and Sync Errors.
package syncsrv

import (
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

// Options tunes an Engine. The zero value is ready to use.
type Options struct{}

// Engine serves devices.
type Engine struct {
	p        *platform.Platform
	profiles *profile.Service
}

// New returns the sync engine over p, planning downloads with profiles.
func New(p *platform.Platform, profiles *profile.Service, opts Options) *Engine {
	return &Engine{p: p, profiles: profiles}
}
