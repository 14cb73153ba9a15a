package platform

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/outposthq/outpost/schema"
)

// AllColumns is the scope log's entry for a write that may have changed
// any column: a create, delete, assignment, share or bulk import.
const AllColumns = "*"

// touchColumns records that the transaction updated cols of t's rows, and
// nothing else of them. A table touched otherwise in the same transaction
// stays at "every column".
func (w *Writer) touchColumns(t *schema.Table, cols map[string]any) {
	cur, seen := w.columns[t.Name]
	if seen && cur == nil {
		w.touch(t)
		return
	}
	w.touch(t)
	if cur == nil {
		cur = map[string]bool{}
	}
	for c := range cols {
		cur[c] = true
	}
	// Every update also stamps these; a filter may test them.
	for _, c := range []string{schema.ColModifiedOn, schema.ColModifiedBy, schema.ColVersionNumber} {
		cur[c] = true
	}
	w.columns[t.Name] = cur
}

// logScope writes one outpost_scopelog row per touched table: the columns
// the transaction changed, or AllColumns.
func (w *Writer) logScope(ctx context.Context) error {
	if len(w.touched) == 0 {
		return nil
	}
	d := w.p.db.Dialect
	for _, table := range slices.Sorted(maps.Keys(w.touched)) {
		cols := AllColumns
		if c := w.columns[table]; c != nil {
			cols = strings.Join(slices.Sorted(maps.Keys(c)), ",")
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO outpost_scopelog (version, tablename, columns) VALUES (`+d.Placeholders(1, 3)+`)`,
			w.version, table, cols); err != nil {
			return fmt.Errorf("record changed columns of %s: %w", table, err)
		}
	}
	return nil
}
