package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxJSONSize is the largest JSON condition tree ParseJSON accepts, in bytes.
const MaxJSONSize = 256 << 10

// ParseJSON parses a JSON condition tree, the form offline profile custom
// filters are stored in:
//
//	{"and": [node, …]}        every node is true (true when empty)
//	{"or": [node, …]}         some node is true (false when empty)
//	{"not": node}
//	{"column": "statecode", "operator": "eq", "value": 0}
//	{"column": "statuscode", "operator": "in", "values": [1, 2]}
//	{"column": "ownerid", "operator": "eq-userid"}
//	{"link": "account_primarycontactid", "filter": node}
//	true, false
//
// A condition has "value" for operators that take one operand, "values" for
// in and not-in, and neither for null, not-null, the user-relative
// operators and today, this-month and the like. Operators are the Op names
// of contract §2; "value": null with eq or ne means null or not-null. A link
// names a relationship of the current table (or a lookup column, for its
// N:1 relationship) and is true when some related row matches its optional
// filter. Unknown keys, wrong shapes and unknown operators are errors; the
// error, if any, is an ErrorList whose Pos.Path names the node, as in
// "and[1].or[0]". Numbers without a fraction or exponent are int64, others
// float64; strings stay strings until Check converts them.
func ParseJSON(data []byte) (Expr, error) {
	if len(data) > MaxJSONSize {
		return nil, ErrorList{{Msg: fmt.Sprintf("filter is too large: %d bytes, at most %d", len(data), MaxJSONSize)}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the condition tree")
		}
	}
	if err != nil {
		return nil, ErrorList{{Msg: "invalid JSON: " + err.Error()}}
	}
	var errs ErrorList
	e := jsonNode(v, "", 0, &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return e, nil
}

// jsonObject is a decoded JSON object that remembers key order.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// readJSON decodes one value: jsonObject, []any, string, json.Number, bool or nil.
func readJSON(dec *json.Decoder, depth int) (any, error) {
	if depth > MaxDepth+2 {
		return nil, fmt.Errorf("nested too deeply: at most %d levels", MaxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := jsonObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string) // the decoder only yields string keys
			if _, dup := obj.vals[k]; dup {
				return nil, fmt.Errorf("key %q appears twice in one object", k)
			}
			v, err := readJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj.keys = append(obj.keys, k)
			obj.vals[k] = v
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := readJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token()
		return list, err
	}
	return tok, nil
}

func jsonPath(base, elem string) string {
	if base == "" {
		return elem
	}
	return base + "." + elem
}

func describeJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case jsonObject:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprintf("%T", v)
}

// nodeKinds are the keys that decide what kind of node an object is.
var nodeKinds = []string{"and", "or", "not", "column", "link"}

var nodeKeys = map[string][]string{
	"and": {"and"}, "or": {"or"}, "not": {"not"},
	"column": {"column", "operator", "value", "values"},
	"link":   {"link", "filter"},
}

