package sqlgen_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/sqlgen"
)

// TestTextComparesCaseInsensitively checks that every text operator ignores
// case, for ASCII and non-ASCII letters, in Eval and in the SQL of both
// engines: text matches when the simple lower-case mappings of both sides
// are equal (so ẞ matches ß, but ß does not match "ss").
func TestTextComparesCaseInsensitively(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	names := map[string]string{
		"alpha": "Alpha beta", "arger": "Ärger", "ecole": "ÉCOLE", "strasse": "straße", "STRASSE": "STRASSE",
		"capsz": "GROẞ", "sigma": "ΟΔΟΣ", "kelvin": "\u212a", "dotted": "İstanbul", "star": "A*b",
	}
	var rows []outpost.Row
	for key, name := range names {
		rows = append(rows, outpost.Row{"workorderid": outpost.NewID(), "name": name, "notes": key, "versionnumber": int64(1)})
	}
	cases := []struct {
		filter string
		want   []string // notes of the matching rows
	}{
		{"startswith(name,'al')", []string{"alpha"}},
		{"startswith(name,'ALPHA B')", []string{"alpha"}},
		{"name eq 'alpha BETA'", []string{"alpha"}},
		{"name ne 'ALPHA BETA'", []string{"arger", "capsz", "dotted", "ecole", "kelvin", "sigma", "star", "strasse", "STRASSE"}},
		{"name in ('ärger','école')", []string{"arger", "ecole"}},
		{"Microsoft.Dynamics.CRM.NotIn(PropertyName='name',PropertyValues=['ÄRGER','École','a*B','k','İSTANBUL','straSSe','groß','οδοσ','STRAßE','ALPHA beta'])", nil},
		{"contains(name,'RGE')", []string{"arger"}},
		{"endswith(name,'cole')", []string{"ecole"}},
		{"Microsoft.Dynamics.CRM.NotEndWith(PropertyName='name',PropertyValue='SSE')", []string{"alpha", "arger", "capsz", "dotted", "ecole", "kelvin", "sigma", "star", "strasse"}},
		{"contains(name,'STRASSE')", []string{"STRASSE"}},
		{"contains(name,'ß')", []string{"capsz", "strasse"}},
		{"name eq 'οδοσ'", []string{"sigma"}},
		{"name eq 'K'", []string{"kelvin"}},
		{"startswith(name,'ist')", []string{"dotted"}},
		{"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='_*B')", []string{"star"}},
		{"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='%BETA')", []string{"alpha"}},
		{"Microsoft.Dynamics.CRM.NotLike(PropertyName='name',PropertyValue='%E%')", []string{"capsz", "dotted", "kelvin", "sigma", "star"}},
		{"Microsoft.Dynamics.CRM.BeginsWith(PropertyName='name',PropertyValue='é')", []string{"ecole"}},
		{"Microsoft.Dynamics.CRM.NotBeginWith(PropertyName='name',PropertyValue='A')", []string{"arger", "capsz", "dotted", "ecole", "kelvin", "sigma", "strasse", "STRASSE"}},
		{"name ge 'strasse' and name lt 'STRASSF'", []string{"STRASSE"}},
		{"name ge 'alpha' and name le 'alphaz'", []string{"alpha"}},
	}
	for _, db := range openDBs(t, s) {
		db.insert(t, s, "workorder", rows)
		for _, tc := range cases {
			e, err := filter.ParseOData(tc.filter)
			if err == nil {
				e, err = filter.Check(s, "workorder", e, filter.CheckOptions{})
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.filter, err)
			}
			byNotes := map[string]string{}
			var eval []string
			for _, row := range rows {
				byNotes[row["workorderid"].(string)] = row["notes"].(string)
				ok, err := filter.Eval(s, "workorder", e, row, nil, nil)
				if err != nil {
					t.Fatalf("Eval(%s): %v", tc.filter, err)
				}
				if ok {
					eval = append(eval, row["notes"].(string))
				}
			}
			query, args := selectQuery(t, db.d, s, "workorder", e, nil, true)
			var got []string
			for _, id := range queryIDs(t, db, query, args) {
				got = append(got, byNotes[id])
			}
			slices.Sort(eval)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, eval); diff != "" {
				t.Errorf("Eval, filter %s (-want +got):\n%s", tc.filter, diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s, filter %s\nSQL %s %v\n(-want +got):\n%s", db.name, tc.filter, query, formatArgs(args), diff)
			}
		}
	}
}

// TestPostgresFoldIsExact checks, for every code point, that the SQL fold on
// PostgreSQL is filter.Fold.
func TestPostgresFoldIsExact(t *testing.T) {
	t.Parallel()
	db := openPostgres(t, testSchema(t))
	if db == nil {
		t.Log("OUTPOST_TEST_POSTGRES is not set: SQLite only")
		return
	}
	if err := sqlgen.CheckPostgresFold(t.Context(), db.db, true); err != nil {
		t.Fatal(err)
	}
}
