// Package store is the SQL persistence shared by both engines: migrations of
// Outpost's own tables and the handle the platform runs its SQL through. The
// engines differ only in how they open (store/sqlite, store/postgres); every
// statement is written once, parameterised by sqlgen.Dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/outposthq/outpost/sqlgen"
)

// DB is an open database: a writer pool and a reader pool (the same pool on
// PostgreSQL; one writer connection and many readers on SQLite).
type DB struct {
	Dialect sqlgen.Dialect
	Write   *sql.DB
	Read    *sql.DB
	// IsUnique reports whether err is a unique-constraint violation.
	IsUnique func(err error) bool
	// IsBusy reports whether err is a transient lock or serialization
	// failure that a retry may cure.
	IsBusy func(err error) bool
	// Listen, when not nil, receives the database's notifications on a
	// channel until ctx is done (PostgreSQL LISTEN). Several servers sharing
	// one database use it to tell each other about commits.
	Listen func(ctx context.Context, channel string, fn func(payload string), ready func()) error
	close  func() error
	// floor is the highest token handed out (version.go).
	floor atomic.Int64
	// xidVersions is set when PostgreSQL writers take transaction ids as
	// versions (version.go).
	xidVersions atomic.Bool
}

// New wraps opened pools into a DB. closeFn closes them.
func New(d sqlgen.Dialect, write, read *sql.DB, isUnique, isBusy func(error) bool, closeFn func() error) *DB {
	return &DB{Dialect: d, Write: write, Read: read, IsUnique: isUnique, IsBusy: isBusy, close: closeFn}
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.close == nil {
		return nil
	}
	return db.close()
}

// Tx runs fn in a write transaction and commits it when fn returns nil;
// an error or a panic in fn rolls it back.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A panic in fn rolls back at once: the writer (SQLite's only one) is
	// never held until the request's context ends.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ReadTx runs fn in a read-only transaction that sees one consistent
// snapshot (REPEATABLE READ on PostgreSQL; a read transaction on SQLite in
// WAL mode).
func (db *DB) ReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect.IsPostgres() {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.Read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
