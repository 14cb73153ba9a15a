package filter

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
)

// Resolver gives the rows related to a row through a relationship, for
// evaluating Links: the referenced row of an N:1 (none when the lookup is
// null or dangling), the referencing rows of a 1:N, and the rows paired
// through the intersect table of an N:N.
type Resolver interface {
	Related(r schema.Relationship, row outpost.Row) ([]outpost.Row, error)
}

// Eval reports whether row of table matches e, which must be the result
// of Check. env resolves user-relative and date operators (nil is an empty
// Env: no user, the current time in UTC); rel resolves Links and may be nil
// when e has none.
//
// Eval agrees exactly with the SQL package sqlgen compiles e to. Every
// condition is two-valued: a condition on a null column is false, except
// that a negative operator (ne, not-like, not-begin-with, not-end-with,
// not-in, not-null, ne-userid, ne-businessid) is the exact complement of its
// positive operator and so true on null, and not(c) is true whenever c is
// false. Text and memo columns compare case-insensitively: both sides are
// folded (Fold), then compared in byte order; like patterns use %
// (any run of characters), _ (one character) and \ (the next character is
// literal). Date operators match the half-open ranges of DateRange.
func Eval(s *schema.Schema, table string, e Expr, row outpost.Row, env *Env, rel Resolver) (bool, error) {
	t, err := s.LookupTable(table)
	if err != nil {
		return false, err
	}
	ev := &evaluator{s: s, env: env, rel: rel}
	return ev.expr(t, e, row)
}

type evaluator struct {
	s   *schema.Schema
	env *Env
	rel Resolver
}

