package platform

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

// timeLayout is how datetimes travel in JSON: RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// ConvertValue checks a JSON-decoded value (decoded with UseNumber) against
// column c and returns its Go value: string, int64, float64, bool, time.Time
// or nil.
func ConvertValue(t *schema.Table, c *schema.Column, v any) (any, error) {
	target := c.Name
	bad := func(want string) error {
		return outpost.Invalidf("column %q of table %q takes %s, got %s", c.Name, t.Name, want, describe(v)).WithTarget(target)
	}
	if v == nil {
		if c.Required {
			return nil, outpost.Invalidf("column %q of table %q is required and cannot be null", c.Name, t.Name).WithTarget(target)
		}
		return nil, nil
	}
	switch c.Type {
	case schema.Text, schema.Memo:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a string")
		}
		if !utf8.ValidString(s) {
			return nil, bad("valid UTF-8 text")
		}
		if outpost.HasNUL(s) {
			return nil, outpost.Invalidf("column %q of table %q holds a NUL character (U+0000), which is not accepted in text", c.Name, t.Name).WithTarget(target)
		}
		if n := utf8.RuneCountInString(s); n > c.Limit() {
			return nil, outpost.Invalidf("column %q of table %q takes at most %d characters, got %d", c.Name, t.Name, c.Limit(), n).WithTarget(target)
		}
		return s, nil
	case schema.Integer, schema.Choice:
		var n int64
		switch x := v.(type) {
		case json.Number:
			i, err := x.Int64()
			if err != nil {
				return nil, bad("a whole number")
			}
			n = i
		case int64:
			n = x
		case int:
			n = int64(x)
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return nil, bad("a whole number")
			}
			n = int64(x)
		default:
			return nil, bad("a whole number")
		}
		if c.Type == schema.Choice && !c.HasOption(n) {
			return nil, outpost.Invalidf("column %q of table %q: %d is not one of its options (%s)", c.Name, t.Name, n, optionList(c)).WithTarget(target)
		}
		return n, nil
	case schema.Decimal, schema.Money:
		var f float64
		switch x := v.(type) {
		case json.Number:
			g, err := x.Float64()
			if err != nil {
				return nil, bad("a number")
			}
			f = g
		case float64:
			f = x
		case int64:
			f = float64(x)
		case int:
			f = float64(x)
		default:
			return nil, bad("a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("a finite number")
		}
		return f, nil
	case schema.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad("true or false")
		}
		return b, nil
	case schema.DateTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Truncate(time.Millisecond), nil
		case string:
			tm, err := ParseTime(x)
			if err != nil {
				return nil, bad("a date and time in RFC 3339 form such as 2026-01-31T14:00:00Z")
			}
			return tm, nil
		}
		return nil, bad("a date and time in RFC 3339 form such as 2026-01-31T14:00:00Z")
	case schema.Lookup, schema.Owner, schema.ID, schema.File, schema.Image:
		s, ok := v.(string)
		if !ok || !outpost.ValidID(s) {
			return nil, bad("a row id (a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301)")
		}
		return strings.ToLower(s), nil
	}
	return nil, bad("a supported value")
}

// ParseTime parses an RFC 3339 datetime or a plain date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a datetime: %q", s)
}

func optionList(c *schema.Column) string {
	parts := make([]string, len(c.Options))
	for i, o := range c.Options {
		parts[i] = fmt.Sprintf("%d %s", o.Value, o.Label)
	}
	return strings.Join(parts, ", ")
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("%t", x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// arg returns the bind value of a Go column value in dialect d.
func arg(d sqlgen.Dialect, v any) any {
	switch x := v.(type) {
	case time.Time:
		return d.TimeArg(x)
	case bool:
		return d.BoolArg(x)
	}
	return v
}

// scanValue normalises a value scanned from the database to the Go type of
// column type t.
func scanValue(t schema.Type, v any) any {
	if v == nil {
		return nil
	}
	switch t {
	case schema.Boolean:
		switch x := v.(type) {
		case int64:
			return x != 0
		case bool:
			return x
		}
	case schema.DateTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC()
		case string:
			if tm, err := time.Parse(sqlgen.TimeFormat, x); err == nil {
				return tm
			}
			if tm, err := ParseTime(x); err == nil {
				return tm
			}
		}
	case schema.Integer, schema.Choice:
		switch x := v.(type) {
		case float64:
			return int64(x)
		case []byte:
			return string(x)
		}
	case schema.Decimal, schema.Money:
		switch x := v.(type) {
		case int64:
			return float64(x)
		}
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// JSONRow renders a row for the API: datetimes in RFC 3339 UTC.
func JSONRow(r outpost.Row) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if tm, ok := v.(time.Time); ok {
			out[k] = tm.UTC().Format(timeLayout)
			continue
		}
		out[k] = v
	}
	return out
}
