package filter_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/filter"
)

func TestParseJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      filter.Expr
	}{
		{"condition", `{"column":"statecode","operator":"eq","value":0}`, cond("statecode", filter.Eq, int64(0))},
		{"float", `{"column":"amount","operator":"gt","value":1.5}`, cond("amount", filter.Gt, 1.5)},
		{"values", `{"column":"statuscode","operator":"in","values":[1,"2",true]}`, cond("statuscode", filter.In, int64(1), "2", true)},
		{"no value", `{"column":"ownerid","operator":"eq-userid"}`, cond("ownerid", filter.EqUserID)},
		{"eq null", `{"column":"a","operator":"eq","value":null}`, cond("a", filter.Null)},
		{"ne null", `{"column":"a","operator":"ne","value":null}`, cond("a", filter.NotNull)},
		{"tree", `{"and":[{"or":[{"column":"a","operator":"null"},true]},{"not":{"column":"b","operator":"today"}}]}`,
			and(or(cond("a", filter.Null), &filter.Const{Value: true}), not(cond("b", filter.Today)))},
		{"empty and", `{"and":[]}`, and()},
		{"link", `{"link":"account_primarycontactid","filter":{"column":"fullname","operator":"like","value":"a%"}}`,
			link("account_primarycontactid", cond("fullname", filter.Like, "a%"))},
		{"link without filter", `{"link":"contact_parentcustomerid"}`, link("contact_parentcustomerid", nil)},
		{"link with null filter", `{"link":"r","filter":null}`, link("r", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := filter.ParseJSON([]byte(tt.src))
			if err != nil {
				t.Fatalf("ParseJSON(%s): %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, got, astOpts); diff != "" {
				t.Errorf("ParseJSON(%s) (-want +got):\n%s", tt.src, diff)
			}
			data, err := filter.ToJSON(got)
			if err != nil {
				t.Fatalf("ToJSON: %v", err)
			}
			again, err := filter.ParseJSON(data)
			if err != nil {
				t.Fatalf("ParseJSON(ToJSON) = ParseJSON(%s): %v", data, err)
			}
			if diff := cmp.Diff(got, again, astOpts); diff != "" {
				t.Errorf("round trip through %s (-first +second):\n%s", data, diff)
			}
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"syntax", `{"and":[}`, "invalid JSON: invalid character '}' looking for beginning of value"},
		{"trailing", `true false`, "invalid JSON: unexpected data after the condition tree"},
		{"duplicate key", `{"column":"a","column":"b"}`, `invalid JSON: key "column" appears twice in one object`},
		{"not an object", `[1]`, `expected a condition object, found an array (write {"and":[…]}, {"or":[…]}, {"not":…}, {"column":…,"operator":…}, {"link":…} or true/false)`},
		{"unknown kind", `{"adn":[]}`, `expected a key "and", "or", "not", "column" or "link", found keys "adn" (did you mean "and"?)`},
		{"two kinds", `{"and":[],"or":[]}`, `a node has either "and" or "or", not both`},
		{"unknown key positioned", `{"and":[true,{"or":[{"column":"a","operator":"eq","valeu":1}]}]}`,
			`and[1].or[0].valeu: unknown key "valeu" in a "column" node (did you mean "value"?)`},
		{"unknown operator", `{"or":[{"column":"a","operator":"eqq","value":1}]}`, `or[0].operator: unknown operator "eqq" (did you mean "eq"?)`},
		{"and not array", `{"and":{}}`, `and: "and" must be an array of conditions, found an object`},
		{"value missing", `{"column":"a","operator":"eq"}`, `operator "eq" needs "value"`},
		{"value for no-value op", `{"column":"a","operator":"today","value":1}`, `operator "today" takes no value`},
		{"values for one-value op", `{"column":"a","operator":"eq","values":[1]}`, `values: operator "eq" takes one value, not "values" (use "value")`},
		{"value for in", `{"column":"a","operator":"in","value":1}`, `value: operator "in" takes "values", not "value" (use "values")`},
		{"object value", `{"column":"a","operator":"eq","value":{}}`, `value: a value must be a string, number, true, false or null, found an object`},
		{"big integer", `{"column":"a","operator":"eq","value":12345678901234567890}`, `value: integer 12345678901234567890 is out of range: use -9223372036854775808 to 9223372036854775807`},
		{"link name", `{"not":{"link":3}}`, `not.link: "link" must name a relationship, found a number`},
		{"several errors", `{"and":[1,{"column":"a","operator":"x"}]}`,
			`and[0]: expected a condition object, found a number (write {"and":[…]}, {"or":[…]}, {"not":…}, {"column":…,"operator":…}, {"link":…} or true/false); and[1].operator: unknown operator "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := filter.ParseJSON([]byte(tt.src))
			if err == nil {
				t.Fatalf("ParseJSON(%s) succeeded, want %q", tt.src, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("ParseJSON(%s) error:\n got: %s\nwant: %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestToJSONFromOData(t *testing.T) {
	t.Parallel()
	e := mustParse(t, "a ge 2024-01-31T10:00:00Z and Microsoft.Dynamics.CRM.NotIn(PropertyName='b',PropertyValues=[1.0])")
	got, err := filter.ToJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"and":[{"column":"a","operator":"ge","value":"2024-01-31T10:00:00Z"},{"column":"b","operator":"not-in","values":[1.0]}]}`
	if string(got) != want {
		t.Errorf("ToJSON:\n got: %s\nwant: %s", got, want)
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"and":[{"column":"statecode","operator":"eq","value":0},{"or":[]}]}`,
		`{"not":{"link":"r","filter":{"column":"x","operator":"in","values":["a",1,2.5,null,true]}}}`,
		`{"column":"ownerid","operator":"eq-userid"}`,
		`{"column":"a","operator":"eq","value":null}`,
		`true`, `{"or":[false,{"link":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := filter.ParseJSON(data)
		if err != nil {
			return
		}
		out, err := filter.ToJSON(e)
		if err != nil {
			t.Fatalf("ToJSON(ParseJSON(%q)): %v", data, err)
		}
		again, err := filter.ParseJSON(out)
		if err != nil {
			t.Fatalf("ParseJSON(ToJSON(ParseJSON(%q))) = ParseJSON(%s): %v", data, out, err)
		}
		if diff := cmp.Diff(e, again, astOpts); diff != "" {
			t.Fatalf("round trip of %q through %s (-first +second):\n%s", data, out, diff)
		}
		_ = filter.String(e) // must not panic
	})
}
