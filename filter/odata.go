package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of ParseOData.
const (
	// MaxODataLength is the longest $filter text accepted, in characters.
	MaxODataLength = 8000
	// MaxDepth is the deepest nesting of parentheses, not and lambdas
	// accepted in $filter text and of nodes in a JSON condition tree.
	MaxDepth = 100
)

const dataverseNS = "Microsoft.Dynamics.CRM."

// ParseOData parses OData v4 $filter text into an Expr. The error, if any,
// is an ErrorList holding one positioned *Error.
//
// Accepted: comparisons `col eq|ne|gt|ge|lt|le literal`; `col eq null` and
// `col ne null` (null, not-null); `col in ('a','b')`; a bare boolean column
// (`col`, the same as `col eq true`); the functions contains, startswith and
// endswith; `and`, `or`, `not` and parentheses, with `not` applying to the
// condition or parenthesis that follows, then `and`, then `or`; true and
// false; navigation through lookups (`primarycontactid/fullname eq 'x'`,
// a Link with Nav set); lambdas over relationships
// (`rel/any(x: x/col eq 1)`, `rel/any()`, and `rel/all(x: …)` as
// `not rel/any(x: not …)`), in which columns are prefixed by the lambda
// variable; and the Dataverse query functions
// `Microsoft.Dynamics.CRM.Name(PropertyName='col',PropertyValue=v)` or
// `PropertyValues=[v,…]` for every operator (EqUserId, LastXDays, In, On,
// Like, NotBeginWith…; names are case-insensitive). Literals: 'text' (two
// single quotes stand for one), integers, decimals, true, false, null, dates (2024-01-31),
// datetimes (2024-01-31T08:00:00Z, kept in UTC) and bare GUIDs (as strings).
func ParseOData(src string) (Expr, error) {
	if n := utf8.RuneCountInString(src); n > MaxODataLength {
		return nil, ErrorList{{Pos: Pos{Line: 1, Col: 1}, Msg: fmt.Sprintf("filter is too long: %d characters, at most %d", n, MaxODataLength)}}
	}
	p := &parser{lx: newLexer(src)}
	e, err := p.parse()
	if err != nil {
		return nil, ErrorList{err}
	}
	return e, nil
}

type parser struct {
	lx    *lexer
	tok   token
	depth int
	vars  []string // lambda variables, innermost last
}

func (p *parser) parse() (Expr, *Error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, p.errorf(p.tok.pos, "expected a condition, found end of input")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.expected(`"and", "or" or the end of the filter`)
	}
	return e, nil
}

