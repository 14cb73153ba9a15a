package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// textFuncs are the OData string functions.
var textFuncs = map[string]Op{"contains": Contains, "startswith": BeginsWith, "endswith": EndsWith}

// call parses a function call whose name (at pos) was read; p.tok is "(".
func (p *parser) call(name string, pos Pos) (Expr, *Error) {
	if op, ok := textFuncs[strings.ToLower(name)]; ok {
		return p.textCall(op, name)
	}
	if len(name) > len(dataverseNS) && strings.EqualFold(name[:len(dataverseNS)], dataverseNS) {
		fn := name[len(dataverseNS):]
		op, ok := opByFunc(fn)
		if !ok {
			hint := ""
			if best := closest(fn, funcNames()); best != "" {
				hint = fmt.Sprintf("did you mean %q?", dataverseNS+best)
			}
			return nil, &Error{Pos: pos, Msg: fmt.Sprintf("unknown query function %q", name), Hint: hint}
		}
		return p.queryCall(op, name)
	}
	hint := "use contains, startswith, endswith or a " + dataverseNS + "* query function"
	return nil, &Error{Pos: pos, Msg: fmt.Sprintf("unknown function %q", name), Hint: hint}
}

func funcNames() []string {
	var names []string
	for _, info := range ops {
		names = append(names, info.fn)
	}
	return names
}

// textCall parses "(path, 'value')" of contains, startswith or endswith.
func (p *parser) textCall(op Op, name string) (Expr, *Error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	segs, err := p.path(fmt.Sprintf("a column as the first argument of %s", name))
	if err != nil {
		return nil, err
	}
	if err := p.expect(",", fmt.Sprintf(" after the column in %s", name)); err != nil {
		return nil, err
	}
	v, isNull, err := p.literal(fmt.Sprintf("a value as the second argument of %s", name))
	if err != nil {
		return nil, err
	}
	if isNull {
		return nil, p.errorf(segs[len(segs)-1].pos, "%s needs a text value, not null", name)
	}
	if err := p.expect(")", fmt.Sprintf(" to close %s", name)); err != nil {
		return nil, err
	}
	col := segs[len(segs)-1]
	return wrapNav(segs[:len(segs)-1], &Cond{Pos: col.pos, Column: col.name, Op: op, Values: []any{v}}), nil
}

// path parses a member path that ends in a column and strips the lambda variable.
func (p *parser) path(what string) ([]pathSeg, *Error) {
	var segs []pathSeg
	for {
		if p.tok.kind != tIdent {
			return nil, p.expected(what)
		}
		segs = append(segs, pathSeg{p.tok.text, p.tok.pos})
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.isPunct("/") {
			break
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	segs, err := p.unprefix(segs)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, p.expected(what)
	}
	return segs, nil
}

// queryCall parses the parameters of a Microsoft.Dynamics.CRM query function.
func (p *parser) queryCall(op Op, name string) (Expr, *Error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	var segs []pathSeg
	var values []any
	seen := map[string]bool{}
	for !p.isPunct(")") {
		if len(seen) > 0 {
			if err := p.expect(",", " or \")\" between parameters"); err != nil {
				return nil, err
			}
		}
		if p.tok.kind != tIdent {
			return nil, p.expected("PropertyName, PropertyValue or PropertyValues")
		}
		param, ppos := strings.ToLower(p.tok.text), p.tok.pos
		if param != "propertyname" && param != "propertyvalue" && param != "propertyvalues" {
			return nil, p.expected("PropertyName, PropertyValue or PropertyValues")
		}
		if seen[param] || param != "propertyname" && (seen["propertyvalue"] || seen["propertyvalues"]) {
			return nil, p.errorf(ppos, "%s: parameter %s is given twice or with the other value parameter", name, p.tok.text)
		}
		seen[param] = true
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.expect("=", " after "+param); err != nil {
			return nil, err
		}
		var err *Error
		switch param {
		case "propertyname":
			segs, err = p.propertyName()
		case "propertyvalue":
			var v any
			v, _, err = p.literal("a value after PropertyValue=")
			values = []any{v}
		default:
			values, err = p.list("[", "]")
		}
		if err != nil {
			return nil, err
		}
	}
	if segs == nil {
		return nil, p.errorf(p.tok.pos, "%s needs a PropertyName parameter naming the column", name)
	}
	if err := p.next(); err != nil { // ")"
		return nil, err
	}
	col := segs[len(segs)-1]
	return wrapNav(segs[:len(segs)-1], &Cond{Pos: col.pos, Column: col.name, Op: op, Values: values}), nil
}

// propertyName parses the 'path' string of PropertyName.
func (p *parser) propertyName() ([]pathSeg, *Error) {
	if p.tok.kind != tString {
		return nil, p.expected("a quoted column name after PropertyName=")
	}
	s, pos := p.tok.value.(string), p.tok.pos
	var segs []pathSeg
	col := pos.Col + 1
	for _, name := range strings.Split(s, "/") {
		segPos := Pos{Line: pos.Line, Col: col}
		if !validIdent(name) {
			return nil, p.errorf(segPos, "expected a column name in PropertyName, found %q", name)
		}
		segs = append(segs, pathSeg{name, segPos})
		col += utf8.RuneCountInString(name) + 1
	}
	segs, err := p.unprefix(segs)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, p.errorf(pos, "expected a column after %q in PropertyName", s)
	}
	return segs, p.next()
}

func validIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) || s[i] == '.' {
			return false
		}
	}
	return true
}