func jsonNode(v any, path string, depth int, errs *ErrorList) Expr {
	pos := Pos{Path: path}
	if depth > MaxDepth {
		errs.add(pos, "", "", "filter is nested too deeply: at most %d levels", MaxDepth)
		return nil
	}
	if b, ok := v.(bool); ok {
		return &Const{Pos: pos, Value: b}
	}
	obj, ok := v.(jsonObject)
	if !ok {
		errs.add(pos, "", `write {"and":[…]}, {"or":[…]}, {"not":…}, {"column":…,"operator":…}, {"link":…} or true/false`, "expected a condition object, found %s", describeJSON(v))
		return nil
	}
	var kind string
	for _, k := range nodeKinds {
		if _, has := obj.vals[k]; has {
			if kind != "" {
				errs.add(pos, "", "", "a node has either %q or %q, not both", kind, k)
				return nil
			}
			kind = k
		}
	}
	if kind == "" {
		hint := ""
		if len(obj.keys) > 0 {
			hint = didYouMean(obj.keys[0], []string{"and", "or", "not", "column", "link"})
		}
		errs.add(pos, "", hint, `expected a key "and", "or", "not", "column" or "link", found %s`, keysOf(obj))
		return nil
	}
	bad := false
	for _, k := range obj.keys {
		if !contains(nodeKeys[kind], k) {
			errs.add(Pos{Path: jsonPath(path, k)}, "", didYouMean(k, nodeKeys[kind]), "unknown key %q in a %q node", k, kind)
			bad = true
		}
	}
	if bad {
		return nil
	}
	switch kind {
	case "and", "or":
		list, ok := obj.vals[kind].([]any)
		if !ok {
			errs.add(Pos{Path: jsonPath(path, kind)}, "", "", "%q must be an array of conditions, found %s", kind, describeJSON(obj.vals[kind]))
			return nil
		}
		out := make([]Expr, len(list))
		for i, x := range list {
			out[i] = jsonNode(x, jsonPath(path, fmt.Sprintf("%s[%d]", kind, i)), depth+1, errs)
		}
		if kind == "and" {
			return &And{Pos: pos, List: out}
		}
		return &Or{Pos: pos, List: out}
	case "not":
		return &Not{Pos: pos, X: jsonNode(obj.vals["not"], jsonPath(path, "not"), depth+1, errs)}
	case "link":
		name, ok := obj.vals["link"].(string)
		if !ok || name == "" {
			errs.add(Pos{Path: jsonPath(path, "link")}, "", "", `"link" must name a relationship, found %s`, describeJSON(obj.vals["link"]))
			return nil
		}
		l := &Link{Pos: pos, Relationship: name}
		if f, has := obj.vals["filter"]; has && f != nil {
			l.Expr = jsonNode(f, jsonPath(path, "filter"), depth+1, errs)
		}
		return l
	}
	return jsonCond(obj, pos, errs)
}

func keysOf(obj jsonObject) string {
	if len(obj.keys) == 0 {
		return "an empty object"
	}
	q := make([]string, len(obj.keys))
	for i, k := range obj.keys {
		q[i] = strconv.Quote(k)
	}
	return "keys " + strings.Join(q, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonCond(obj jsonObject, pos Pos, errs *ErrorList) Expr {
	path := pos.Path
	col, ok := obj.vals["column"].(string)
	if !ok || col == "" {
		errs.add(Pos{Path: jsonPath(path, "column")}, "", "", `"column" must be a column name, found %s`, describeJSON(obj.vals["column"]))
		return nil
	}
	opName, ok := obj.vals["operator"].(string)
	if !ok {
		errs.add(Pos{Path: jsonPath(path, "operator")}, col, "", `"operator" must be an operator name, found %s`, describeJSON(obj.vals["operator"]))
		return nil
	}
	op := Op(opName)
	info, ok := ops[op]
	if !ok {
		names := make([]string, 0, len(ops))
		for _, o := range Ops() {
			names = append(names, string(o))
		}
		errs.add(Pos{Path: jsonPath(path, "operator")}, col, didYouMean(opName, names), "unknown operator %q", opName)
		return nil
	}
	c := &Cond{Pos: pos, Column: col, Op: op}
	value, hasValue := obj.vals["value"]
	values, hasValues := obj.vals["values"]
	switch {
	case info.arity == noValue && (hasValue || hasValues):
		errs.add(pos, col, "", "operator %q takes no value", op)
	case info.arity == oneValue && hasValues:
		errs.add(Pos{Path: jsonPath(path, "values")}, col, `use "value"`, `operator %q takes one value, not "values"`, op)
	case info.arity == anyValue && hasValue:
		errs.add(Pos{Path: jsonPath(path, "value")}, col, `use "values"`, `operator %q takes "values", not "value"`, op)
	case info.arity == oneValue && !hasValue:
		errs.add(pos, col, "", `operator %q needs "value"`, op)
	case info.arity == anyValue && !hasValues:
		errs.add(pos, col, "", `operator %q needs "values": […]`, op)
	case hasValue:
		if value == nil && (op == Eq || op == Ne) {
			c.Op = map[Op]Op{Eq: Null, Ne: NotNull}[op]
			return c
		}
		v, err := jsonScalar(value)
		if err != nil {
			errs.add(Pos{Path: jsonPath(path, "value")}, col, "", "%s", err)
			return nil
		}
		c.Values = []any{v}
	case hasValues:
		list, ok := values.([]any)
		if !ok {
			errs.add(Pos{Path: jsonPath(path, "values")}, col, "", `"values" must be an array, found %s`, describeJSON(values))
			return nil
		}
		c.Values = make([]any, len(list))
		for i, x := range list {
			v, err := jsonScalar(x)
			if err != nil {
				errs.add(Pos{Path: jsonPath(path, fmt.Sprintf("values[%d]", i))}, col, "", "%s", err)
				continue
			}
			c.Values[i] = v
		}
	}
	return c
}

// jsonScalar converts a JSON scalar to a Cond value.
func jsonScalar(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case json.Number:
		s := v.String()
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, fmt.Errorf("number %s is out of range", s)
			}
			return f, nil
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %s is out of range: use -9223372036854775808 to 9223372036854775807", s)
		}
		return i, nil
	}
	return nil, fmt.Errorf("a value must be a string, number, true, false or null, found %s", describeJSON(v))
}

