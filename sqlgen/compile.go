package sqlgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// ShareTable is the table the store keeps row shares in:
// outpost_share(objecttable TEXT, objectid TEXT, principalid TEXT,
// accessmask BIGINT). eq-sharedwithuser reads it.
const ShareTable = "outpost_share"

// Expr appends a boolean SQL expression equivalent to e, an expression
// checked by filter.Check against table of s, for rows of table under alias
// (columns are written alias."column"). env supplies the user ids and the
// clock of user-relative and date operators (nil is an empty Env). Every
// value is a bound argument.
//
// The SQL agrees exactly with filter.Eval: negations are pushed down to the
// conditions, and each condition is written so that it is never NULL where
// it could be negated (ne is IS NOT / IS DISTINCT FROM, not-in adds "col IS
// NULL OR"), so SQL's three-valued logic gives Eval's two-valued answers.
// Links become EXISTS subqueries with fresh aliases from NewAlias. Text and
// memo columns compare case-insensitively, as Eval does: the column is folded
// in SQL (SQLiteFold on SQLite, lower() under PostgresFoldCollation on
// PostgreSQL) and the operand in Go (filter.Fold), then they are compared
// bytewise: LIKE … ESCAPE '\' under COLLATE "C" on PostgreSQL, GLOB on
// SQLite. An empty And is 1=1, an empty Or 1=0.
func (b *Builder) Expr(s *schema.Schema, table, alias string, e filter.Expr, env *filter.Env) error {
	t, err := s.LookupTable(table)
	if err != nil {
		return fmt.Errorf("compile filter: %w", err)
	}
	c := &compiler{b: b, s: s, env: env}
	return c.expr(t, alias, e, false)
}

type compiler struct {
	b   *Builder
	s   *schema.Schema
	env *filter.Env
}

// expr writes e, or its negation when neg is set.
func (c *compiler) expr(t *schema.Table, alias string, e filter.Expr, neg bool) error {
	switch x := e.(type) {
	case *filter.And:
		if neg {
			return c.list(t, alias, x.List, " OR ", "1=0", true)
		}
		return c.list(t, alias, x.List, " AND ", "1=1", false)
	case *filter.Or:
		if neg {
			return c.list(t, alias, x.List, " AND ", "1=1", true)
		}
		return c.list(t, alias, x.List, " OR ", "1=0", false)
	case *filter.Not:
		return c.expr(t, alias, x.X, !neg)
	case *filter.Const:
		c.bool(x.Value != neg)
		return nil
	case *filter.Link:
		return c.link(t, alias, x, neg)
	case *filter.Cond:
		return c.cond(t, alias, x, neg)
	}
	return fmt.Errorf("compile filter: unexpected node %T", e)
}

func (c *compiler) bool(v bool) {
	if v {
		c.b.SQL("1=1")
	} else {
		c.b.SQL("1=0")
	}
}

func (c *compiler) list(t *schema.Table, alias string, list []filter.Expr, sep, empty string, neg bool) error {
	switch len(list) {
	case 0:
		c.b.SQL(empty)
		return nil
	case 1:
		return c.expr(t, alias, list[0], neg)
	}
	c.b.SQL("(")
	for i, x := range list {
		if i > 0 {
			c.b.SQL(sep)
		}
		if err := c.expr(t, alias, x, neg); err != nil {
			return err
		}
	}
	c.b.SQL(")")
	return nil
}

func (c *compiler) link(t *schema.Table, alias string, l *filter.Link, neg bool) error {
	r, ok := c.s.Relationship(t.Name, l.Relationship)
	if !ok {
		return fmt.Errorf("compile filter: table %q has no relationship %q", t.Name, l.Relationship)
	}
	related, err := c.s.LookupTable(r.Related)
	if err != nil {
		return fmt.Errorf("compile filter: relationship %q: %w", r.Name, err)
	}
	if neg {
		c.b.SQL("NOT ")
	}
	b := c.b
	b.SQL("EXISTS (SELECT 1 FROM ")
	switch r.Kind {
	case schema.ManyToOne:
		a := b.NewAlias()
		b.Ident(related.Name).SQL(" AS "+a+" WHERE ").Col(a, related.PrimaryKey()).SQL(" = ").Col(alias, r.Column)
		alias = a
	case schema.OneToMany:
		a := b.NewAlias()
		b.Ident(related.Name).SQL(" AS "+a+" WHERE ").Col(a, r.Column).SQL(" = ").Col(alias, t.PrimaryKey())
		alias = a
	case schema.ManyToMany:
		ia, a := b.NewAlias(), b.NewAlias()
		b.Ident(r.Intersect).SQL(" AS "+ia+" JOIN ").Ident(related.Name).SQL(" AS "+a+" ON ").
			Col(a, related.PrimaryKey()).SQL(" = ").Col(ia, r.RelatedColumn).
			SQL(" WHERE ").Col(ia, r.IntersectColumn).SQL(" = ").Col(alias, t.PrimaryKey())
		alias = a
	default:
		return fmt.Errorf("compile filter: relationship %q has unknown kind %q", r.Name, r.Kind)
	}
	if l.Expr != nil {
		b.SQL(" AND ")
		if err := c.expr(related, alias, l.Expr, false); err != nil {
			return err
		}
	}
	b.SQL(")")
	return nil
}

