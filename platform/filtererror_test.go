package platform_test

import (
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

// A bad $filter names where it is once: "$filter:1:6: …", not
// "$filter: $filter:1:6: …".
func TestFilterErrorSaysItsPrefixOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		for src, want := range map[string]string{
			"name eq":        `$filter:1:8: expected a value after "eq", found end of input`,
			"nosuch eq 'x'":  `$filter:1:1: unknown column "nosuch" in table "account"`,
			"name eq 'a' or": `$filter:1:15: expected a condition, found end of input`,
		} {
			_, err := p.List(t.Context(), platform.System(), "account", platform.Query{Filter: src})
			if outpost.ErrorCode(err) != outpost.CodeInvalid || outpost.ErrorMessage(err) != want {
				t.Errorf("List($filter=%s) error = %v (%s), want %q", src, err, outpost.ErrorCode(err), want)
			}
		}
	})
}
