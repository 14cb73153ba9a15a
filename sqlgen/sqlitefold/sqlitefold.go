// Package sqlitefold gives SQLite connections the function that text filters
// compile to (sqlgen.SQLiteFold): Outpost's case folding, filter.Fold,
// which SQLite's built-in lower() cannot compute (it folds ASCII only).
// Importing the package registers it with modernc.org/sqlite's "sqlite"
// driver; Register adds it to a driver the caller constructs. With the
// outpost_cgo_sqlite build tag it also registers the github.com/mattn/go-sqlite3
// driver CgoDriverName, whose connections have the function.
package sqlitefold

import (
	"database/sql/driver"

	"modernc.org/sqlite"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/sqlgen"
)

func init() {
	if err := sqlite.RegisterDeterministicScalarFunction(sqlgen.SQLiteFold, 1, fold); err != nil {
		panic("register " + sqlgen.SQLiteFold + ": " + err.Error())
	}
}

// Register adds the folding function to the connections d opens.
func Register(d *sqlite.Driver) error {
	return d.RegisterDeterministicScalarFunction(sqlgen.SQLiteFold, 1, fold)
}

// fold folds text (or a blob read as UTF-8 text); NULL stays NULL and other
// values are returned as they are.
func fold(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	return Value(args[0]), nil
}

// Value is the function's result for the SQL value v.
func Value(v driver.Value) driver.Value {
	switch x := v.(type) {
	case string:
		return filter.Fold(x)
	case []byte:
		return filter.Fold(string(x))
	}
	return v
}