func (ev *evaluator) expr(t *schema.Table, e Expr, row outpost.Row) (bool, error) {
	switch x := e.(type) {
	case *And:
		for _, y := range x.List {
			if ok, err := ev.expr(t, y, row); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case *Or:
		for _, y := range x.List {
			if ok, err := ev.expr(t, y, row); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *Not:
		ok, err := ev.expr(t, x.X, row)
		return !ok && err == nil, err
	case *Const:
		return x.Value, nil
	case *Cond:
		return ev.cond(t, x, row)
	case *Link:
		return ev.link(t, x, row)
	}
	return false, fmt.Errorf("evaluate %T: not a filter node", e)
}

func (ev *evaluator) link(t *schema.Table, l *Link, row outpost.Row) (bool, error) {
	r, ok := ev.s.Relationship(t.Name, l.Relationship)
	if !ok {
		return false, fmt.Errorf("evaluate link: table %q has no relationship %q", t.Name, l.Relationship)
	}
	related, err := ev.s.LookupTable(r.Related)
	if err != nil {
		return false, err
	}
	if ev.rel == nil {
		return false, fmt.Errorf("evaluate link %q: no resolver", l.Relationship)
	}
	rows, err := ev.rel.Related(r, row)
	if err != nil {
		return false, fmt.Errorf("evaluate link %q: %w", l.Relationship, err)
	}
	if l.Expr == nil {
		return len(rows) > 0, nil
	}
	for _, rr := range rows {
		if ok, err := ev.expr(related, l.Expr, rr); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (ev *evaluator) cond(t *schema.Table, c *Cond, row outpost.Row) (bool, error) {
	if p, ok := c.Op.Complement(); ok {
		ok, err := ev.cond(t, &Cond{Pos: c.Pos, Column: c.Column, Op: p, Values: c.Values}, row)
		return !ok && err == nil, err
	}
	col, ok := t.Column(c.Column)
	if !ok {
		return false, fmt.Errorf("evaluate: unknown column %q in table %q", c.Column, t.Name)
	}
	v, err := RowValue(col, row[c.Column])
	if err != nil {
		return false, err
	}
	if c.Op == Null {
		return v == nil, nil
	}
	if v == nil {
		return false, nil
	}
	values := c.Values
	if FoldsColumn(col) {
		v = foldValue(v)
		values = make([]any, len(c.Values))
		for i, x := range c.Values {
			values[i] = foldValue(x)
		}
	}
	info := ops[c.Op]
	switch info.kind {
	case kindCompare:
		if len(values) != 1 {
			return false, fmt.Errorf("evaluate %q: operator %q takes one value", c.Column, c.Op)
		}
		d, err := compare(v, values[0])
		if err != nil {
			return false, fmt.Errorf("evaluate %q: %w", c.Column, err)
		}
		switch c.Op {
		case Eq:
			return d == 0, nil
		case Gt:
			return d > 0, nil
		case Ge:
			return d >= 0, nil
		case Lt:
			return d < 0, nil
		case Le:
			return d <= 0, nil
		}
	case kindSet:
		for _, x := range values {
			if d, err := compare(v, x); err != nil || d == 0 {
				return err == nil, err
			}
		}
		return false, nil
	case kindText:
		s, ok1 := v.(string)
		pat, ok2 := values[0].(string)
		if !ok1 || !ok2 || len(values) != 1 {
			return false, fmt.Errorf("evaluate %q: operator %q needs text", c.Column, c.Op)
		}
		return matchLike(LikePattern(c.Op, pat), []rune(s)), nil
	case kindUser, kindBusiness:
		s, _ := v.(string)
		for _, id := range ev.env.MatchIDs(c.Op) {
			if s == id {
				return true, nil
			}
		}
		return false, nil
	case kindShared:
		s, _ := v.(string)
		return ev.env != nil && ev.env.Shared != nil && ev.env.Shared(t.Name, s), nil
	case kindDate:
		tv, ok := v.(time.Time)
		if !ok {
			return false, fmt.Errorf("evaluate %q: operator %q needs a datetime column", c.Column, c.Op)
		}
		start, end, err := DateRange(c.Op, c.Values, ev.env)
		if err != nil {
			return false, fmt.Errorf("evaluate %q: %w", c.Column, err)
		}
		return (start.IsZero() || !tv.Before(start)) && (end.IsZero() || tv.Before(end)), nil
	}
	return false, fmt.Errorf("evaluate %q: unsupported operator %q", c.Column, c.Op)
}

// foldValue folds v when it is text.
func foldValue(v any) any {
	if s, ok := v.(string); ok {
		return Fold(s)
	}
	return v
}

// compare orders a row value and a checked operand of the same Go type.
func compare(v, x any) (int, error) {
	switch v := v.(type) {
	case string:
		if x, ok := x.(string); ok {
			return strings.Compare(v, x), nil
		}
	case int64:
		if x, ok := x.(int64); ok {
			return cmp.Compare(v, x), nil
		}
	case float64:
		if x, ok := x.(float64); ok {
			return cmp.Compare(v, x), nil
		}
	case bool:
		if x, ok := x.(bool); ok {
			if v == x {
				return 0, nil
			}
			if !v {
				return -1, nil
			}
			return 1, nil
		}
	case time.Time:
		if x, ok := x.(time.Time); ok {
			return v.Compare(x), nil
		}
	}
	return 0, fmt.Errorf("cannot compare %T with %T", v, x)
}

// RowValue normalises a stored value of col to the Go type Check gives
// that column's operands: string, int64, float64, bool, time.Time (UTC) or
// nil. It accepts what database drivers return: []byte for text, int64 0/1
// for booleans, integral float64 for integers, TimeFormat or RFC 3339 text
// for datetimes.
func RowValue(col *schema.Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("column %q: unexpected %T value %v for a %s column", col.Name, v, v, col.Type)
	}
	switch col.Type {
	case schema.Integer, schema.Choice:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case float64:
			if n, err := toInt(x); err == nil {
				return n, nil
			}
		}
		return bad()
	case schema.Decimal, schema.Money:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		}
		return bad()
	case schema.Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
		return bad()
	case schema.DateTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC(), nil
			}
		}
		return bad()
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return bad()
}
