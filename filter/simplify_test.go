package filter_test

import (
	"testing"

	"github.com/outposthq/outpost/filter"
)

// TestSimplifyFoldsConstants checks each rule of Simplify, nested lists
// included, by the OData text of the result.
func TestSimplifyFoldsConstants(t *testing.T) {
	yes, no := &filter.Const{Value: true}, &filter.Const{Value: false}
	a, err := filter.ParseOData("name eq 'a'")
	if err != nil {
		t.Fatal(err)
	}
	b, err := filter.ParseOData("name eq 'b'")
	if err != nil {
		t.Fatal(err)
	}
	and := func(l ...filter.Expr) filter.Expr { return &filter.And{List: l} }
	or := func(l ...filter.Expr) filter.Expr { return &filter.Or{List: l} }
	for _, c := range []struct {
		name string
		in   filter.Expr
		want filter.Expr
	}{
		{"false member makes and false", and(a, no), no},
		{"true members drop out of and", and(yes, a, yes), a},
		{"empty and is true", and(yes, yes), yes},
		{"true member makes or true", or(a, yes), yes},
		{"false members drop out of or", or(no, a, b), or(a, b)},
		{"empty or is false", or(no), no},
		{"nested lists fold first", and(or(no, yes), or(a, no)), a},
		{"unreadable table in a plan", and(no, or(a, b)), no},
		{"other nodes stay", a, a},
	} {
		got := filter.Simplify(c.in)
		if filter.String(got) != filter.String(c.want) {
			t.Errorf("%s: Simplify(%s) = %s, want %s", c.name, filter.String(c.in), filter.String(got), filter.String(c.want))
		}
	}
	if !filter.IsConst(yes, true) || filter.IsConst(yes, false) || filter.IsConst(a, true) {
		t.Error("IsConst does not tell the constants apart")
	}
}
