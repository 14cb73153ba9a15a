package apps

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost/platform"
)

// querier is what *sql.DB and *sql.Tx both offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ph returns the placeholders of n arguments starting at from.
func (s *Service) ph(from, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = s.p.DB().Dialect.Placeholder(from + i)
	}
	return strings.Join(parts, ", ")
}

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
