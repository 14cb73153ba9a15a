package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// Order is one $orderby term.
type Order struct {
	Column string
	Desc   bool
}

// Query is a list request in OData terms.
type Query struct {
	Filter  string   // $filter text; empty means every row
	Select  []string // $select; empty means every column
	OrderBy []Order  // $orderby; the primary key always breaks ties
	Top     int      // $top; 0 means no limit, negative means no rows
	Count   bool     // $count=true
	// PageSize is the server-driven page size (default 500, at most 5000).
	PageSize int
	// Skip is how many rows earlier pages returned (from $skiptoken).
	Skip int
	// After, with no OrderBy, resumes after this primary key (keyset
	// paging: a deep page costs no more than the first). Skip still counts
	// the rows returned so far, for $top.
	After string
}

// Page size limits.
const (
	DefaultPageSize = 500
	MaxPageSize     = 5000
)

// Query size limits, the same on both engines (the $filter text and its
// conditions are capped by filter.MaxODataLength and filter.MaxConditions).
const (
	// MaxOrderBy is the most $orderby terms.
	MaxOrderBy = 16
	// MaxSelect is the most $select entries.
	MaxSelect = 500
)

// Page is one page of a list.
type Page struct {
	Rows []outpost.Row
	// Count is the number of matching rows over all pages, when asked for.
	Count *int64
	// More is true when another page follows; NextSkip and NextAfter are
	// its Skip and After.
	More      bool
	NextSkip  int
	NextAfter string
}

// FilterError turns a filter parse or check error into a domain error.
func FilterError(param string, err error) error {
	// Each error says where it is once: its own source, or else param.
	var l filter.ErrorList
	if errors.As(err, &l) {
		named := make(filter.ErrorList, len(l))
		for i, e := range l {
			named[i] = withSource(e, param)
		}
		d := named.AsDomain()
		d.Target = param
		return d
	}
	var fe *filter.Error
	if errors.As(err, &fe) {
		return outpost.Invalidf("%s", withSource(fe, param).Error()).WithTarget(param)
	}
	if outpost.ErrorCode(err) != outpost.CodeInternal {
		return err
	}
	return outpost.Invalidf("%s: %v", param, err).WithTarget(param)
}

func withSource(e *filter.Error, source string) *filter.Error {
	if e.Source != "" {
		return e
	}
	cp := *e
	cp.Source = source
	return &cp
}

// List returns the rows of table that by may read and that match q, one
// page at a time. The read restriction is part of the SQL.
func (p *Platform) List(ctx context.Context, by *security.Principal, table string, q Query) (*Page, error) {
	sch := p.Schema()
	t, err := sch.LookupTable(table)
	if err != nil {
		return nil, err
	}
	if len(q.OrderBy) > MaxOrderBy {
		return nil, outpost.Invalidf("$orderby has %d terms: at most %d", len(q.OrderBy), MaxOrderBy).WithTarget("$orderby")
	}
	access := by.Filter(t, security.Read)
	if access == nil {
		return nil, outpost.Forbiddenf("you lack the read privilege on table %q", t.Name).WithTarget(t.Name)
	}
	var user filter.Expr
	if q.Filter != "" {
		e, err := filter.ParseOData(q.Filter)
		if err != nil {
			return nil, FilterError("$filter", err)
		}
		if user, err = filter.Check(sch, t.Name, e, filter.CheckOptions{Source: "$filter"}); err != nil {
			return nil, FilterError("$filter", err)
		}
		user = by.SecureLinks(sch, t.Name, user)
	}
	cols, err := selectList(t, q.Select)
	if err != nil {
		return nil, err
	}
	for _, o := range q.OrderBy {
		if _, ok := t.Column(o.Column); !ok {
			return nil, outpost.Invalidf("$orderby: table %q has no column %q", t.Name, o.Column).WithTarget("$orderby")
		}
	}
	size := q.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	limit := size
	hasTop, top := q.Top != 0, max(q.Top, 0) // Top < 0 asks for no rows ($top=0)
	if hasTop {
		limit = min(size, top-q.Skip)
	}
	keyset := len(q.OrderBy) == 0 && q.After != ""
	if keyset && !outpost.ValidID(q.After) {
		return nil, outpost.Invalidf("$skiptoken does not hold a row id: follow @odata.nextLink as given").WithTarget("$skiptoken")
	}
	where := func(b *sqlgen.Builder) error {
		b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE (")
		if err := b.Expr(sch, t.Name, "t0", access, by.Env()); err != nil {
			return fmt.Errorf("compile read access of %s: %w", t.Name, err)
		}
		b.SQL(")")
		if user != nil {
			b.SQL(" AND (")
			if err := b.Expr(sch, t.Name, "t0", user, by.Env()); err != nil {
				return FilterError("$filter", err)
			}
			b.SQL(")")
		}
		return nil
	}
	page := &Page{}
	if q.Count {
		b := sqlgen.NewBuilder(p.db.Dialect)
		b.SQL("SELECT count(*)")
		if err := where(b); err != nil {
			return nil, err
		}
		query, args := b.Build()
		var n int64
		if err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.Name, err)
		}
		page.Count = &n // OData: the count ignores $top and paging
	}
	if limit <= 0 {
		return page, nil
	}
	b := sqlgen.NewBuilder(p.db.Dialect)
	b.SQL("SELECT ")
	selectColumns(b, "t0", cols)
	if err := where(b); err != nil {
		return nil, err
	}
	offset := q.Skip
	if keyset {
		b.SQL(" AND t0.").Ident(t.PrimaryKey()).SQL(" > ").Arg(q.After)
		offset = 0
	}
	b.SQL(" ORDER BY ")
	for _, o := range q.OrderBy {
		b.Col("t0", o.Column)
		if o.Desc {
			b.SQL(" DESC")
		}
		b.SQL(", ")
	}
	b.Col("t0", t.PrimaryKey())
	b.SQL(" LIMIT ").Arg(int64(limit + 1)).SQL(" OFFSET ").Arg(int64(offset))
	query, args := b.Build()
	rows, err := p.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t.Name, err)
	}
	got, err := scanRows(t, cols, rows)
	if err != nil {
		return nil, err
	}
	if len(got) > limit {
		got = got[:limit]
		page.More = true
		page.NextSkip = q.Skip + limit
		if len(q.OrderBy) == 0 {
			page.NextAfter, _ = got[limit-1][t.PrimaryKey()].(string)
		}
	}
	if hasTop && q.Skip+len(got) >= top {
		page.More = false
	}
	page.Rows = got
	if page.Rows == nil {
		page.Rows = []outpost.Row{}
	}
	return page, nil
}

