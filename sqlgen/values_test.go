package sqlgen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/schema"
)

// TestDecodeStoredValues checks the decoders on what each engine's driver
// scans for a column of each type: both engines' forms of one value decode
// to the same wire and Go values.
func TestDecodeStoredValues(t *testing.T) {
	at := time.Date(2026, 1, 31, 14, 0, 0, 500e6, time.UTC)
	east := at.In(time.FixedZone("UTC+2", 2*3600))
	for _, c := range []struct {
		typ        schema.Type
		stored     []any // as PostgreSQL and SQLite drivers may scan it
		wire, goes any
	}{
		{schema.Boolean, []any{true, int64(1)}, true, true},
		{schema.Boolean, []any{false, int64(0)}, false, false},
		{schema.DateTime, []any{east, "2026-01-31T14:00:00.500Z", []byte("2026-01-31T14:00:00.500Z")}, "2026-01-31T14:00:00.500Z", at},
		{schema.DateTime, []any{"2026-01-31"}, "2026-01-31", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{schema.DateTime, []any{"soon"}, "soon", "soon"},
		{schema.Integer, []any{int64(7), float64(7)}, int64(7), int64(7)},
		{schema.Choice, []any{int64(2), float64(2)}, int64(2), int64(2)},
		{schema.Decimal, []any{2.0, int64(2)}, 2.0, 2.0},
		{schema.Money, []any{1.5}, 1.5, 1.5},
		{schema.Text, []any{"é", []byte("é")}, "é", "é"},
		{schema.Text, []any{nil}, nil, nil},
		{schema.DateTime, []any{nil}, nil, nil},
	} {
		for _, v := range c.stored {
			w, g := WireValue(c.typ, v), GoValue(c.typ, v)
			if diff := cmp.Diff(c.wire, w); diff != "" {
				t.Errorf("WireValue(%s, %#v) (-want +got):\n%s", c.typ, v, diff)
			}
			if diff := cmp.Diff(c.goes, g); diff != "" {
				t.Errorf("GoValue(%s, %#v) (-want +got):\n%s", c.typ, v, diff)
			}
		}
	}
}

// TestArgRoundTrips checks that a Go value bound with Arg decodes back to
// itself with GoValue on both engines.
func TestArgRoundTrips(t *testing.T) {
	at := time.Date(2026, 1, 31, 14, 0, 0, 500e6, time.UTC)
	for _, d := range []Dialect{SQLite, Postgres} {
		for _, c := range []struct {
			typ schema.Type
			v   any
		}{{schema.DateTime, at}, {schema.Boolean, true}, {schema.Boolean, false}, {schema.Integer, int64(3)}, {schema.Text, "x"}} {
			if got := GoValue(c.typ, d.Arg(c.v)); !cmp.Equal(got, c.v) {
				t.Errorf("%s: GoValue(Arg(%#v)) = %#v", d.Name(), c.v, got)
			}
		}
	}
}

// TestPlaceholderListsAndSelectLists checks the list writers on both dialects.
func TestPlaceholderListsAndSelectLists(t *testing.T) {
	for _, c := range []struct {
		d        Dialect
		from, n  int
		want     string
		alias    string
		cols     []string
		wantCols string
	}{
		{SQLite, 2, 3, "?, ?, ?", "t0", []string{"a", `b"c`}, `t0."a", t0."b""c"`},
		{Postgres, 2, 3, "$2, $3, $4", "", []string{"a", "b"}, `"a", "b"`},
		{Postgres, 1, 0, "", "t0", nil, ""},
	} {
		if got := c.d.Placeholders(c.from, c.n); got != c.want {
			t.Errorf("%s: Placeholders(%d, %d) = %q, want %q", c.d.Name(), c.from, c.n, got, c.want)
		}
		if got := NewBuilder(c.d).Cols(c.alias, c.cols).String(); got != c.wantCols {
			t.Errorf("%s: Cols(%q, %q) = %q, want %q", c.d.Name(), c.alias, c.cols, got, c.wantCols)
		}
	}
}
