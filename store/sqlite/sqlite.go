// Package sqlite opens Outpost's embedded store: a SQLite database in a data
// directory, in WAL mode, with one writer connection and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/sqlgen/sqlitefold"
	"github.com/outposthq/outpost/store"
)

// FileName is the database file inside the data directory.
const FileName = "outpost.db"

// Open opens (creating if needed) the store in dir and applies migrations.
func Open(ctx context.Context, dir string) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	// busy_timeout goes first so that switching to WAL waits instead of failing.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	drv := &sqlite.Driver{}
	if err := sqlitefold.Register(drv); err != nil { // the case folding of text filters
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write := sql.OpenDB(&connector{dsn: dsn, drv: drv})
	write.SetMaxOpenConns(1) // one writer: queue in Go rather than spin on SQLITE_BUSY
	write.SetConnMaxLifetime(0)
	read := sql.OpenDB(&connector{dsn: "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)" + readPragmas, drv: drv})
	read.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	read.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
	db := store.New(sqlgen.SQLite, write, read, IsUnique, IsBusy, func() error {
		return errors.Join(read.Close(), write.Close())
	})
	if err := write.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s: %w", path, err), db.Close())
	}
	return db, nil
}

// readPragmas tune the reader connections for the large ordered reads of a
// first sync, which sorts a device's scope of a table in primary key order.
// With the default 2 MB page cache the sort spilled to temporary files and
// the table's pages were read through a small cache again and again.
// Readers may now cache up to 64 MB of pages each, which is also what a
// sort may hold in memory before it spills (the cache only grows as far as
// a connection's reads need it), and map the database file so that pages
// are shared with the operating system's cache.
const readPragmas = "&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)"

// IsUnique reports whether err is a SQLite unique or primary key violation.
func IsUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED.
func IsBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}
