package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outposthq/outpost"
)

// ConvertValue checks a JSON-decoded value (decoded with UseNumber) against
// column c and returns its Go value: string, int64, float64, bool, time.Time
// or nil.
func ConvertValue(t *Table, c *Column, v any) (any, error) {
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
	case Text, Memo:
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
	case Integer, Choice:
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
		if c.Type == Choice && !c.HasOption(n) {
			return nil, outpost.Invalidf("column %q of table %q: %d is not one of its options (%s)", c.Name, t.Name, n, optionList(c)).WithTarget(target)
		}
		return n, nil
	case Decimal, Money:
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
	case Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad("true or false")
		}
		return b, nil
	case DateTime:
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
	case Lookup, Owner, ID, File, Image:
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

func optionList(c *Column) string {
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

// CheckRequired refuses a new row of t that leaves a required column (other
// than the ones Outpost maintains) unset or null; row holds the values given.
func CheckRequired(t *Table, row map[string]any) error {
	for _, c := range t.Columns {
		if c.Required && !c.System {
			if v, ok := row[c.Name]; !ok || v == nil {
				return outpost.Invalidf("column %q of table %q is required", c.Name, t.Name).WithTarget(c.Name)
			}
		}
	}
	return nil
}
