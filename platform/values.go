package platform

import (
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

// timeLayout is how datetimes travel in JSON: RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// ConvertValue checks a JSON-decoded value (decoded with UseNumber) against
// column c and returns its Go value; the rules are schema.ConvertValue's,
// which the device library applies to offline edits too.
func ConvertValue(t *schema.Table, c *schema.Column, v any) (any, error) {
	return schema.ConvertValue(t, c, v)
}

// ParseTime parses an RFC 3339 datetime or a plain date (midnight UTC).
func ParseTime(s string) (time.Time, error) { return schema.ParseTime(s) }

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
