package apps

import (
	"encoding/json"
	"fmt"
	"time"
)

// ph returns the placeholders of n arguments starting at from.
func (s *Service) ph(from, n int) string { return s.p.DB().Dialect.Placeholders(from, n) }

// timeArg is a timestamp bound in the dialect's form.
func (s *Service) timeArg(t time.Time) any { return s.p.DB().Dialect.TimeArg(t) }

// jsonString encodes v, a definition to store, as JSON text.
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode definition: %w", err)
	}
	return string(b), nil
}
