// Package testenv opens fresh databases of both engines for tests: SQLite
// in a temporary directory, and PostgreSQL in a new schema of the database
// named by OUTPOST_TEST_POSTGRES (skipped when it is unset).
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for schema setup

	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
	"github.com/outposthq/outpost/store/sqlite"
)

// Engine opens fresh, empty databases of one kind.
type Engine struct {
	Name string
	Open func(t testing.TB) *store.DB
}

// PostgresDSN returns OUTPOST_TEST_POSTGRES.
func PostgresDSN() string { return os.Getenv("OUTPOST_TEST_POSTGRES") }

// Engines returns SQLite and, when OUTPOST_TEST_POSTGRES is set, PostgreSQL.
// When CI is set the variable must be set too: CI never silently skips
// PostgreSQL.
func Engines(t testing.TB) []Engine {
	es := []Engine{{Name: "sqlite", Open: OpenSQLite}}
	if PostgresDSN() != "" {
		es = append(es, Engine{Name: "postgres", Open: OpenPostgres})
	} else if os.Getenv("CI") != "" {
		t.Fatal("OUTPOST_TEST_POSTGRES is not set; CI must test PostgreSQL")
	}
	return es
}

// OpenSQLite opens a new SQLite store in a temporary directory.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// PostgresURL creates a new schema in the database of
// OUTPOST_TEST_POSTGRES, dropped when the test ends, and returns a URL
// whose connections use it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN()
	if dsn == "" {
		t.Skip("OUTPOST_TEST_POSTGRES not set; CI sets it")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	name := fmt.Sprintf("outpost_test_%d", rand.Int64())
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = a.Exec("DROP SCHEMA " + name + " CASCADE")
			_ = a.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse OUTPOST_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres opens a store in a new schema, dropped when the test ends.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
