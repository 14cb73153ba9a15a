package sqlgen

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// SQLiteFold is the SQL function that computes filter.Fold on SQLite. It is
// not built in (SQLite's lower() folds ASCII only): package
// sqlgen/sqlitefold registers it with the SQLite drivers, and every SQLite
// connection that runs compiled filters must have it.
const SQLiteFold = "outpost_fold"

// PostgresFoldCollation is the collation under which PostgreSQL's lower()
// computes filter.Fold: glibc's C.UTF-8 locale lower-cases each code point
// by its Unicode simple mapping, as Go's unicode.ToLower does, whatever the
// database's own collation and ctype. The PostgreSQL store checks at open
// that the server has the collation and that it agrees (CheckPostgresFold).
const PostgresFoldCollation = "C.utf8"

// foldCol writes the folded form of alias.col: outpost_fold(col) on SQLite,
// lower(col COLLATE "C.utf8") COLLATE "C" on PostgreSQL (the outer "C" makes
// comparisons and LIKE bytewise). Neither uses an index on col; text and memo
// columns have none.
func (c *compiler) foldCol(alias, col string) {
	b := c.b
	if b.d.IsPostgres() {
		b.SQL("lower(").Col(alias, col).SQL(" COLLATE ").Ident(PostgresFoldCollation).SQL(`) COLLATE "C"`)
		return
	}
	b.SQL(SQLiteFold+"(").Col(alias, col).SQL(")")
}

// column writes alias.col, folded when col compares folded text.
func (c *compiler) column(alias string, col *schema.Column) {
	if filter.FoldsColumn(col) {
		c.foldCol(alias, col.Name)
		return
	}
	c.b.Col(alias, col.Name)
}

// operand returns v folded when col compares folded text.
func operand(col *schema.Column, v any) any {
	if s, ok := v.(string); ok && filter.FoldsColumn(col) {
		return filter.Fold(s)
	}
	return v
}

// CheckPostgresFold reports an error unless lower() under
// PostgresFoldCollation on the server behind q equals filter.Fold, code
// point by code point, for every cased code point (those that are upper,
// lower or title case, or whose fold differs); with all, for every code
// point but NUL and the surrogates. The error names the first differences.
func CheckPostgresFold(ctx context.Context, q Querier, all bool) error {
	var in strings.Builder
	for r := rune(1); r <= unicode.MaxRune; r++ {
		if utf8.ValidRune(r) && (all || unicode.ToLower(r) != r || unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)) {
			in.WriteRune(r)
		}
	}
	var got string
	err := q.QueryRowContext(ctx, "SELECT lower($1::text COLLATE "+Postgres.Quote(PostgresFoldCollation)+")", in.String()).Scan(&got)
	if err != nil {
		return fmt.Errorf("text filters fold case with lower() under the collation %q, which this PostgreSQL server cannot use: %w", PostgresFoldCollation, err)
	}
	src, dst := []rune(in.String()), []rune(got)
	var diffs []string
	for i, r := range src {
		switch {
		case i >= len(dst):
			diffs = append(diffs, fmt.Sprintf("%U is missing", r))
		case dst[i] != unicode.ToLower(r):
			diffs = append(diffs, fmt.Sprintf("%U lower-cases to %U, not %U", r, dst[i], unicode.ToLower(r)))
		}
		if len(diffs) == 5 {
			break
		}
	}
	if len(diffs) == 0 && len(dst) != len(src) {
		diffs = append(diffs, fmt.Sprintf("%d code points became %d", len(src), len(dst)))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("lower() under the collation %q of this PostgreSQL server differs from the Unicode %s simple lower-case mapping text filters use: %s", PostgresFoldCollation, unicode.Version, strings.Join(diffs, "; "))
	}
	return nil
}