// arg converts a checked operand to its bind value in the dialect.
func (c *compiler) arg(v any) any {
	switch v := v.(type) {
	case time.Time:
		return c.b.d.TimeArg(v)
	case bool:
		return c.b.d.BoolArg(v)
	}
	return v
}

var (
	compareSQL = map[filter.Op]string{filter.Eq: " = ", filter.Gt: " > ", filter.Ge: " >= ", filter.Lt: " < ", filter.Le: " <= "}
	// flipped are the comparisons true exactly when the key is false, for non-null operands.
	flipped = map[filter.Op]filter.Op{filter.Gt: filter.Le, filter.Ge: filter.Lt, filter.Lt: filter.Ge, filter.Le: filter.Gt}
)

func (c *compiler) cond(t *schema.Table, alias string, x *filter.Cond, neg bool) error {
	if p, ok := x.Op.Complement(); ok {
		return c.cond(t, alias, &filter.Cond{Pos: x.Pos, Column: x.Column, Op: p, Values: x.Values}, !neg)
	}
	col, ok := t.Column(x.Column)
	if !ok {
		return fmt.Errorf("compile filter: unknown column %q in table %q", x.Column, t.Name)
	}
	b := c.b
	switch op := x.Op; op {
	case filter.Null:
		b.Col(alias, col.Name).SQL(map[bool]string{false: " IS NULL", true: " IS NOT NULL"}[neg])
		return nil
	case filter.Eq, filter.Gt, filter.Ge, filter.Lt, filter.Le:
		if len(x.Values) != 1 {
			return fmt.Errorf("compile filter: column %q: operator %q takes one value", x.Column, op)
		}
		v := c.arg(operand(col, x.Values[0]))
		switch {
		case neg && op == filter.Eq:
			c.column(alias, col)
			b.SQL(c.isDistinct()).Arg(v)
		case neg:
			b.SQL("(").Col(alias, col.Name).SQL(" IS NULL OR ")
			c.compare(col, alias, flipped[op], v)
			b.SQL(")")
		default:
			c.compare(col, alias, op, v)
		}
		return nil
	case filter.In:
		if len(x.Values) == 0 {
			return fmt.Errorf("compile filter: column %q: operator %q needs values", x.Column, op)
		}
		args := make([]any, len(x.Values))
		for i, v := range x.Values {
			args[i] = c.arg(operand(col, v))
		}
		c.in(alias, col, args, neg)
		return nil
	case filter.Like, filter.BeginsWith, filter.EndsWith, filter.Contains:
		var pat string
		if len(x.Values) == 1 {
			pat, ok = x.Values[0].(string)
		}
		if !ok || len(x.Values) != 1 {
			return fmt.Errorf("compile filter: column %q: operator %q takes one text value", x.Column, op)
		}
		c.like(alias, col, filter.LikePattern(op, filter.Fold(pat)), neg)
		return nil
	case filter.EqSharedWithUser:
		var rights int64
		if len(x.Values) == 1 {
			if rights, ok = x.Values[0].(int64); !ok || rights <= 0 {
				return fmt.Errorf("compile filter: column %q: operator %q takes a positive rights mask, got %v", x.Column, op, x.Values[0])
			}
		} else if len(x.Values) > 1 {
			return fmt.Errorf("compile filter: column %q: operator %q takes at most one rights mask", x.Column, op)
		}
		c.shared(t, alias, col.Name, rights, neg)
		return nil
	}
	if isIDOp(x.Op) {
		ids := c.env.MatchIDs(x.Op)
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		c.in(alias, col, args, neg)
		return nil
	}
	return c.date(alias, col.Name, x, neg)
}

func isIDOp(op filter.Op) bool {
	switch op {
	case filter.EqUserID, filter.EqUserTeams, filter.EqUserOrUserTeams, filter.EqUserOrUserHierarchy,
		filter.EqUserOrUserHierarchyAndTeams, filter.EqBusinessID:
		return true
	}
	return false
}

func (c *compiler) isDistinct() string {
	if c.b.d.IsPostgres() {
		return " IS DISTINCT FROM "
	}
	return " IS NOT "
}

// compare writes alias.col op v; text compares folded (the folded form is
// bytewise on PostgreSQL too).
func (c *compiler) compare(col *schema.Column, alias string, op filter.Op, v any) {
	c.column(alias, col)
	c.b.SQL(compareSQL[op]).Arg(v)
}

