// Package testenv opens fresh databases of both engines for tests: SQLite
// in a temporary directory, and PostgreSQL on the server named by
// OUTPOST_TEST_POSTGRES (skipped when it is unset): a migrated store in a
// new database copied from a template migrated once per migration set
// (OpenPostgres), or an empty schema for tests of migration itself
// (PostgresURL).
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
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

// OpenPostgres opens a store in a new database, dropped when the test
// ends. The database is a copy of a template migrated once per migration
// set (see migratedTemplate), so the store's own migration run at open
// finds every migration applied.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), migratedPostgresURL(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migratedPostgresURL creates a new database copied from the migrated
// template, dropped when the test ends (with any connection still open to
// it), and returns its URL.
func migratedPostgresURL(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN()
	if dsn == "" {
		t.Skip("OUTPOST_TEST_POSTGRES not set; CI sets it")
	}
	tmpl, err := migratedTemplate(dsn)
	if err != nil {
		t.Fatalf("migrated postgres template: %v", err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	name := fmt.Sprintf("outpost_test_%d", rand.Int64())
	if _, err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + tmpl); err != nil {
		t.Fatalf("create database from %s: %v", tmpl, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			_ = a.Close()
		}
	})
	u, err := databaseURL(dsn, name)
	if err != nil {
		t.Fatalf("parse OUTPOST_TEST_POSTGRES: %v", err)
	}
	return u
}

var template struct {
	once sync.Once
	name string
	err  error
}

// migratedTemplate returns the name of a database migrated by this build's
// migrations, creating it once. Its name carries store.MigrationDigest (and
// the writer-version mode OUTPOST_PG_XID_VERSIONS picks for a new database), so
// builds with other migrations, on the same server at once, use their own;
// test processes of the same build agree under an advisory lock, and the
// template is published by a rename only once fully migrated. No one
// connects to it afterwards (ALLOW_CONNECTIONS false), as CREATE DATABASE
// ... TEMPLATE requires.
func migratedTemplate(dsn string) (string, error) {
	template.once.Do(func() {
		template.name, template.err = buildTemplate(dsn)
	})
	return template.name, template.err
}

func buildTemplate(dsn string) (string, error) {
	ctx := context.Background()
	name := "outpost_template_" + store.MigrationDigest()[:16]
	if !store.XIDVersionsWanted(true, os.Getenv("OUTPOST_PG_XID_VERSIONS")) {
		name += "_counter"
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx) // the advisory lock belongs to this session
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		return "", err
	}
	defer func() { _, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext($1))", name) }()
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	build := name + "_build" // left over when a process died while migrating it
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + build + " WITH (FORCE)", "CREATE DATABASE " + build} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return "", err
		}
	}
	u, err := databaseURL(dsn, build)
	if err != nil {
		return "", err
	}
	db, err := postgres.Open(ctx, u)
	if err != nil {
		return "", err
	}
	if err := db.Close(); err != nil {
		return "", err
	}
	for _, stmt := range []string{"ALTER DATABASE " + build + " RENAME TO " + name, "ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return "", err
		}
	}
	return name, nil
}

// databaseURL is dsn naming database name instead of its own.
func databaseURL(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}
