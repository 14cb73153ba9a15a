// Package sqlgen turns checked filter expressions into SQL text and bound
// arguments for a database dialect, and owns identifier quoting,
// placeholders, select lists and the stored form of values (Arg to bind
// one, WireValue and GoValue to decode one by column type). Values are
// always bound parameters, never spliced; SQL with arguments is written
// with a Builder, which numbers the placeholders itself.
package sqlgen

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Dialect is a SQL dialect: SQLite or PostgreSQL.
type Dialect struct {
	name string
}

// The dialects.
var (
	SQLite   = Dialect{name: "sqlite"}
	Postgres = Dialect{name: "postgres"}
)

// Name returns "sqlite" or "postgres".
func (d Dialect) Name() string { return d.name }

// IsPostgres reports whether d is PostgreSQL.
func (d Dialect) IsPostgres() bool { return d.name == "postgres" }

// Quote quotes an identifier.
func (d Dialect) Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// Placeholder returns the n-th (1-based) bind placeholder.
func (d Dialect) Placeholder(n int) string {
	if d.IsPostgres() {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Placeholders returns "p, p, …": the n bind placeholders numbered from
// from (1-based), separated by ", ". It is the one writer of placeholder
// lists; a Builder numbers its own (Args).
func (d Dialect) Placeholders(from, n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(d.Placeholder(from + i))
	}
	return sb.String()
}

// TimeFormat is how SQLite stores datetime values: UTC, fixed width, so that
// text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// TimeArg returns the bind value for a time in d: time.Time for PostgreSQL
// (timestamptz), fixed-width UTC text for SQLite.
func (d Dialect) TimeArg(t time.Time) any {
	if d.IsPostgres() {
		return t.UTC()
	}
	return t.UTC().Format(TimeFormat)
}

// BoolArg returns the bind value for a boolean in d.
func (d Dialect) BoolArg(b bool) any {
	if d.IsPostgres() {
		return b
	}
	if b {
		return int64(1)
	}
	return int64(0)
}

// Builder accumulates SQL text and its arguments.
type Builder struct {
	d    Dialect
	sb   strings.Builder
	args []any
	// alias counter for subqueries
	n int
}

// NewBuilder returns an empty Builder for d.
func NewBuilder(d Dialect) *Builder { return &Builder{d: d} }

// Dialect returns the builder's dialect.
func (b *Builder) Dialect() Dialect { return b.d }

// SQL appends raw SQL text. Never pass values through SQL: use Arg.
func (b *Builder) SQL(s string) *Builder {
	b.sb.WriteString(s)
	return b
}

// Ident appends a quoted identifier.
func (b *Builder) Ident(name string) *Builder {
	b.sb.WriteString(b.d.Quote(name))
	return b
}

// Col appends alias.column, quoted; with an empty alias just the column.
func (b *Builder) Col(alias, column string) *Builder {
	if alias != "" {
		b.sb.WriteString(alias)
		b.sb.WriteByte('.')
	}
	return b.Ident(column)
}

// Cols appends the select list alias."c1", alias."c2", … of cols (just the
// quoted columns with an empty alias).
func (b *Builder) Cols(alias string, cols []string) *Builder {
	for i, c := range cols {
		if i > 0 {
			b.sb.WriteString(", ")
		}
		b.Col(alias, c)
	}
	return b
}

// Arg appends a placeholder bound to v.
func (b *Builder) Arg(v any) *Builder {
	b.args = append(b.args, v)
	b.sb.WriteString(b.d.Placeholder(len(b.args)))
	return b
}

// Args appends a comma-separated list of placeholders bound to vs.
func (b *Builder) Args(vs ...any) *Builder {
	for i, v := range vs {
		if i > 0 {
			b.sb.WriteString(", ")
		}
		b.Arg(v)
	}
	return b
}

// StringsArgs appends a comma-separated list of placeholders bound to ss.
func (b *Builder) StringsArgs(ss []string) *Builder {
	for i, v := range ss {
		if i > 0 {
			b.sb.WriteString(", ")
		}
		b.Arg(v)
	}
	return b
}

// NewAlias returns a fresh table alias ("t1", "t2", …) unique in this builder.
func (b *Builder) NewAlias() string {
	b.n++
	return "t" + strconv.Itoa(b.n)
}

// Len returns the length of the SQL so far.
func (b *Builder) Len() int { return b.sb.Len() }

// Build returns the SQL text and its arguments.
func (b *Builder) Build() (string, []any) { return b.sb.String(), b.args }

// String returns the SQL text so far.
func (b *Builder) String() string { return b.sb.String() }

// Querier is what *sql.DB, *sql.Conn and *sql.Tx all offer: the one
// interface the server's packages run statements through, so that a
// function works the same inside a transaction or on a pool.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Exec runs the built statement on q.
func (b *Builder) Exec(ctx context.Context, q Querier) (sql.Result, error) {
	return q.ExecContext(ctx, b.sb.String(), b.args...)
}

// QueryRow runs the built query on q for one row.
func (b *Builder) QueryRow(ctx context.Context, q Querier) *sql.Row {
	return q.QueryRowContext(ctx, b.sb.String(), b.args...)
}

// Query runs the built query on q.
func (b *Builder) Query(ctx context.Context, q Querier) (*sql.Rows, error) {
	return q.QueryContext(ctx, b.sb.String(), b.args...)
}
