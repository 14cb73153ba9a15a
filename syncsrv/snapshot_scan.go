package syncsrv

import (
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// pageScanner reads snapshot rows as wire values (as scanWire does) a page
// at a time: the values of a page share one allocation, and rows are
// scanned straight into it.
type pageScanner struct {
	table string
	types []schema.Type
	ptrs  []any
}

func newPageScanner(t *schema.Table, cols []string) *pageScanner {
	sc := &pageScanner{table: t.Name, types: make([]schema.Type, len(cols)), ptrs: make([]any, len(cols))}
	for i, c := range cols {
		col, _ := t.Column(c)
		sc.types[i] = col.Type
	}
	return sc
}

// scan appends up to want rows to page.Rows, moving page.Cursor to the
// primary key (the first column) of the last one. It reports whether want
// rows were read: false means rows are exhausted. The page owns its
// values; nothing is reused across pages.
func (sc *pageScanner) scan(rows *sql.Rows, page *wire.SnapshotPage, want int) (bool, error) {
	nc := len(sc.types)
	flat := make([]any, want*nc)
	page.Rows = make([][]any, 0, want)
	for len(page.Rows) < want {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return false, fmt.Errorf("scan %s: %w", sc.table, err)
			}
			return false, nil
		}
		i := len(page.Rows) * nc
		row := flat[i : i+nc : i+nc]
		for j := range row {
			sc.ptrs[j] = &row[j]
		}
		if err := rows.Scan(sc.ptrs...); err != nil {
			return false, fmt.Errorf("scan %s: %w", sc.table, err)
		}
		for j, typ := range sc.types {
			row[j] = sqlgen.WireValue(typ, row[j])
		}
		key, ok := row[0].(string)
		if !ok {
			return false, fmt.Errorf("scan %s: primary key is %T, not text", sc.table, row[0])
		}
		page.Rows = append(page.Rows, row)
		page.Cursor = key
	}
	return true, nil
}
