package profile_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
)

// testSchema is the built-in schema plus offline tables for validation:
// a chain t00 -> t01 -> … -> t19 of lookups "next", "node" with a lookup
// to itself, "hub" with children c1 and c2, "pics" with 15 image columns,
// and "org" (organization owned), "biz" (business owned), "bare" (none).
func testSchema(t *testing.T) *schema.Schema {
	t.Helper()
	b := schema.BuiltIn()
	tables := b.Tables()
	add := func(name string, own schema.Ownership, cols ...schema.Column) {
		cols = append([]schema.Column{{Name: "name", Type: schema.Text}}, cols...)
		tables = append(tables, schema.WithSystemColumns(&schema.Table{Name: name, Ownership: own, PrimaryName: "name", Columns: cols, Offline: true, ChangeTracking: true}))
	}
	for i := range 20 {
		var cols []schema.Column
		if i < 19 {
			cols = append(cols, lookup("next", fmt.Sprintf("t%02d", i+1)))
		}
		add(fmt.Sprintf("t%02d", i), schema.OwnedByUser, cols...)
	}
	add("node", schema.OwnedByUser, lookup("parentid", "node"))
	add("hub", schema.OwnedByUser)
	add("c1", schema.OwnedByUser, lookup("hubid", "hub"))
	add("c2", schema.OwnedByUser, lookup("hubid", "hub"))
	var imgs []schema.Column
	for i := range 15 {
		imgs = append(imgs, schema.Column{Name: fmt.Sprintf("img%02d", i+1), Type: schema.Image})
	}
	add("pics", schema.OwnedByUser, imgs...)
	add("org", schema.OwnedByOrganization)
	add("biz", schema.OwnedByBusiness)
	add("bare", schema.OwnedByNone)
	s, err := schema.New(tables, b.ManyToMany())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func chainItems(n int) []profile.Item {
	var items []profile.Item
	for i := range n {
		it := profile.Item{Table: fmt.Sprintf("t%02d", i), Rule: profile.RuleRelated, Relationships: []string{fmt.Sprintf("t%02d_next", i)}}
		if i == n-1 {
			it = profile.Item{Table: it.Table, Rule: profile.RuleAll}
		}
		items = append(items, it)
	}
	return items
}

// chainWithLinks is chainItems(n) whose last table's Custom filter links
// three tables further along the chain.
func chainWithLinks(n int) []profile.Item {
	items := chainItems(n)
	last := n - 1
	f := fmt.Sprintf(`{"link":"t%02d_next","filter":{"link":"t%02d_next","filter":{"link":"t%02d_next"}}}`, last, last+1, last+2)
	items[last] = profile.Item{Table: items[last].Table, Rule: profile.RuleCustom, Filter: []byte(f)}
	return items
}

func TestValidate(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	all := func(table string) profile.Item { return profile.Item{Table: table, Rule: profile.RuleAll} }
	deep := []byte(`{"link":"t00_next","filter":{"link":"t01_next","filter":{"link":"t02_next","filter":{"link":"t03_next"}}}}`)
	var allPics []string
	for i := range 15 {
		allPics = append(allPics, fmt.Sprintf("img%02d", i+1))
	}
	tests := []struct {
		name     string
		items    []profile.Item
		errors   []string
		warnings []string
	}{
		{"valid chain of 15", chainItems(16), nil, nil},
		{"12 relationships and 3 filter links", chainWithLinks(13), nil, nil},
		{"13 relationships and 3 filter links", chainWithLinks(14),
			[]string{`table "t00" links to more than 15 tables through relationships and filters, counted transitively; the 16th is t00 -[t00_next N:1]-> t01 -[t01_next N:1]-> t02 -[t02_next N:1]-> t03 -[t03_next N:1]-> t04 -[t04_next N:1]-> t05 -[t05_next N:1]-> t06 -[t06_next N:1]-> t07 -[t07_next N:1]-> t08 -[t08_next N:1]-> t09 -[t09_next N:1]-> t10 -[t10_next N:1]-> t11 -[t11_next N:1]-> t12 -[t12_next N:1]-> t13 -[t13_next N:1]-> t14 -[t14_next N:1]-> t15 -[t15_next N:1]-> t16 (a filter link)`}, nil},
		{"empty profile", nil, []string{"the profile has no tables: add at least one"}, nil},
		{"related rows without relationship", []profile.Item{{Table: "org", Rule: profile.RuleRelated}},
			[]string{`table "org": Related rows only needs at least one relationship; with none selected the table downloads nothing`}, nil},
		{"all rows combined", []profile.Item{{Table: "t01", Rule: profile.RuleAll, UserRows: true, Filter: []byte(`true`), Relationships: []string{"t01_next"}}, all("t02")},
			[]string{`table "t01": All rows cannot be combined with another rule (Organization rows, a custom filter, related rows)`}, nil},
		{"organization rows none chosen", []profile.Item{{Table: "t01", Rule: profile.RuleOrganization}},
			[]string{`table "t01": Organization rows needs at least one of user's rows, team rows or business-unit rows`}, nil},
		{"organization options on custom", []profile.Item{{Table: "t01", Rule: profile.RuleCustom, TeamRows: true, Filter: []byte(`true`)}},
			[]string{`table "t01": user's, team and business-unit rows apply only to the Organization rows rule, not Custom`}, nil},
		{"custom without filter", []profile.Item{{Table: "t01", Rule: profile.RuleCustom}},
			[]string{`table "t01": Custom needs a filter`}, nil},
		{"filter on organization rows", []profile.Item{{Table: "t01", Rule: profile.RuleOrganization, UserRows: true, Filter: []byte(`true`)}},
			[]string{`table "t01": a filter applies only to the Custom rule, not Organization rows`}, nil},
		{"rule not offered by ownership", []profile.Item{{Table: "org", Rule: profile.RuleOrganization, UserRows: true}, {Table: "bare", Rule: profile.RuleAll}},
			[]string{`table "org" is organization owned: it offers Related rows only, All rows, Custom, not Organization rows`,
				`table "bare" is not owned (ownership none): it offers Related rows only, not All rows`}, nil},
		{"relationship to a table not in the profile", []profile.Item{{Table: "t01", Rule: profile.RuleRelated, Relationships: []string{"t01_next"}}},
			[]string{`table "t01": relationship t01_next leads to table "t02", which is not in the profile (t01 -[t01_next N:1]-> t02)`}, nil},
		{"more than 15 relationships transitively", chainItems(17),
			[]string{`table "t00" links to more than 15 tables through relationships and filters, counted transitively; the 16th is t00 -[t00_next N:1]-> t01 -[t01_next N:1]-> t02 -[t02_next N:1]-> t03 -[t03_next N:1]-> t04 -[t04_next N:1]-> t05 -[t05_next N:1]-> t06 -[t06_next N:1]-> t07 -[t07_next N:1]-> t08 -[t08_next N:1]-> t09 -[t09_next N:1]-> t10 -[t10_next N:1]-> t11 -[t11_next N:1]-> t12 -[t12_next N:1]-> t13 -[t13_next N:1]-> t14 -[t14_next N:1]-> t15 -[t15_next N:1]-> t16`}, nil},
		{"two 1:N relationships", []profile.Item{{Table: "hub", Rule: profile.RuleRelated, Relationships: []string{"c1_hubid", "c2_hubid"}}, all("c1"), all("c2")},
			[]string{`table "hub": at most one 1:N or N:N relationship is allowed among its relationships counted transitively, found hub -[c1_hubid 1:N]-> c1 and hub -[c2_hubid 1:N]-> c2`}, nil},
		{"circular chain", []profile.Item{{Table: "hub", Rule: profile.RuleRelated, Relationships: []string{"c1_hubid"}}, {Table: "c1", Rule: profile.RuleRelated, Relationships: []string{"c1_hubid"}}},
			[]string{`table "c1": circular relationship chain c1 -[c1_hubid N:1]-> hub -[c1_hubid 1:N]-> c1`}, nil},
		{"self-referencing", []profile.Item{{Table: "node", Rule: profile.RuleOrganization, UserRows: true, Relationships: []string{"node_parentid"}}},
			[]string{`table "node": relationship node_parentid references the table itself (node -[node_parentid N:1]-> node); self-referencing chains are not allowed`}, nil},
		{"15 image columns", []profile.Item{{Table: "pics", Rule: profile.RuleAll, ImageColumns: allPics}},
			[]string{`the profile selects 15 image columns (pics.img01, pics.img02, pics.img03, pics.img04, pics.img05, pics.img06, pics.img07, pics.img08, pics.img09, pics.img10, pics.img11, pics.img12, pics.img13, pics.img14, pics.img15); at most 14 are allowed`}, nil},
		{"custom filter 4 levels deep", []profile.Item{{Table: "t00", Rule: profile.RuleCustom, Filter: deep}},
			[]string{`profile "p", item t00:filter.filter.filter: links nest 4 levels deep through "t03_next"; at most 3 are allowed`}, nil},
		{"interval too short", []profile.Item{{Table: "org", Rule: profile.RuleAll, IntervalMinutes: 4}},
			[]string{`table "org": sync interval must be between 5 and 1440 minutes, got 4`}, nil},
		{"interval too long", []profile.Item{{Table: "org", Rule: profile.RuleAll, IntervalMinutes: 1441}},
			[]string{`table "org": sync interval must be between 5 and 1440 minutes, got 1441`}, nil},
		{"table no longer offline", []profile.Item{all("account"), all("businessunit")},
			[]string{`table "businessunit" is not enabled for offline: turn on "Can be taken offline" first`}, nil},
		{"business-unit rows warn", []profile.Item{{Table: "biz", Rule: profile.RuleOrganization, BusinessUnitRows: true}}, nil,
			[]string{`table "biz" downloads business-unit rows: keep them for small master data, such as country codes`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := profile.Validate(sch, &profile.Profile{Name: "p", Items: tt.items})
			var errs, warns []string
			for _, p := range v.Errors {
				errs = append(errs, p.Message)
			}
			for _, p := range v.Warnings {
				warns = append(warns, p.Message)
			}
			if diff := cmp.Diff(tt.errors, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if v.Valid != (len(tt.errors) == 0) {
				t.Errorf("Valid = %t with errors %v", v.Valid, errs)
			}
		})
	}
}

func TestValidateManyTablesWarns(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	var items []profile.Item
	for range 101 {
		items = append(items, profile.Item{Table: "org", Rule: profile.RuleAll})
	}
	v := profile.Validate(sch, &profile.Profile{Name: "p", Items: items})
	if len(v.Warnings) != 1 || v.Warnings[0].Message != "the profile has 101 tables; the guidance is at most 100" {
		t.Errorf("warnings = %+v", v.Warnings)
	}
}