// ToJSON returns the JSON condition tree of e, the form ParseJSON reads.
// Times are written as RFC 3339 strings in UTC. A Nav link is written as a
// link naming its lookup column.
func ToJSON(e Expr) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, e Expr) error {
	switch x := e.(type) {
	case *And:
		return writeJSONList(buf, "and", x.List)
	case *Or:
		return writeJSONList(buf, "or", x.List)
	case *Not:
		buf.WriteString(`{"not":`)
		if err := writeJSON(buf, x.X); err != nil {
			return err
		}
		buf.WriteString("}")
	case *Const:
		buf.WriteString(strconv.FormatBool(x.Value))
	case *Link:
		buf.WriteString(`{"link":`)
		writeJSONString(buf, x.Relationship)
		if x.Expr != nil {
			buf.WriteString(`,"filter":`)
			if err := writeJSON(buf, x.Expr); err != nil {
				return err
			}
		}
		buf.WriteString("}")
	case *Cond:
		return writeJSONCond(buf, x)
	default:
		return fmt.Errorf("cannot write %T as a JSON condition", e)
	}
	return nil
}

func writeJSONList(buf *bytes.Buffer, key string, list []Expr) error {
	buf.WriteString(`{"` + key + `":[`)
	for i, x := range list {
		if i > 0 {
			buf.WriteString(",")
		}
		if err := writeJSON(buf, x); err != nil {
			return err
		}
	}
	buf.WriteString("]}")
	return nil
}

func writeJSONCond(buf *bytes.Buffer, c *Cond) error {
	buf.WriteString(`{"column":`)
	writeJSONString(buf, c.Column)
	buf.WriteString(`,"operator":`)
	writeJSONString(buf, string(c.Op))
	info := ops[c.Op]
	switch {
	case info.arity == oneValue && len(c.Values) == 1:
		buf.WriteString(`,"value":`)
		if err := writeJSONScalar(buf, c.Values[0]); err != nil {
			return err
		}
	case len(c.Values) > 0 || info.arity == anyValue:
		buf.WriteString(`,"values":[`)
		for i, v := range c.Values {
			if i > 0 {
				buf.WriteString(",")
			}
			if err := writeJSONScalar(buf, v); err != nil {
				return err
			}
		}
		buf.WriteString("]")
	}
	buf.WriteString("}")
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}

func writeJSONScalar(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		writeJSONString(buf, v)
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case int:
		buf.WriteString(strconv.Itoa(v))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("cannot write %v in JSON", v)
		}
		buf.WriteString(formatFloat(v))
	case time.Time:
		writeJSONString(buf, v.UTC().Format(time.RFC3339Nano))
	default:
		return fmt.Errorf("cannot write a %T value in JSON", v)
	}
	return nil
}
