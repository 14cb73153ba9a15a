package platform

import (
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
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
