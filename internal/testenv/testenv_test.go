package testenv_test

import (
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// BenchmarkOpenPostgres measures the cost of one fresh, migrated
// PostgreSQL store, which every PostgreSQL test pays.
func BenchmarkOpenPostgres(b *testing.B) {
	if testenv.PostgresDSN() == "" {
		b.Skip("OUTPOST_TEST_POSTGRES not set; CI sets it")
	}
	for b.Loop() {
		testenv.OpenPostgres(b)
	}
}
