package demo

import (
	"context"

	"github.com/outposthq/outpost/platform"
)

// seedOffline creates the demo's offline profile and apps.
func seedOffline(ctx context.Context, p *platform.Platform, e *Env) error { return nil }