// selectList checks $select and returns the columns to read; the primary
// key and version are always included.
func selectList(t *schema.Table, sel []string) ([]string, error) {
	if len(sel) == 0 {
		return t.ColumnNames(), nil
	}
	if len(sel) > MaxSelect {
		return nil, outpost.Invalidf("$select names %d columns: at most %d", len(sel), MaxSelect).WithTarget("$select")
	}
	cols := []string{t.PrimaryKey(), schema.ColVersionNumber}
	seen := map[string]bool{t.PrimaryKey(): true, schema.ColVersionNumber: true}
	for _, s := range sel {
		if _, ok := t.Column(s); !ok {
			return nil, outpost.Invalidf("$select: table %q has no column %q", t.Name, s).WithTarget("$select")
		}
		if !seen[s] {
			seen[s] = true
			cols = append(cols, s)
		}
	}
	return cols, nil
}

// Get returns row id of table if by may read it; with sel only those columns.
func (p *Platform) Get(ctx context.Context, by *security.Principal, table, id string, sel []string) (outpost.Row, error) {
	t, err := p.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	if !outpost.ValidID(id) {
		return nil, outpost.Invalidf("%q is not a row id: use a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301", id).WithTarget("id")
	}
	cols, err := selectList(t, sel)
	if err != nil {
		return nil, err
	}
	access := by.Filter(t, security.Read)
	if access == nil {
		return nil, outpost.Forbiddenf("you lack the read privilege on table %q", t.Name).WithTarget(t.Name)
	}
	b := sqlgen.NewBuilder(p.db.Dialect)
	b.SQL("SELECT ")
	selectColumns(b, "t0", cols)
	b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE t0.").Ident(t.PrimaryKey()).SQL(" = ").Arg(id).SQL(" AND (")
	if err := b.Expr(p.Schema(), t.Name, "t0", access, by.Env()); err != nil {
		return nil, fmt.Errorf("compile read access of %s: %w", t.Name, err)
	}
	b.SQL(")")
	query, args := b.Build()
	rows, err := p.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t.Name, id, err)
	}
	got, err := scanRows(t, cols, rows)
	if err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, outpost.NotFoundf("no row of table %q has id %s", t.Name, id).WithTarget("id")
	}
	return got[0], nil
}

// Create inserts one row in its own transaction.
func (p *Platform) Create(ctx context.Context, by *security.Principal, table string, input map[string]any) (row outpost.Row, err error) {
	err = p.Write(ctx, func(w *Writer) error {
		row, err = w.Create(ctx, by, table, input)
		return err
	})
	return row, err
}

// Update changes one row in its own transaction.
func (p *Platform) Update(ctx context.Context, by *security.Principal, table, id string, input map[string]any) (row outpost.Row, err error) {
	err = p.Write(ctx, func(w *Writer) error {
		row, err = w.Update(ctx, by, table, id, input)
		return err
	})
	return row, err
}

// Delete deletes one row in its own transaction.
func (p *Platform) Delete(ctx context.Context, by *security.Principal, table, id string) error {
	return p.Write(ctx, func(w *Writer) error { return w.Delete(ctx, by, table, id) })
}

// Assign changes the owner of one row in its own transaction.
func (p *Platform) Assign(ctx context.Context, by *security.Principal, table, id, ownerID string) (row outpost.Row, err error) {
	err = p.Write(ctx, func(w *Writer) error {
		row, err = w.Assign(ctx, by, table, id, ownerID)
		return err
	})
	return row, err
}

// Share shares one row in its own transaction (rights 0 unshares).
func (p *Platform) Share(ctx context.Context, by *security.Principal, table, id, principalID string, rights int64) error {
	return p.Write(ctx, func(w *Writer) error { return w.Share(ctx, by, table, id, principalID, rights) })
}
