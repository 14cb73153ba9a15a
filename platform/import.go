package platform

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// Import inserts rows into table in w's transaction with one prepared
// statement: the bulk path for data loads and benchmarks. Only
// administrators may import; values must already be Go values of the column
// types (see ConvertValue), and user-owned rows must name their owner and
// business unit. Missing ids, stamps and versions are filled in.
func (w *Writer) Import(ctx context.Context, by *security.Principal, table string, cols []string, rows [][]any) error {
	if !by.Admin {
		return outpost.Forbiddenf("only administrators may import rows")
	}
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if _, ok := t.Column(c); !ok {
			return outpost.Invalidf("table %q has no column %q", t.Name, c).WithTarget(c)
		}
	}
	all := append([]string(nil), cols...)
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	extra := []string{t.PrimaryKey(), schema.ColCreatedOn, schema.ColModifiedOn, schema.ColStateCode, schema.ColStatusCode, schema.ColVersionNumber}
	for _, c := range extra {
		if !have[c] {
			all = append(all, c)
		}
	}
	d := w.p.db.Dialect
	// Prepared once, bound per row: the placeholders are a list, the
	// values come with each execution.
	b := sqlgen.NewBuilder(d).SQL("INSERT INTO ").Ident(t.Name).SQL(" (").Cols("", all).SQL(") VALUES (" + d.Placeholders(1, len(all)) + ")")
	stmt, err := w.tx.PrepareContext(ctx, b.String())
	if err != nil {
		return fmt.Errorf("prepare import into %s: %w", t.Name, err)
	}
	defer stmt.Close()
	now := d.TimeArg(w.now)
	args := make([]any, len(all))
	for n, r := range rows {
		if len(r) != len(cols) {
			return outpost.Invalidf("row %d has %d values for %d columns", n, len(r), len(cols)).WithTarget("rows")
		}
		for i := range cols {
			args[i] = d.Arg(r[i])
		}
		for i, c := range all[len(cols):] {
			var v any
			switch c {
			case t.PrimaryKey():
				v = outpost.NewID()
			case schema.ColCreatedOn, schema.ColModifiedOn:
				v = now
			case schema.ColStateCode:
				v = int64(0)
			case schema.ColStatusCode:
				v = int64(1)
			case schema.ColVersionNumber:
				v = w.version
			}
			args[len(cols)+i] = v
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			if w.p.db.IsUnique(err) {
				return outpost.Conflictf("import into %s: row %d has an id that exists", t.Name, n).WithTarget("rows")
			}
			return fmt.Errorf("import into %s row %d: %w", t.Name, n, err)
		}
	}
	w.touch(t)
	return nil
}