func (p *parser) next() *Error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expected(what string) *Error {
	return p.errorf(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

func (p *parser) isKeyword(kw string) bool { return p.tok.kind == tIdent && p.tok.text == kw }
func (p *parser) isPunct(c string) bool    { return p.tok.kind == tPunct && p.tok.text == c }

// expect consumes the punctuation c.
func (p *parser) expect(c, context string) *Error {
	if !p.isPunct(c) {
		return p.expected(fmt.Sprintf("%q%s", c, context))
	}
	return p.next()
}

func (p *parser) enter() *Error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(p.tok.pos, "filter is nested too deeply: at most %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) or() (Expr, *Error) {
	return p.chain("or", p.and, func(pos Pos, list []Expr) Expr { return &Or{Pos: pos, List: list} })
}

func (p *parser) and() (Expr, *Error) {
	return p.chain("and", p.unary, func(pos Pos, list []Expr) Expr { return &And{Pos: pos, List: list} })
}

// chain parses operand { kw operand } into one flat node.
func (p *parser) chain(kw string, operand func() (Expr, *Error), mk func(Pos, []Expr) Expr) (Expr, *Error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if !p.isKeyword(kw) {
		return first, nil
	}
	list := []Expr{first}
	for p.isKeyword(kw) {
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := operand()
		if err != nil {
			return nil, err
		}
		list = append(list, x)
	}
	return mk(first.Position(), list), nil
}

func (p *parser) unary() (Expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	pos := p.tok.pos
	if p.isKeyword("not") {
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{Pos: pos, X: x}, nil
	}
	switch {
	case p.isPunct("("):
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		return x, p.expect(")", ` to close the "(" at `+pos.String())
	case p.isKeyword("true"), p.isKeyword("false"):
		v := p.tok.text == "true"
		return &Const{Pos: pos, Value: v}, p.next()
	case p.tok.kind != tIdent:
		return nil, p.expected("a condition")
	}
	name := p.tok.text
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.isPunct("(") {
		return p.call(name, pos)
	}
	return p.member(name, pos)
}

// pathSeg is one segment of a member path.
type pathSeg struct {
	name string
	pos  Pos
}

// wrapNav wraps body in Nav links for segs (the lookups leading to it).
func wrapNav(segs []pathSeg, body Expr) Expr {
	for i := len(segs) - 1; i >= 0; i-- {
		body = &Link{Pos: segs[i].pos, Relationship: segs[i].name, Expr: body, Nav: true}
	}
	return body
}

// member parses the rest of a predicate that starts with a member path
// whose first segment (name at pos) was just read.
func (p *parser) member(name string, pos Pos) (Expr, *Error) {
	segs := []pathSeg{{name, pos}}
	for p.isPunct("/") {
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind != tIdent {
			return nil, p.expected(`a column or relationship name after "/"`)
		}
		seg := pathSeg{p.tok.text, p.tok.pos}
		if err := p.next(); err != nil {
			return nil, err
		}
		if (seg.name == "any" || seg.name == "all") && p.isPunct("(") {
			segs, err := p.unprefix(segs)
			if err != nil {
				return nil, err
			}
			if len(segs) == 0 {
				return nil, p.errorf(seg.pos, "expected a relationship before %q", "/"+seg.name)
			}
			last := segs[len(segs)-1]
			body, err := p.lambda(seg, last)
			if err != nil {
				return nil, err
			}
			return wrapNav(segs[:len(segs)-1], body), nil
		}
		segs = append(segs, seg)
	}
	segs, err := p.unprefix(segs)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, p.errorf(pos, "expected a column after %q", name+"/")
	}
	col := segs[len(segs)-1]
	cond, err := p.comparison(col)
	if err != nil {
		return nil, err
	}
	return wrapNav(segs[:len(segs)-1], cond), nil
}

// unprefix strips the lambda variable that must start a path inside a lambda.
func (p *parser) unprefix(segs []pathSeg) ([]pathSeg, *Error) {
	if len(p.vars) == 0 {
		return segs, nil
	}
	v := p.vars[len(p.vars)-1]
	if segs[0].name != v {
		return nil, p.errorf(segs[0].pos, "expected %q before a column inside the lambda, found %q", v+"/", segs[0].name)
	}
	return segs[1:], nil
}

// lambda parses "(x: body)" or "()" after rel/any or rel/all.
func (p *parser) lambda(fn, rel pathSeg) (Expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.next(); err != nil { // "("
		return nil, err
	}
	link := &Link{Pos: rel.pos, Relationship: rel.name}
	if p.isPunct(")") {
		if fn.name == "all" {
			return nil, p.expected("a lambda variable after all(")
		}
		return link, p.next()
	}
	if p.tok.kind != tIdent || strings.Contains(p.tok.text, ".") {
		return nil, p.expected(`a lambda variable or ")"`)
	}
	p.vars = append(p.vars, p.tok.text)
	defer func() { p.vars = p.vars[:len(p.vars)-1] }()
	if err := p.next(); err != nil {
		return nil, err
	}
	if err := p.expect(":", " after the lambda variable"); err != nil {
		return nil, err
	}
	body, err := p.or()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")", " to close the lambda"); err != nil {
		return nil, err
	}
	if fn.name == "all" {
		link.Expr = &Not{Pos: body.Position(), X: body}
		return &Not{Pos: fn.pos, X: link}, nil
	}
	link.Expr = body
	return link, nil
}

var comparisons = map[string]Op{"eq": Eq, "ne": Ne, "gt": Gt, "ge": Ge, "lt": Lt, "le": Le}

// comparison parses what follows a column: an operator and a value, "in
// (…)", or nothing (a boolean column).
func (p *parser) comparison(col pathSeg) (Expr, *Error) {
	cond := &Cond{Pos: col.pos, Column: col.name}
	if p.tok.kind == tIdent {
		if op, ok := comparisons[p.tok.text]; ok {
			kw := p.tok.text
			if err := p.next(); err != nil {
				return nil, err
			}
			v, isNull, err := p.literal(fmt.Sprintf("a value after %q", kw))
			if err != nil {
				return nil, err
			}
			cond.Op, cond.Values = op, []any{v}
			if isNull {
				switch op {
				case Eq:
					cond.Op, cond.Values = Null, nil
				case Ne:
					cond.Op, cond.Values = NotNull, nil
				default:
					return nil, p.errorf(col.pos, "null can only be compared with eq or ne, not %q", kw)
				}
			}
			return cond, nil
		}
		if p.tok.text == "in" {
			if err := p.next(); err != nil {
				return nil, err
			}
			open, close := "(", ")"
			if p.isPunct("[") {
				open, close = "[", "]"
			}
			vs, err := p.list(open, close)
			if err != nil {
				return nil, err
			}
			cond.Op, cond.Values = In, vs
			return cond, nil
		}
	}
	cond.Op, cond.Values = Eq, []any{true}
	return cond, nil
}

// list parses open literal {, literal} close.
func (p *parser) list(open, close string) ([]any, *Error) {
	if !p.isPunct(open) {
		return nil, p.expected(`"(" or "[" after "in"`)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	vs := []any{}
	if p.isPunct(close) {
		return vs, p.next()
	}
	for {
		v, _, err := p.literal("a value in the list")
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		if p.isPunct(",") {
			if err := p.next(); err != nil {
				return nil, err
			}
			continue
		}
		return vs, p.expect(close, ` or "," in the list`)
	}
}

// literal parses one value; isNull reports null.
func (p *parser) literal(what string) (v any, isNull bool, err *Error) {
	switch p.tok.kind {
	case tString, tNumber, tTime, tGUID:
		v = p.tok.value
	case tIdent:
		switch p.tok.text {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			isNull = true
		default:
			return nil, false, p.expected(what)
		}
	default:
		return nil, false, p.expected(what)
	}
	return v, isNull, p.next()
}