// in writes alias.col IN (args) or its null-safe negation; no args is false.
func (c *compiler) in(alias string, col *schema.Column, args []any, neg bool) {
	b := c.b
	switch {
	case len(args) == 0:
		c.bool(neg)
	case neg && len(args) == 1:
		c.column(alias, col)
		b.SQL(c.isDistinct()).Arg(args[0])
	case neg:
		b.SQL("(").Col(alias, col.Name).SQL(" IS NULL OR ")
		c.column(alias, col)
		b.SQL(" NOT IN (").Args(args...).SQL("))")
	case len(args) == 1:
		c.column(alias, col)
		b.SQL(" = ").Arg(args[0])
	default:
		c.column(alias, col)
		b.SQL(" IN (").Args(args...).SQL(")")
	}
}

// like writes a pattern match of the folded column against pat, whose
// literal runes are folded already: GLOB on SQLite (case-sensitive, unlike
// its LIKE, so the fold alone decides), LIKE with an escape character on
// PostgreSQL.
func (c *compiler) like(alias string, col *schema.Column, pat []filter.LikeToken, neg bool) {
	var sb strings.Builder
	for _, tok := range pat {
		switch {
		case c.b.d.IsPostgres() && tok.Any:
			sb.WriteByte('%')
		case c.b.d.IsPostgres() && tok.One:
			sb.WriteByte('_')
		case c.b.d.IsPostgres():
			if tok.Rune == '%' || tok.Rune == '_' || tok.Rune == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(tok.Rune)
		case tok.Any:
			sb.WriteByte('*')
		case tok.One:
			sb.WriteByte('?')
		case tok.Rune == '*' || tok.Rune == '?' || tok.Rune == '[':
			sb.WriteString("[" + string(tok.Rune) + "]")
		default:
			sb.WriteRune(tok.Rune)
		}
	}
	b := c.b
	if neg {
		b.SQL("(").Col(alias, col.Name).SQL(" IS NULL OR ")
		c.column(alias, col)
		b.SQL(" NOT")
	} else {
		c.column(alias, col)
	}
	if b.d.IsPostgres() {
		b.SQL(" LIKE ").Arg(sb.String()).SQL(` ESCAPE '\'`)
	} else {
		b.SQL(" GLOB ").Arg(sb.String())
	}
	if neg {
		b.SQL(")")
	}
}

// shared writes "the row is shared with the user or one of their teams",
// with one of the rights of the mask rights when it is not 0.
func (c *compiler) shared(t *schema.Table, alias, col string, rights int64, neg bool) {
	ids := c.env.MatchIDs(filter.EqSharedWithUser)
	if len(ids) == 0 {
		c.bool(neg)
		return
	}
	b := c.b
	if neg {
		b.SQL("(").Col(alias, col).SQL(" IS NULL OR ").Col(alias, col).SQL(" NOT IN (")
	} else {
		b.Col(alias, col).SQL(" IN (")
	}
	b.SQL("SELECT objectid FROM ").Ident(ShareTable).SQL(" WHERE objecttable = ").Arg(t.Name)
	if neg {
		b.SQL(" AND objectid IS NOT NULL")
	}
	b.SQL(" AND principalid IN (").StringsArgs(ids).SQL(")")
	if rights != 0 {
		// A constant of the server, not a value of the caller: written
		// into the text so both engines read it as a bigint.
		b.SQL(fmt.Sprintf(" AND (accessmask & %d) <> 0", rights))
	}
	b.SQL(")")
	if neg {
		b.SQL(")")
	}
}

// date writes the half-open range of a date operator, or its negation.
func (c *compiler) date(alias, col string, x *filter.Cond, neg bool) error {
	start, end, err := filter.DateRange(x.Op, x.Values, c.env)
	if err != nil {
		return fmt.Errorf("compile filter: column %q: %w", x.Column, err)
	}
	b := c.b
	var parts []func()
	if !start.IsZero() {
		parts = append(parts, func() {
			b.Col(alias, col).SQL(map[bool]string{false: " >= ", true: " < "}[neg]).Arg(b.d.TimeArg(start))
		})
	}
	if !end.IsZero() {
		parts = append(parts, func() { b.Col(alias, col).SQL(map[bool]string{false: " < ", true: " >= "}[neg]).Arg(b.d.TimeArg(end)) })
	}
	switch {
	case len(parts) == 0:
		b.Col(alias, col).SQL(map[bool]string{false: " IS NOT NULL", true: " IS NULL"}[neg])
		return nil
	case neg:
		b.SQL("(").Col(alias, col).SQL(" IS NULL")
		for _, p := range parts {
			b.SQL(" OR ")
			p()
		}
	default:
		b.SQL("(")
		for i, p := range parts {
			if i > 0 {
				b.SQL(" AND ")
			}
			p()
		}
	}
	b.SQL(")")
	return nil
}
