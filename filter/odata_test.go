package filter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/outposthq/outpost/filter"
)

// astOpts compares ASTs without positions, with nil and empty lists equal.
var astOpts = cmp.Options{cmpopts.IgnoreTypes(filter.Pos{}), cmpopts.EquateEmpty()}

func cond(col string, op filter.Op, vs ...any) *filter.Cond {
	return &filter.Cond{Column: col, Op: op, Values: vs}
}

func and(list ...filter.Expr) *filter.And { return &filter.And{List: list} }
func or(list ...filter.Expr) *filter.Or   { return &filter.Or{List: list} }
func not(x filter.Expr) *filter.Not       { return &filter.Not{X: x} }
func link(rel string, e filter.Expr) *filter.Link {
	return &filter.Link{Relationship: rel, Expr: e}
}
func nav(col string, e filter.Expr) *filter.Link {
	return &filter.Link{Relationship: col, Expr: e, Nav: true}
}

func mustParse(t *testing.T, src string) filter.Expr {
	t.Helper()
	e, err := filter.ParseOData(src)
	if err != nil {
		t.Fatalf("ParseOData(%q): %v", src, err)
	}
	return e
}

func TestParseOData(t *testing.T) {
	t.Parallel()
	day := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, src string
		want      filter.Expr
	}{
		{"eq string", "name eq 'O''Brien'", cond("name", filter.Eq, "O'Brien")},
		{"comparisons", "a ne 1 and b gt -2 and c ge 1.5 and d lt 1e3 and e le true",
			and(cond("a", filter.Ne, int64(1)), cond("b", filter.Gt, int64(-2)), cond("c", filter.Ge, 1.5), cond("d", filter.Lt, 1000.0), cond("e", filter.Le, true))},
		{"precedence", "a eq 1 or b eq 2 and not c eq 3",
			or(cond("a", filter.Eq, int64(1)), and(cond("b", filter.Eq, int64(2)), not(cond("c", filter.Eq, int64(3)))))},
		{"parentheses", "(a eq 1 or b eq 2) and c eq 3",
			and(or(cond("a", filter.Eq, int64(1)), cond("b", filter.Eq, int64(2))), cond("c", filter.Eq, int64(3)))},
		{"null", "a eq null and b ne null", and(cond("a", filter.Null), cond("b", filter.NotNull))},
		{"in", "a in ('x', 'y') or b in [1]", or(cond("a", filter.In, "x", "y"), cond("b", filter.In, int64(1)))},
		{"bare boolean", "not isdisabled", not(cond("isdisabled", filter.Eq, true))},
		{"consts", "true or false", or(&filter.Const{Value: true}, &filter.Const{Value: false})},
		{"text functions", "contains(name,'x') and startswith(name, 'y') and endswith(name,'z')",
			and(cond("name", filter.Contains, "x"), cond("name", filter.BeginsWith, "y"), cond("name", filter.EndsWith, "z"))},
		{"date", "d eq 2024-01-31", cond("d", filter.Eq, day)},
		{"datetime offset", "d eq 2024-01-31T02:00:00+02:00", cond("d", filter.Eq, day)},
		{"datetime fraction", "d lt 2024-01-31T00:00:00.250Z", cond("d", filter.Lt, day.Add(250*time.Millisecond))},
		{"guid", "id eq 6F1C2A9E-0B1D-4C8E-9A51-3F0E2D4B7C10", cond("id", filter.Eq, "6F1C2A9E-0B1D-4C8E-9A51-3F0E2D4B7C10")},
		{"nav", "primarycontactid/fullname eq 'x'", nav("primarycontactid", cond("fullname", filter.Eq, "x"))},
		{"nav twice", "a/b/c ne null", nav("a", nav("b", cond("c", filter.NotNull)))},
		{"any", "rel/any(x: x/col eq 'v' and x/a/b eq 1)",
			link("rel", and(cond("col", filter.Eq, "v"), nav("a", cond("b", filter.Eq, int64(1)))))},
		{"any empty", "rel/any()", link("rel", nil)},
		{"all", "rel/all(x: x/col eq 1)", not(link("rel", not(cond("col", filter.Eq, int64(1)))))},
		{"nested lambda", "a/any(x: x/b/any(y: contains(y/c,'z')))", link("a", link("b", cond("c", filter.Contains, "z")))},
		{"nav then any", "a/b/any()", nav("a", link("b", nil))},
		{"user function", "Microsoft.Dynamics.CRM.EqUserId(PropertyName='ownerid')", cond("ownerid", filter.EqUserID)},
		{"x days", "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)", cond("createdon", filter.LastXDays, int64(7))},
		{"in function", `Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["a","b\"c"])`, cond("x", filter.In, "a", `b"c`)},
		{"on", "Microsoft.Dynamics.CRM.On(PropertyName='d',PropertyValue='2024-01-31')", cond("d", filter.On, "2024-01-31")},
		{"function names ignore case", "microsoft.dynamics.crm.today(propertyname='d')", cond("d", filter.Today)},
		{"fetchxml alias", "Microsoft.Dynamics.CRM.DoesNotBeginWith(PropertyName='n',PropertyValue='a')", cond("n", filter.NotBeginWith, "a")},
		{"function nav path", "Microsoft.Dynamics.CRM.EqUserId(PropertyName='customerid/ownerid')", nav("customerid", cond("ownerid", filter.EqUserID))},
		{"function in lambda", "r/any(x: Microsoft.Dynamics.CRM.Today(PropertyName='x/d'))", link("r", cond("d", filter.Today))},
		{"whitespace and newlines", "a eq 1\n\tand\r\n b eq 2", and(cond("a", filter.Eq, int64(1)), cond("b", filter.Eq, int64(2)))},
		{"keywords as columns", "and eq 1", cond("and", filter.Eq, int64(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, tt.src)
			if diff := cmp.Diff(tt.want, got, astOpts); diff != "" {
				t.Errorf("ParseOData(%q) (-want +got):\n%s", tt.src, diff)
			}
			again := mustParse(t, filter.String(got))
			if diff := cmp.Diff(got, again, astOpts); diff != "" {
				t.Errorf("round trip through %q (-first +second):\n%s", filter.String(got), diff)
			}
		})
	}
}

func TestParseODataErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"missing value", "name eq 'x' and a eq )", `1:22: expected a value after "eq", found ")"`},
		{"empty", "", "1:1: expected a condition, found end of input"},
		{"dangling and", "a eq 1 and", "1:11: expected a condition, found end of input"},
		{"unclosed paren", "(a eq 1", `1:8: expected ")" to close the "(" at 1:1, found end of input`},
		{"junk after", "a eq 1 b", `1:8: expected "and", "or" or the end of the filter, found "b"`},
		{"unterminated string", "a eq 'x", "1:6: string not terminated: expected a closing ' before the end of input"},
		{"bad char", "a eq #", `1:6: unexpected character '#'`},
		{"null gt", "a gt null", `1:1: null can only be compared with eq or ne, not "gt"`},
		{"bad date", "a eq 2024-13-01", `1:6: invalid date or datetime "2024-13-01": use 2024-01-31 or 2024-01-31T08:00:00Z`},
		{"int overflow", "a eq 99999999999999999999", "1:6: integer 99999999999999999999 is out of range: use -9223372036854775808 to 9223372036854775807"},
		{"bad number", "a eq 12abc", `1:6: invalid number "12a"`},
		{"unknown function", "foo(a,'b')", `1:1: unknown function "foo" (use contains, startswith, endswith or a Microsoft.Dynamics.CRM.* query function)`},
		{"unknown query function", "Microsoft.Dynamics.CRM.Todya(PropertyName='d')", `1:1: unknown query function "Microsoft.Dynamics.CRM.Todya" (did you mean "Microsoft.Dynamics.CRM.Today"?)`},
		{"missing property name", "Microsoft.Dynamics.CRM.Today()", "1:30: Microsoft.Dynamics.CRM.Today needs a PropertyName parameter naming the column"},
		{"lambda without var", "r/any(x: col eq 1)", `1:10: expected "x/" before a column inside the lambda, found "col"`},
		{"column vs column", "a eq b", `1:6: expected a value after "eq", found "b"`},
		{"line and column", "a eq 1 and\n  b eq", "2:7: expected a value after \"eq\", found end of input"},
		{"too deep", strings.Repeat("(", 101) + "a eq 1" + strings.Repeat(")", 101), "1:101: filter is nested too deeply: at most 100 levels"},
		{"too long", "a eq '" + strings.Repeat("x", 8000) + "'", "1:1: filter is too long: 8007 characters, at most 8000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := filter.ParseOData(tt.src)
			if err == nil {
				t.Fatalf("ParseOData(%q) succeeded, want error %q", tt.src, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("ParseOData(%q) error:\n got: %s\nwant: %s", tt.src, got, tt.want)
			}
			if _, ok := err.(filter.ErrorList); !ok {
				t.Errorf("error is %T, want filter.ErrorList", err)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    filter.Expr
		want string
	}{
		{"empty and", and(), "true"},
		{"empty or", or(), "false"},
		{"nested and keeps structure", and(and(cond("a", filter.Eq, int64(1)), cond("b", filter.Eq, int64(2))), cond("c", filter.Eq, int64(3))),
			"(a eq 1 and b eq 2) and c eq 3"},
		{"float", cond("a", filter.Eq, 2.0), "a eq 2.0"},
		{"time", cond("a", filter.Gt, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), "a gt 2024-01-02T03:04:05Z"},
		{"not-in", cond("a", filter.NotIn, "x"), "Microsoft.Dynamics.CRM.NotIn(PropertyName='a',PropertyValues=['x'])"},
		{"keyword column", cond("true", filter.Eq, int64(1)), "Microsoft.Dynamics.CRM.Eq(PropertyName='true',PropertyValue=1)"},
		{"link", link("r", nav("c", cond("d", filter.Null))), "r/any(x1: x1/c/d eq null)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := filter.String(tt.e); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseOData(f *testing.F) {
	for _, s := range []string{
		"name eq 'O''Brien' and (revenue gt 5.5 or not contains(name,'x'))",
		"primarycontactid/fullname eq 'x' or a/b/c ne null",
		"rel/any(x: x/col eq 'v' and x/r2/all(y: y/d lt 2024-01-01T10:00:00Z))",
		"Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a',\"b\"])",
		"Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)",
		"Microsoft.Dynamics.CRM.EqUserId(PropertyName='true')",
		"id in (6f1c2a9e-0b1d-4c8e-9a51-3f0e2d4b7c10, 1, -2.5e-3, null, false)",
		"not not (true)", "a", "r/any()", "x eq 2024-02-29",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := filter.ParseOData(src)
		if err != nil {
			return
		}
		text := filter.String(e)
		again, err := filter.ParseOData(text)
		if err != nil {
			t.Fatalf("ParseOData(String(ParseOData(%q))) = ParseOData(%q): %v", src, text, err)
		}
		if diff := cmp.Diff(e, again, astOpts); diff != "" {
			t.Fatalf("round trip of %q through %q (-first +second):\n%s", src, text, diff)
		}
	})
}
