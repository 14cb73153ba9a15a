package filter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
)

// convError is a value that does not suit its column.
type convError struct{ msg, hint string }

func convErrorf(hint, format string, args ...any) *convError {
	return &convError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// convert returns v as the Go type of col for operator op.
func convert(col *schema.Column, op Op, v any) (any, *convError) {
	if v == nil {
		return nil, convErrorf("use the null or not-null operator", "null is not a value")
	}
	switch op {
	case LastXDays, NextXDays, LastXWeeks, NextXWeeks, LastXMonths, NextXMonths, LastXYears, NextXYears:
		n, err := toInt(v)
		if err != nil || n < 1 || n > maxDateCount {
			return nil, convErrorf("", "expected a whole number from 1 to %d, got %s", maxDateCount, formatLiteral(v))
		}
		return n, nil
	case On, OnOrBefore, OnOrAfter:
		return toTime(v)
	case In, NotIn:
		// Dataverse documents PropertyValues as strings: '3' on a number
		// column is the number 3.
		if str, ok := v.(string); ok && numeric(col.Type) {
			if n, err := strconv.ParseInt(str, 10, 64); err == nil {
				v = n
			} else if f, err := strconv.ParseFloat(str, 64); err == nil {
				v = f
			}
		}
	}
	switch col.Type {
	case schema.Text, schema.Memo, schema.File, schema.Image:
		return toText(v)
	case schema.ID, schema.Lookup, schema.Owner:
		s, ok := v.(string)
		if !ok || !outpost.ValidID(s) {
			return nil, convErrorf("ids look like 6f1c2a9e-0b1d-4c8e-9a51-3f0e2d4b7c10", "expected an id, got %s", formatLiteral(v))
		}
		return strings.ToLower(s), nil
	case schema.Integer:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		return n, nil
	case schema.Choice:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		if !col.HasOption(n) {
			opts := make([]string, len(col.Options))
			for i, o := range col.Options {
				opts[i] = fmt.Sprintf("%d (%s)", o.Value, o.Label)
			}
			return nil, convErrorf("the options are "+strings.Join(opts, ", "), "%d is not an option", n)
		}
		return n, nil
	case schema.Decimal, schema.Money:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, convErrorf("", "expected a finite number, got %v", x)
			}
			return x, nil
		}
		return nil, convErrorf("", "expected a number, got %s", formatLiteral(v))
	case schema.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, convErrorf("", "expected true or false, got %s", formatLiteral(v))
		}
		return b, nil
	case schema.DateTime:
		return toTime(v)
	}
	return nil, convErrorf("", "column type %q has no values", col.Type)
}

func numeric(t schema.Type) bool {
	switch t {
	case schema.Integer, schema.Choice, schema.Decimal, schema.Money:
		return true
	}
	return false
}

func toText(v any) (any, *convError) {
	s, ok := v.(string)
	if !ok {
		return nil, convErrorf("quote text values", "expected text, got %s", formatLiteral(v))
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return nil, convErrorf("", "text must be valid UTF-8 without NUL characters")
	}
	return s, nil
}

func toInt(v any) (int64, *convError) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x), nil
		}
	}
	return 0, convErrorf("", "expected a whole number, got %s", formatLiteral(v))
}

func toTime(v any) (any, *convError) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			if t, err = time.Parse(time.DateOnly, x); err != nil {
				return nil, convErrorf("use 2024-01-31 or 2024-01-31T08:00:00Z", "expected a date or datetime, got %s", formatLiteral(v))
			}
		}
	default:
		return nil, convErrorf("use 2024-01-31 or 2024-01-31T08:00:00Z", "expected a date or datetime, got %s", formatLiteral(v))
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Year() < 1 || t.Year() > 9999 {
		return nil, convErrorf("", "datetime %s is outside the years 1 to 9999", t.Format(time.RFC3339))
	}
	return t, nil
}
