//go:build outpost_cgo_sqlite

package sqlitefold

import (
	"database/sql"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/outposthq/outpost/sqlgen"
)

// CgoDriverName is the database/sql driver name of github.com/mattn/go-sqlite3
// with the folding function on every connection.
const CgoDriverName = "outpost_sqlite3"

func init() {
	sql.Register(CgoDriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.RegisterFunc(sqlgen.SQLiteFold, cgoFold, true)
	}})
}

// cgoFold is the function for mattn's driver, which passes NULL as a nil
// []byte.
func cgoFold(v any) any {
	if b, ok := v.([]byte); ok && b == nil {
		return nil
	}
	return Value(v)
}
