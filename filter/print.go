package filter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// String prints e as OData $filter text that ParseOData accepts. For every
// Expr that ParseOData returns, ParseOData(String(e)) equals e apart from
// positions (and nil versus empty operand lists). Other trees print with the
// same meaning where OData can say it: an empty And prints as true, an empty
// Or as false, and one-element lists as their element.
func String(e Expr) string {
	var p printer
	p.expr(e, "", 0)
	return p.sb.String()
}

type printer struct {
	sb strings.Builder
}

func (p *printer) expr(e Expr, prefix string, lambdas int) {
	switch x := e.(type) {
	case *And:
		p.list(x.List, " and ", "true", prefix, lambdas)
	case *Or:
		p.list(x.List, " or ", "false", prefix, lambdas)
	case *Not:
		if x == nil {
			p.sb.WriteString("false")
			return
		}
		p.sb.WriteString("not (")
		p.expr(x.X, prefix, lambdas)
		p.sb.WriteString(")")
	case *Const:
		p.sb.WriteString(strconv.FormatBool(x != nil && x.Value))
	case *Cond:
		if x == nil {
			p.sb.WriteString("false")
			return
		}
		p.cond(x, prefix)
	case *Link:
		if x == nil {
			p.sb.WriteString("false")
			return
		}
		p.link(x, prefix, lambdas)
	default:
		p.sb.WriteString("false")
	}
}

func (p *printer) list(list []Expr, sep, empty, prefix string, lambdas int) {
	switch len(list) {
	case 0:
		p.sb.WriteString(empty)
		return
	case 1:
		p.expr(list[0], prefix, lambdas)
		return
	}
	for i, x := range list {
		if i > 0 {
			p.sb.WriteString(sep)
		}
		_, isAnd := x.(*And)
		_, isOr := x.(*Or)
		if isAnd || isOr {
			p.sb.WriteString("(")
			p.expr(x, prefix, lambdas)
			p.sb.WriteString(")")
		} else {
			p.expr(x, prefix, lambdas)
		}
	}
}

func (p *printer) link(x *Link, prefix string, lambdas int) {
	if x.Nav {
		switch inner := x.Expr.(type) {
		case *Cond:
			p.expr(inner, prefix+x.Relationship+"/", lambdas)
			return
		case *Link:
			if inner != nil {
				p.expr(inner, prefix+x.Relationship+"/", lambdas)
				return
			}
		}
	}
	p.sb.WriteString(prefix + x.Relationship + "/any(")
	if x.Expr != nil {
		v := "x" + strconv.Itoa(lambdas+1)
		p.sb.WriteString(v + ": ")
		p.expr(x.Expr, v+"/", lambdas+1)
	}
	p.sb.WriteString(")")
}

var odataOps = map[Op]string{Eq: "eq", Ne: "ne", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le"}

var odataFuncs = map[Op]string{Contains: "contains", BeginsWith: "startswith", EndsWith: "endswith"}

func (p *printer) cond(x *Cond, prefix string) {
	path := prefix + x.Column
	n := len(x.Values)
	if first, _, _ := strings.Cut(path, "/"); first == "true" || first == "false" || first == "not" {
		// A keyword cannot start a condition: only the function form can name it.
		p.function(x, path)
		return
	}
	if kw, ok := odataOps[x.Op]; ok && n == 1 {
		p.sb.WriteString(path + " " + kw + " ")
		p.literal(x.Values[0])
		return
	}
	if fn, ok := odataFuncs[x.Op]; ok && n == 1 && x.Values[0] != nil {
		p.sb.WriteString(fn + "(" + path + ",")
		p.literal(x.Values[0])
		p.sb.WriteString(")")
		return
	}
	switch {
	case x.Op == Null && n == 0:
		p.sb.WriteString(path + " eq null")
		return
	case x.Op == NotNull && n == 0:
		p.sb.WriteString(path + " ne null")
		return
	case x.Op == In:
		p.sb.WriteString(path + " in (")
		p.literals(x.Values)
		p.sb.WriteString(")")
		return
	}
	p.function(x, path)
}

// function prints x as a Microsoft.Dynamics.CRM query function call.
func (p *printer) function(x *Cond, path string) {
	n := len(x.Values)
	fn := string(x.Op)
	if info, ok := ops[x.Op]; ok {
		fn = info.fn
	}
	p.sb.WriteString(dataverseNS + fn + "(PropertyName=")
	p.literal(path)
	switch {
	case x.Op == NotIn || n > 1:
		p.sb.WriteString(",PropertyValues=[")
		p.literals(x.Values)
		p.sb.WriteString("]")
	case n == 1:
		p.sb.WriteString(",PropertyValue=")
		p.literal(x.Values[0])
	}
	p.sb.WriteString(")")
}

func (p *printer) literals(vs []any) {
	for i, v := range vs {
		if i > 0 {
			p.sb.WriteString(",")
		}
		p.literal(v)
	}
}

func (p *printer) literal(v any) {
	p.sb.WriteString(formatLiteral(v))
}

// formatLiteral returns the OData text of a value: 'text' with quotes doubled,
// numbers, true, false, null, and times in UTC (a date when at midnight).
func formatLiteral(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return formatFloat(v)
	case time.Time:
		u := v.UTC()
		if u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0 {
			return u.Format(time.DateOnly)
		}
		return u.Format(time.RFC3339Nano)
	}
	return formatLiteral(fmt.Sprint(v))
}

// formatFloat formats f so that it reads back as a float, not an integer.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}
