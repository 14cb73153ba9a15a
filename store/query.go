package store

import (
	"context"
	"database/sql"

	"github.com/outposthq/outpost/sqlgen"
)

// Querier is sqlgen.Querier, what *sql.DB, *sql.Conn and *sql.Tx all
// offer, under the name the server's packages know it by.
type Querier = sqlgen.Querier

// Strings runs a query that returns one text column and collects its
// non-null values.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if s.Valid {
			out = append(out, s.String)
		}
	}
	return out, rows.Err()
}
