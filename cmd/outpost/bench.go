package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"

	"github.com/outposthq/outpost/bench"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
	"github.com/outposthq/outpost/store/sqlite"
)

// runBench runs "outpost bench ...": the benchmark suite (docs/benchmarks.md).
// PostgreSQL runs in fresh schemas of $OUTPOST_BENCH_POSTGRES (default: the
// local test database), dropped afterwards.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	dsn := envOr(getenv, "OUTPOST_BENCH_POSTGRES", envOr(getenv, "OUTPOST_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"))
	return bench.Run(ctx, args, bench.Options{Open: benchOpener(dsn)}, stdout, stderr)
}

func benchOpener(dsn string) bench.Opener {
	return func(ctx context.Context, engine, name string) (*store.DB, func() error, error) {
		switch engine {
		case "sqlite":
			dir, err := os.MkdirTemp("", "outpost-bench-"+name+"-")
			if err != nil {
				return nil, nil, err
			}
			db, err := sqlite.Open(ctx, dir)
			if err != nil {
				return nil, nil, errors.Join(err, os.RemoveAll(dir))
			}
			return db, func() error { return errors.Join(db.Close(), os.RemoveAll(dir)) }, nil
		case "postgres":
			return openBenchSchema(ctx, dsn, name)
		}
		return nil, nil, fmt.Errorf("unknown engine %q: use sqlite or postgres", engine)
	}
}

// openBenchSchema opens a store in a new schema of dsn.
func openBenchSchema(ctx context.Context, dsn, name string) (*store.DB, func() error, error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, nil, err
	}
	schema := fmt.Sprintf("outpost_bench_%s_%d", name, rand.Uint32())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("create schema: %w", err), admin.Close())
	}
	drop := func() error {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		return errors.Join(err, admin.Close())
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, nil, errors.Join(err, drop())
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		return nil, nil, errors.Join(err, drop())
	}
	return db, func() error { return errors.Join(db.Close(), drop()) }, nil
}
