package apps

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/outposthq/outpost/platform"
)

// ph returns the placeholders of n arguments starting at from.
func (s *Service) ph(from, n int) string { return s.p.DB().Dialect.Placeholders(from, n) }

// timeArg is a timestamp bound in the dialect's form.
func (s *Service) timeArg(t time.Time) any { return s.p.DB().Dialect.TimeArg(t) }

// scanTime reads a stored timestamp, whichever form the engine returns.
func scanTime(v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v.UTC()
	case string:
		t, _ := platform.ParseTime(v)
		return t
	case []byte:
		t, _ := platform.ParseTime(string(v))
		return t
	}
	return time.Time{}
}

// jsonString encodes v, a definition to store, as JSON text.
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode definition: %w", err)
	}
	return string(b), nil
}
