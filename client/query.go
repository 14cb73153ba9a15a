package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/sqlgen"
)

// Query is a local list request in OData terms.
type Query struct {
	Filter  string   // $filter text; empty means every row
	Select  []string // columns; empty means all
	OrderBy string   // "column" or "column desc"; the primary key breaks ties
	Top     int      // 0 means no limit
	Skip    int      // rows to leave out before the first returned
	Search  Search   // a quick search besides the filter; zero means none
}

// Query returns local rows of table matching q, as wire values by column.
// It fails until the first sync finished: the app never sees a half
// downloaded table set.
func (c *Client) Query(ctx context.Context, table string, q Query) ([]map[string]any, error) {
	lt, err := c.readable(ctx, table)
	if err != nil {
		return nil, err
	}
	if q.Top < 0 {
		return nil, outpost.Invalidf("$top: %d is not a number of rows (0 or more; 0 means all)", q.Top).WithTarget("$top")
	}
	cols := lt.columnNames()
	if len(q.Select) > 0 {
		cols = []string{lt.pk()}
		for _, s := range q.Select {
			if _, ok := lt.types[s]; !ok {
				return nil, outpost.Invalidf("$select: table %q has no column %q on this device", table, s).WithTarget("$select")
			}
			if s != lt.pk() {
				cols = append(cols, s)
			}
		}
	}
	b := sqlgen.NewBuilder(sqlgen.SQLite)
	b.SQL("SELECT ")
	for i, col := range cols {
		if i > 0 {
			b.SQL(", ")
		}
		b.Col("t0", col)
	}
	b.SQL(" FROM ").Ident(table).SQL(" AS t0")
	if err := c.whereSearch(ctx, b, lt, q.Filter, q.Search, false); err != nil {
		return nil, err
	}
	b.SQL(" ORDER BY ")
	if strings.TrimSpace(q.OrderBy) != "" {
		words := strings.Fields(q.OrderBy)
		col := words[0]
		if _, ok := lt.types[col]; !ok {
			return nil, outpost.Invalidf("$orderby: table %q has no column %q", table, col).WithTarget("$orderby")
		}
		if len(words) > 2 || (len(words) == 2 && !strings.EqualFold(words[1], "asc") && !strings.EqualFold(words[1], "desc")) {
			return nil, outpost.Invalidf("$orderby: %q is not a column followed by asc or desc", q.OrderBy).WithTarget("$orderby")
		}
		b.Col("t0", col)
		if len(words) == 2 && strings.EqualFold(words[1], "desc") {
			b.SQL(" DESC")
		}
		b.SQL(", ")
	}
	b.Col("t0", lt.pk())
	switch {
	case q.Top > 0:
		b.SQL(" LIMIT ").Arg(int64(q.Top))
	case q.Skip > 0:
		b.SQL(" LIMIT -1") // SQLite takes OFFSET only after a LIMIT
	}
	if q.Skip > 0 {
		b.SQL(" OFFSET ").Arg(int64(q.Skip))
	}
	query, args := b.Build()
	return c.scan(ctx, lt, cols, query, args...)
}

// readable returns table's definition once the store is ready.
func (c *Client) readable(ctx context.Context, table string) (*localTable, error) {
	ready, err := getMeta(ctx, c.db, "ready")
	if err != nil {
		return nil, err
	}
	if ready != "1" {
		return nil, outpost.Conflictf("the first sync of this app has not finished: run sync")
	}
	return c.table(table)
}

// where adds the WHERE clause of the $filter text (none when empty).
func (c *Client) where(b *sqlgen.Builder, table, filterText string) error {
	if filterText == "" {
		return nil
	}
	c.mu.Lock()
	sch, err := localSchema(c.tables)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("local schema: %w", err)
	}
	e, err := filter.ParseOData(filterText)
	if err != nil {
		return outpost.Invalidf("$filter: %v", err).WithTarget("$filter")
	}
	if e, err = filter.Check(sch, table, e, filter.CheckOptions{Source: "$filter"}); err != nil {
		return outpost.Invalidf("%v", err).WithTarget("$filter")
	}
	b.SQL(" WHERE ")
	if err := b.Expr(sch, table, "t0", e, &filter.Env{UserID: c.UserID()}); err != nil {
		return outpost.Invalidf("$filter: %v", err).WithTarget("$filter")
	}
	return nil
}

func (c *Client) scan(ctx context.Context, lt *localTable, cols []string, query string, args ...any) ([]map[string]any, error) {
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", lt.def.Name, err)
	}
	defer rows.Close()
	out := []map[string]any{}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := make(map[string]any, len(cols))
		for i, col := range cols {
			r[col] = readValue(lt.types[col], raw[i])
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Get returns local row id of table.
func (c *Client) Get(ctx context.Context, table, id string) (map[string]any, error) {
	lt, err := c.table(table)
	if err != nil {
		return nil, err
	}
	cols := lt.columnNames()
	rows, err := c.scan(ctx, lt, cols, `SELECT `+quoteList(cols)+` FROM `+sqlgen.SQLite.Quote(table)+` WHERE `+sqlgen.SQLite.Quote(lt.pk())+` = ?`, strings.ToLower(id))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, outpost.NotFoundf("no row of table %q has id %s on this device", table, id).WithTarget("id")
	}
	return rows[0], nil
}

// Rows returns every local row of table by id; tests compare it with the
// server's download plan.
func (c *Client) Rows(ctx context.Context, table string) (map[string]map[string]any, error) {
	lt, err := c.table(table)
	if err != nil {
		return nil, err
	}
	cols := lt.columnNames()
	list, err := c.scan(ctx, lt, cols, `SELECT `+quoteList(cols)+` FROM `+sqlgen.SQLite.Quote(table))
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(list))
	for _, r := range list {
		out[r[lt.pk()].(string)] = r
	}
	return out, nil
}

// quoteList returns the quoted column names separated by commas.
func quoteList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = sqlgen.SQLite.Quote(c)
	}
	return strings.Join(q, ", ")
}
