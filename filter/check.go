package filter

import (
	"slices"
	"sort"

	"github.com/outposthq/outpost/schema"
)

// Default limits of Check.
const (
	DefaultMaxLinkDepth    = 3
	DefaultMaxLinkedTables = 15
	// MaxInValues is the most operands in and not-in accept.
	MaxInValues = 1000
	// MaxConditions is the most conditions (comparisons and links) one
	// filter may hold: past it the SQL engines' own expression limits
	// come near (SQLite nests at most 1000 levels).
	MaxConditions = 200
)

// CheckOptions tunes Check. The zero value is ready to use.
type CheckOptions struct {
	// Source names what is checked in error messages, e.g.
	// "profile field-tech, item account". Empty leaves it out.
	Source string
	// MaxLinkDepth is the deepest nesting of links; 0 means
	// DefaultMaxLinkDepth (3, contract §2).
	MaxLinkDepth int
	// MaxLinkedTables is the most distinct related tables the links may
	// reach; 0 means DefaultMaxLinkedTables (15).
	MaxLinkedTables int
}

// Check resolves every column and relationship of e against table of s and
// returns a checked copy of e: Nav links resolved to their N:1
// relationships, link relationship names resolved (a lookup column name is
// accepted for its N:1 relationship), and every value converted to its
// column's Go type: text, memo, file and image to string; ids (primary key,
// lookup, owner) to lowercase UUID strings; integer and choice to int64
// (choices must be options); decimal and money to float64; boolean to bool;
// datetime to time.Time in UTC truncated to milliseconds (RFC 3339 and date
// strings are accepted). The counts of last/next-x operators are int64
// from 1 to 10000.
//
// Operators must suit the column: text operators apply to text and memo;
// gt, ge, lt and le to text, memo, numbers, choices and datetimes; date
// operators to datetimes; user operators to owner columns and lookups to
// systemuser or team (and those tables' primary keys); business operators to
// lookups to businessunit (and its primary key); eq-sharedwithuser to the
// primary key only. null and not-null apply to any column.
//
// Check collects every problem; the error is an ErrorList with a hint for
// near-miss names.
func Check(s *schema.Schema, table string, e Expr, opts CheckOptions) (Expr, error) {
	if opts.MaxLinkDepth <= 0 {
		opts.MaxLinkDepth = DefaultMaxLinkDepth
	}
	if opts.MaxLinkedTables <= 0 {
		opts.MaxLinkedTables = DefaultMaxLinkedTables
	}
	c := &checker{s: s, opts: opts, linked: map[string]bool{}}
	var out Expr
	if t, err := s.LookupTable(table); err != nil {
		c.errs.add(Pos{}, table, "", "unknown table %q", table)
	} else {
		out = c.expr(t, e, 0)
	}
	for _, err := range c.errs {
		err.Source = opts.Source
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return out, nil
}

type checker struct {
	s      *schema.Schema
	n      int // conditions met
	opts   CheckOptions
	errs   ErrorList
	linked map[string]bool // related tables reached through links
}

func (c *checker) expr(t *schema.Table, e Expr, depth int) Expr {
	switch x := e.(type) {
	case *And:
		if x != nil {
			return &And{Pos: x.Pos, List: c.list(t, x.List, depth)}
		}
	case *Or:
		if x != nil {
			return &Or{Pos: x.Pos, List: c.list(t, x.List, depth)}
		}
	case *Not:
		if x != nil {
			return &Not{Pos: x.Pos, X: c.expr(t, x.X, depth)}
		}
	case *Const:
		if x != nil {
			return &Const{Pos: x.Pos, Value: x.Value}
		}
	case *Cond:
		if x != nil && c.count(x.Pos) {
			return c.cond(t, x)
		}
	case *Link:
		if x != nil && c.count(x.Pos) {
			return c.link(t, x, depth)
		}
	}
	switch e.(type) {
	case nil, *And, *Or, *Not, *Const, *Cond, *Link: // nil or a typed nil: no position
		c.errs.add(Pos{}, "", "", "missing condition")
	default:
		c.errs.add(e.Position(), "", "", "unsupported filter node %T", e)
	}
	return nil
}

// count counts one condition and reports whether it is within
// MaxConditions; the first one past it is an error.
func (c *checker) count(pos Pos) bool {
	c.n++
	if c.n == MaxConditions+1 {
		c.errs.add(pos, "", "", "filter holds too many conditions: at most %d conditions", MaxConditions)
	}
	return c.n <= MaxConditions
}

func (c *checker) list(t *schema.Table, list []Expr, depth int) []Expr {
	out := make([]Expr, len(list))
	for i, x := range list {
		out[i] = c.expr(t, x, depth)
	}
	return out
}

func (c *checker) link(t *schema.Table, l *Link, depth int) Expr {
	r, ok := c.relationship(t, l)
	if !ok {
		return nil
	}
	if depth+1 > c.opts.MaxLinkDepth {
		c.errs.add(l.Pos, r.Name, "", "links nest %d levels deep through %q; at most %d are allowed", depth+1, r.Name, c.opts.MaxLinkDepth)
		return nil
	}
	if !c.linked[r.Related] {
		c.linked[r.Related] = true
		if len(c.linked) == c.opts.MaxLinkedTables+1 {
			c.errs.add(l.Pos, r.Name, "", "the filter links %d related tables (%s is one too many); at most %d are allowed", len(c.linked), r.Related, c.opts.MaxLinkedTables)
		}
	}
	out := &Link{Pos: l.Pos, Relationship: r.Name}
	if l.Expr != nil {
		related, err := c.s.LookupTable(r.Related)
		if err != nil {
			c.errs.add(l.Pos, r.Name, "", "relationship %q leads to table %q, which does not exist", r.Name, r.Related)
			return nil
		}
		out.Expr = c.expr(related, l.Expr, depth+1)
	}
	return out
}

// relationship resolves the relationship a link names: a lookup column for
// Nav links, else a relationship name or, failing that, a lookup column.
func (c *checker) relationship(t *schema.Table, l *Link) (schema.Relationship, bool) {
	if !l.Nav {
		if r, ok := c.s.Relationship(t.Name, l.Relationship); ok {
			return r, true
		}
	}
	if col, ok := t.Column(l.Relationship); ok {
		if col.Type == schema.Lookup {
			if r, ok := c.s.Relationship(t.Name, schema.RelationshipName(t.Name, col.Name)); ok {
				return r, true
			}
		}
		if l.Nav {
			c.errs.add(l.Pos, l.Relationship, "navigation needs a lookup column", "column %q of table %q is a %s column, not a lookup", col.Name, t.Name, col.Type)
			return schema.Relationship{}, false
		}
	}
	var names []string
	for _, col := range t.Columns {
		if col.Type == schema.Lookup {
			names = append(names, col.Name)
		}
	}
	if l.Nav {
		c.errs.add(l.Pos, l.Relationship, didYouMean(l.Relationship, names), "unknown lookup column %q in table %q", l.Relationship, t.Name)
		return schema.Relationship{}, false
	}
	for _, r := range c.s.Relationships(t.Name) {
		names = append(names, r.Name)
	}
	c.errs.add(l.Pos, l.Relationship, didYouMean(l.Relationship, names), "unknown relationship %q of table %q", l.Relationship, t.Name)
	return schema.Relationship{}, false
}

// allowedOps returns the operators that apply to column col of t.
func allowedOps(t *schema.Table, col *schema.Column) []Op {
	var kinds []opKind
	compare := true
	switch col.Type {
	case schema.Text, schema.Memo:
		kinds = []opKind{kindText}
	case schema.Integer, schema.Decimal, schema.Money, schema.Choice:
	case schema.DateTime:
		kinds = []opKind{kindDate}
	default: // ids, booleans, files and images: equality only
		compare = false
	}
	target := col.Target
	if col.Name == t.PrimaryKey() {
		target = t.Name
		kinds = append(kinds, kindShared)
	}
	switch {
	case col.Type == schema.Owner, col.Type.IsReference() && (target == "systemuser" || target == "team"):
		kinds = append(kinds, kindUser)
	case col.Type.IsReference() && target == "businessunit":
		kinds = append(kinds, kindBusiness)
	}
	var out []Op
	for o, info := range ops {
		switch {
		case o == Eq || o == Ne || info.kind == kindSet || info.kind == kindNull:
		case info.kind == kindCompare && compare:
		case slices.Contains(kinds, info.kind):
		default:
			continue
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (c *checker) cond(t *schema.Table, x *Cond) Expr {
	info, ok := ops[x.Op]
	if !ok {
		var names []string
		for _, o := range Ops() {
			names = append(names, string(o))
		}
		c.errs.add(x.Pos, x.Column, didYouMean(string(x.Op), names), "unknown operator %q", x.Op)
		return nil
	}
	col, ok := t.Column(x.Column)
	if !ok {
		c.errs.add(x.Pos, x.Column, didYouMean(x.Column, t.ColumnNames()), "unknown column %q in table %q", x.Column, t.Name)
		return nil
	}
	allowed := allowedOps(t, col)
	if !slices.Contains(allowed, x.Op) {
		c.errs.add(x.Pos, x.Column, "use one of "+opNames(allowed), "operator %q does not apply to %s column %q", x.Op, col.Type, col.Name)
		return nil
	}
	n := len(x.Values)
	if x.Op == EqSharedWithUser && n == 1 {
		// The security filter's rights mask (security.Right).
		mask, ok := x.Values[0].(int64)
		if !ok || mask <= 0 {
			c.errs.add(x.Pos, x.Column, "", "operator %q takes no value or a positive rights mask, got %v", x.Op, x.Values[0])
			return nil
		}
		return &Cond{Pos: x.Pos, Column: x.Column, Op: x.Op, Values: []any{mask}}
	}
	switch {
	case info.arity == noValue && n != 0:
		c.errs.add(x.Pos, x.Column, "", "operator %q takes no value, got %d", x.Op, n)
		return nil
	case info.arity == oneValue && n != 1:
		c.errs.add(x.Pos, x.Column, "", "operator %q takes one value, got %d", x.Op, n)
		return nil
	case info.arity == anyValue && (n == 0 || n > MaxInValues):
		c.errs.add(x.Pos, x.Column, "", "operator %q takes 1 to %d values, got %d", x.Op, MaxInValues, n)
		return nil
	}
	out := &Cond{Pos: x.Pos, Column: x.Column, Op: x.Op}
	if n > 0 {
		out.Values = make([]any, n)
	}
	bad := false
	for i, v := range x.Values {
		cv, err := convert(col, x.Op, v)
		if err != nil {
			c.errs.add(x.Pos, x.Column, err.hint, "column %q, operator %q: %s", col.Name, x.Op, err.msg)
			bad = true
			continue
		}
		out.Values[i] = cv
	}
	if bad {
		return nil
	}
	return out
}
