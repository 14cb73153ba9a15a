package sqlgen

import (
	"time"

	"github.com/outposthq/outpost/schema"
)

// The stored form of a value differs by engine (ColumnType): PostgreSQL
// scans booleans as bool and datetimes as time.Time, SQLite booleans as
// int64 and datetimes as TimeFormat text; either driver may hand text back
// as []byte, a whole number of a REAL column as int64 and a number of a
// BIGINT column as float64. The two decoders below undo that once for every
// reader: WireValue for sync and the device store, whose rows travel with
// datetimes as TimeFormat text, and GoValue for the platform's API, whose
// rows carry datetimes as time.Time.

// Arg returns the bind value of a Go column value in d: datetimes and
// booleans in the engine's stored form (TimeArg, BoolArg), others as they are.
func (d Dialect) Arg(v any) any {
	switch x := v.(type) {
	case time.Time:
		return d.TimeArg(x)
	case bool:
		return d.BoolArg(x)
	}
	return v
}

// WireValue decodes v, scanned from a column of type t on either engine,
// into its wire form: text as string, booleans as bool, integers and
// choices as int64, decimals and money as float64, and datetimes as
// TimeFormat text in UTC. NULL stays nil.
func WireValue(t schema.Type, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if v == nil {
		return nil
	}
	switch t {
	case schema.DateTime:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC().Format(TimeFormat)
		}
	case schema.Boolean:
		switch x := v.(type) {
		case int64:
			return x != 0
		case bool:
			return x
		}
	case schema.Integer, schema.Choice:
		if f, ok := v.(float64); ok {
			return int64(f)
		}
	case schema.Decimal, schema.Money:
		if n, ok := v.(int64); ok {
			return float64(n)
		}
	}
	return v
}

// GoValue decodes v as WireValue does, except that a datetime becomes a
// time.Time in UTC (stored text is read as TimeFormat, or failing that as
// schema.ParseTime reads it; text that is neither stays text).
func GoValue(t schema.Type, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if t == schema.DateTime {
		switch x := v.(type) {
		case time.Time:
			return x.UTC()
		case string:
			if tm, err := time.Parse(TimeFormat, x); err == nil {
				return tm
			}
			if tm, err := schema.ParseTime(x); err == nil {
				return tm
			}
		}
	}
	return WireValue(t, v)
}

// TimeValue reads a stored timestamp in whichever form the engine returns
// it (time, text or bytes); the zero time for NULL or anything else.
func TimeValue(v any) time.Time {
	t, _ := GoValue(schema.DateTime, v).(time.Time)
	return t.UTC()
}
