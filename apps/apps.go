// Package apps is canvas and model-driven apps and the solutions that ship
// them: an app's definition and offline switch, canvas bundles, solutions
// and their components, and a solution's export and import as an archive.
// An offline app uses one published profile of package profile; the
// download plan of the app's devices is the plan of the profile version the
// app is published against (AppPlan).
package apps

import (
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

// Service manages apps and solutions over a platform. It carries the
// profile service of the same platform, whose profiles its apps use and
// its solutions ship, so that one value serves the maker's routes and the
// sync engine's planner.
type Service struct {
	*profile.Service
	p *platform.Platform
}

// New returns the app service of p.
func New(p *platform.Platform) *Service {
	return &Service{Service: profile.New(p), p: p}
}
