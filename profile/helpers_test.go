package profile_test

import (
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
)

// forEachEngine runs fn against a fresh platform and profile service on
// every engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, p *platform.Platform, s *profile.Service)) {
	t.Helper()
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		p, err := platform.Open(t.Context(), e.Open(t), platform.Options{})
		if err != nil {
			t.Fatalf("open platform: %v", err)
		}
		fn(t, p, profile.New(p))
	})
}

var sys = platform.System()

func principal(t *testing.T, p *platform.Platform, id string) *security.Principal {
	t.Helper()
	pr, err := p.Principal(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}
