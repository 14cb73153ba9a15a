package httpapi

import (
	"testing"

	"github.com/outposthq/outpost/wire"
)

func TestSnapshotContentNegotiation(t *testing.T) {
	for _, c := range []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"*/*"}, false},
		{[]string{"application/json"}, false},
		{[]string{wire.NDJSONContentType}, false},
		{[]string{wire.PagesContentType}, true},
		{[]string{"Application/X-Outpost-Pages"}, true},
		{[]string{wire.PagesContentType + ", " + wire.NDJSONContentType + ";q=0.5"}, true},
		{[]string{wire.NDJSONContentType + ", " + wire.PagesContentType + " ; q=0.9"}, true},
		{[]string{"text/plain", wire.PagesContentType}, true},
		{[]string{wire.PagesContentType + ";q=0"}, false},
		{[]string{wire.PagesContentType + "; q=0.000, " + wire.NDJSONContentType}, false},
		{[]string{wire.PagesContentType + "x"}, false},
	} {
		if got := accepts(c.accept, wire.PagesContentType); got != c.want {
			t.Errorf("Accept %q: compact = %v, want %v", c.accept, got, c.want)
		}
	}
}
