package filter_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// TestColumnOperatorsAreWhatCheckAccepts checks that every operator
// ColumnOperators offers on a column of account passes Check with a value of
// the stated arity, and that the user, business-unit and date operators go
// to the columns they belong to.
func TestColumnOperatorsAreWhatCheckAccepts(t *testing.T) {
	s := schema.BuiltIn()
	tb := s.MustTable("account")
	byCol := map[string]string{}
	for i := range tb.Columns {
		c := &tb.Columns[i]
		var names []string
		for _, o := range filter.ColumnOperators(tb, c) {
			names = append(names, string(o.Name))
			cond := fmt.Sprintf(`{"column":%q,"operator":%q}`, c.Name, o.Name)
			val := `"x"`
			switch c.Type {
			case schema.Integer, schema.Decimal, schema.Money, schema.Choice:
				val = "1"
			case schema.Boolean:
				val = "true"
			case schema.DateTime:
				val = `"2026-01-01T00:00:00Z"`
				if strings.Contains(string(o.Name), "-x-") {
					val = "3"
				}
			case schema.ID, schema.Lookup, schema.Owner:
				val = `"00000000-0000-0000-0000-000000000001"`
			}
			switch o.Values {
			case "one":
				cond = cond[:len(cond)-1] + `,"value":` + val + `}`
			case "many":
				cond = cond[:len(cond)-1] + `,"values":[` + val + `]}`
			}
			e, err := filter.ParseJSON([]byte(cond))
			if err == nil {
				_, err = filter.Check(s, "account", e, filter.CheckOptions{})
			}
			if err != nil {
				t.Errorf("%s: offered %s, but Check says %v", c.Name, cond, err)
			}
		}
		byCol[c.Name] = strings.Join(names, " ")
	}
	for col, want := range map[string]string{"ownerid": "eq-userid", "owningbusinessunit": "eq-businessid", "createdon": "last-x-days", "name": "begins-with"} {
		if !strings.Contains(" "+byCol[col]+" ", " "+want+" ") {
			t.Errorf("%s offers %q; want %s among them", col, byCol[col], want)
		}
	}
}
