//go:build outpost_cgo_sqlite

package client

import "github.com/outposthq/outpost/sqlgen/sqlitefold" // github.com/mattn/go-sqlite3 (cgo) with the case folding of text filters

// SQLiteDriver names the SQLite driver the device store is built with:
// the pure-Go modernc.org/sqlite by default, the cgo
// github.com/mattn/go-sqlite3 with the outpost_cgo_sqlite build tag.
const SQLiteDriver = "mattn-cgo"

const sqlDriverName = sqlitefold.CgoDriverName

// sqliteDSN returns the data source name of the SQLite file at path: the
// device store's settings (WAL, NORMAL sync, immediate write transactions),
// or read-only.
func sqliteDSN(path string, readOnly bool) string {
	if readOnly {
		return "file:" + path + "?mode=ro"
	}
	return "file:" + path + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"
}
