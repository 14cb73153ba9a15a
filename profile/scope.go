package profile

import (
	"fmt"
	"slices"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

// This file is the one definition of an item's download set in SQL: sync
// (snapshot, delta, scope diff, checksums) and the maker's preview write it
// with these methods, so the preview shows the statement sync runs.

// SyncColumns returns the columns of the item sent to devices: the primary
// key, the version, then the item's other columns in table order. Readers
// of a row rely on the key and the version coming first.
func (it *PlanItem) SyncColumns(t *schema.Table) []string {
	cols := []string{t.PrimaryKey(), schema.ColVersionNumber}
	for _, c := range t.Columns {
		if (len(it.Columns) == 0 || slices.Contains(it.Columns, c.Name)) && !slices.Contains(cols, c.Name) {
			cols = append(cols, c.Name)
		}
	}
	return cols
}

// WriteScope writes the item's scope for alias t0 as "(filter)", compiled
// with env. An item without a filter selects nothing: "(1=0)".
func (it *PlanItem) WriteScope(b *sqlgen.Builder, sch *schema.Schema, env *filter.Env) error {
	b.SQL("(")
	if it.Filter == nil {
		b.SQL("1=0")
	} else if err := b.Expr(sch, it.Table, "t0", it.Filter, env); err != nil {
		return fmt.Errorf("compile plan filter of %s: %w", it.Table, err)
	}
	b.SQL(")")
	return nil
}

// WriteSelect writes the statement that reads the item's download set:
// "SELECT t0.<SyncColumns> FROM <table> AS t0 WHERE (scope)". Callers
// append their own conditions, order and limit.
func (it *PlanItem) WriteSelect(b *sqlgen.Builder, sch *schema.Schema, t *schema.Table, env *filter.Env) error {
	b.SQL("SELECT ").Cols("t0", it.SyncColumns(t))
	b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE ")
	return it.WriteScope(b, sch, env)
}
