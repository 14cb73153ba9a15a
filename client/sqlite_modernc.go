//go:build !outpost_cgo_sqlite

package client

import (
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	_ "github.com/outposthq/outpost/sqlgen/sqlitefold" // gives it the case folding of text filters
)

// SQLiteDriver names the SQLite driver the device store is built with:
// the pure-Go modernc.org/sqlite by default, the cgo
// github.com/mattn/go-sqlite3 with the outpost_cgo_sqlite build tag.
const SQLiteDriver = "modernc"

const sqlDriverName = "sqlite"

// sqliteDSN returns the data source name of the SQLite file at path: the
// device store's settings (WAL, NORMAL sync, immediate write transactions),
// or read-only.
func sqliteDSN(path string, readOnly bool) string {
	if readOnly {
		return "file:" + path + "?mode=ro"
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}
