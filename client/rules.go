package client

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// removeWhere applies the server's removal rules: every local row whose
// rule column holds one of the rule's values is removed, except rows with
// changes still queued for upload (like any removal).
func (lt *localTable) removeWhere(ctx context.Context, tx *sql.Tx, rules []wire.RemoveRule, skip map[string]bool) (int, error) {
	n := 0
	for _, r := range rules {
		if _, ok := lt.types[r.Column]; !ok {
			return n, fmt.Errorf("the server removes rows of %s by column %q, which this device does not hold: run a full sync", lt.def.Name, r.Column)
		}
		for vals := r.Values; len(vals) > 0; {
			chunk := vals[:min(len(vals), 500)]
			vals = vals[len(chunk):]
			args := make([]any, len(chunk))
			for i, v := range chunk {
				args[i] = v
			}
			q := "SELECT " + sqlgen.SQLite.Quote(lt.pk()) + " FROM " + sqlgen.SQLite.Quote(lt.def.Name) + " WHERE " +
				sqlgen.SQLite.Quote(r.Column) + " IN (" + sqlgen.SQLite.Placeholders(1, len(chunk)) + ")"
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return n, fmt.Errorf("remove from %s by %s: %w", lt.def.Name, r.Column, err)
			}
			var ids []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return n, err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return n, err
			}
			k, err := lt.remove(ctx, tx, ids, skip)
			n += k
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
