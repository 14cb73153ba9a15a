package apps_test

import (
	"testing"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// forEachEngine runs fn against a fresh platform and app service on
// every engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, p *platform.Platform, s *apps.Service)) {
	t.Helper()
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		p, err := platform.Open(t.Context(), e.Open(t), platform.Options{})
		if err != nil {
			t.Fatalf("open platform: %v", err)
		}
		fn(t, p, apps.New(p))
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

func seedDemo(t *testing.T, p *platform.Platform) *demo.Env {
	t.Helper()
	return testenv.MustGet[*demo.Env](t)(demo.Seed(t.Context(), p, demo.Options{AccountsPerTechnician: 1}))
}

func item(table string, rule profile.Rule) profile.ItemInput {
	return profile.ItemInput{Item: profile.Item{Table: table, Rule: rule}}
}

func lookup(name, target string) schema.Column {
	return schema.Column{Name: name, Type: schema.Lookup, Target: target}
}
