// Package profile is offline profiles: the model, publish-time validation,
// and the download plan that says which rows of each table a user's device
// holds. Apps and the solutions that ship them are package apps, which
// builds on this one; a profile knows an app only as the row that binds
// it (a profile an app uses is not deleted).
package profile

import (
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
)

// Service manages offline profiles over a platform.
type Service struct {
	p *platform.Platform
}

// New returns the profile service of p.
func New(p *platform.Platform) *Service {
	return &Service{p: p}
}

// Plan is the download plan of one user for one published profile version:
// per item, the filter over the item's table that selects exactly the rows
// the user's device must hold (the user's read access AND (the item's rule
// OR its related rows)).
type Plan struct {
	ProfileID string `json:"profileId"`
	// Version is the published version of the profile the plan is for.
	Version int64      `json:"version"`
	Items   []PlanItem `json:"items"`
}

// PlanItem is one table of a plan.
type PlanItem struct {
	Table string `json:"table"`
	// Filter is checked against the schema; sqlgen compiles it with the
	// user's filter.Env.
	Filter filter.Expr `json:"-"`
	// Columns to download; the primary key and system columns included.
	Columns []string `json:"columns"`
	// IntervalMinutes is the item's sync interval (5–1440).
	IntervalMinutes int `json:"intervalMinutes"`
	// DependsOn lists the tables whose rows decide this item's related
	// rows: when they change, this item's scope may change.
	DependsOn []string `json:"dependsOn"`
}
