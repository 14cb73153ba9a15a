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
// page at a time. The read restriction is part of the SQL. It runs in four
// phases: check the request (checkList), count the matches when asked
// (countList), read one row more than the page (readPage), and cut the page there
// (cut).
func (p *Platform) List(ctx context.Context, by *security.Principal, table string, q Query) (*Page, error) {
	l, err := p.checkList(by, table, q)
	if err != nil {
		return nil, err
	}
	page := &Page{}
	if q.Count {
		n, err := p.countList(ctx, l)
		if err != nil {
			return nil, err
		}
		page.Count = &n // OData: the count ignores $top and paging
	}
	if l.limit <= 0 {
		return page, nil
	}
	got, err := p.readPage(ctx, l)
	if err != nil {
		return nil, err
	}
	l.cut(page, got)
	return page, nil
}

// list is a checked list request: the table, by's read access to it, the
// caller's $filter with its links secured, the columns to read and the
// window of rows the page covers.
type list struct {
	q      Query
	by     *security.Principal
	sch    *schema.Schema
	t      *schema.Table
	access filter.Expr
	user   filter.Expr // nil without $filter
	cols   []string
	// limit is the most rows the page returns (0 or less: none); top is
	// $top when hasTop; keyset resumes after q.After.
	limit  int
	hasTop bool
	top    int
	keyset bool
}

// checkList checks q against table and by's read privilege and works out
// the page's window.
func (p *Platform) checkList(by *security.Principal, table string, q Query) (*list, error) {
	sch := p.Schema()
	t, err := sch.LookupTable(table)
	if err != nil {
		return nil, err
	}
	if len(q.OrderBy) > MaxOrderBy {
		return nil, outpost.Invalidf("$orderby has %d terms: at most %d", len(q.OrderBy), MaxOrderBy).WithTarget("$orderby")
	}
	l := &list{q: q, by: by, sch: sch, t: t, access: by.Filter(t, security.Read)}
	if l.access == nil {
		return nil, outpost.Forbiddenf("you lack the read privilege on table %q", t.Name).WithTarget(t.Name)
	}
	if q.Filter != "" {
		e, err := filter.ParseOData(q.Filter)
		if err != nil {
			return nil, FilterError("$filter", err)
		}
		user, err := filter.Check(sch, t.Name, e, filter.CheckOptions{Source: "$filter"})
		if err != nil {
			return nil, FilterError("$filter", err)
		}
		l.user = by.SecureLinks(sch, t.Name, user)
	}
	if l.cols, err = selectList(t, q.Select); err != nil {
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
	l.limit = size
	l.hasTop, l.top = q.Top != 0, max(q.Top, 0) // Top < 0 asks for no rows ($top=0)
	if l.hasTop {
		l.limit = min(size, l.top-q.Skip)
	}
	l.keyset = len(q.OrderBy) == 0 && q.After != ""
	if l.keyset && !outpost.ValidID(q.After) {
		return nil, outpost.Invalidf("$skiptoken does not hold a row id: follow @odata.nextLink as given").WithTarget("$skiptoken")
	}
	return l, nil
}

// where writes the FROM and WHERE clauses of l: by's read access and the
// caller's $filter.
func (l *list) where(b *sqlgen.Builder) error {
	b.SQL(" FROM ").Ident(l.t.Name).SQL(" AS t0 WHERE (")
	if err := b.Expr(l.sch, l.t.Name, "t0", l.access, l.by.Env()); err != nil {
		return fmt.Errorf("compile read access of %s: %w", l.t.Name, err)
	}
	b.SQL(")")
	if l.user != nil {
		b.SQL(" AND (")
		if err := b.Expr(l.sch, l.t.Name, "t0", l.user, l.by.Env()); err != nil {
			return FilterError("$filter", err)
		}
		b.SQL(")")
	}
	return nil
}

// countList returns how many rows match l over all pages.
func (p *Platform) countList(ctx context.Context, l *list) (int64, error) {
	b := sqlgen.NewBuilder(p.db.Dialect)
	b.SQL("SELECT count(*)")
	if err := l.where(b); err != nil {
		return 0, err
	}
	query, args := b.Build()
	var n int64
	if err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", l.t.Name, err)
	}
	return n, nil
}

// readPage reads the rows of l's page in order, and one more when another page
// follows.
func (p *Platform) readPage(ctx context.Context, l *list) ([]outpost.Row, error) {
	b := sqlgen.NewBuilder(p.db.Dialect)
	b.SQL("SELECT ")
	selectColumns(b, "t0", l.cols)
	if err := l.where(b); err != nil {
		return nil, err
	}
	offset := l.q.Skip
	if l.keyset {
		b.SQL(" AND t0.").Ident(l.t.PrimaryKey()).SQL(" > ").Arg(l.q.After)
		offset = 0
	}
	b.SQL(" ORDER BY ")
	for _, o := range l.q.OrderBy {
		b.Col("t0", o.Column)
		if o.Desc {
			b.SQL(" DESC")
		}
		b.SQL(", ")
	}
	b.Col("t0", l.t.PrimaryKey())
	b.SQL(" LIMIT ").Arg(int64(l.limit + 1)).SQL(" OFFSET ").Arg(int64(offset))
	query, args := b.Build()
	rows, err := p.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", l.t.Name, err)
	}
	return scanRows(l.t, l.cols, rows)
}

// cut puts the rows read by readPage into page: at most l.limit of them, and
// where the next page starts when more follow within $top.
func (l *list) cut(page *Page, got []outpost.Row) {
	if len(got) > l.limit {
		got = got[:l.limit]
		page.More = true
		page.NextSkip = l.q.Skip + l.limit
		if len(l.q.OrderBy) == 0 {
			page.NextAfter, _ = got[l.limit-1][l.t.PrimaryKey()].(string)
		}
	}
	if l.hasTop && l.q.Skip+len(got) >= l.top {
		page.More = false
	}
	page.Rows = got
	if page.Rows == nil {
		page.Rows = []outpost.Row{}
	}
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
