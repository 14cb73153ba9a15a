// Package postgres opens Outpost's production store on PostgreSQL through
// pgx. Several servers may share one database.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// Open connects to the database at dsn (postgres://...) and applies migrations.
func Open(ctx context.Context, dsn string) (*store.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool := sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	db := store.New(sqlgen.Postgres, pool, pool, IsUnique, IsBusy, pool.Close)
	db.Listen = func(ctx context.Context, channel string, fn func(string), ready func()) error {
		return Listen(ctx, dsn, channel, fn, ready)
	}
	if err := pool.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to postgres: %w", err), db.Close())
	}
	if err := sqlgen.CheckPostgresFold(ctx, pool, false); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to postgres: %w", err), db.Close())
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate postgres: %w", err), db.Close())
	}
	return db, nil
}

// IsUnique reports whether err is a unique violation (SQLSTATE 23505).
func IsUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsBusy reports whether err is a serialization failure or deadlock (40001, 40P01).
func IsBusy(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
