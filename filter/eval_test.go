package filter_test

import (
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// fakeResolver returns fixed related rows per relationship name.
type fakeResolver map[string][]outpost.Row

func (f fakeResolver) Related(r schema.Relationship, _ outpost.Row) ([]outpost.Row, error) {
	return f[r.Name], nil
}

func TestEval(t *testing.T) {
	t.Parallel()
	// Friday 2024-03-15 22:30 at UTC-5 is already Saturday in UTC.
	loc := time.FixedZone("UTC-5", -5*3600)
	now := time.Date(2024, 3, 15, 22, 30, 0, 0, loc)
	user, team, bu := outpost.NewID(), outpost.NewID(), outpost.NewID()
	env := &filter.Env{
		UserID: user, TeamIDs: []string{team}, BusinessUnitID: bu, Location: loc,
		Now:    func() time.Time { return now },
		Shared: func(table, id string) bool { return table == "account" && id == "shared" },
	}
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, loc).UTC() }
	row := outpost.Row{
		"accountid": "shared", "name": "Contoso [West] 50%", "accountnumber": nil,
		"revenue": 1500.5, "statecode": int64(0), "ownerid": team, "owningbusinessunit": bu,
		"createdon": at(2024, 3, 15, 1), "modifiedon": at(2024, 3, 10, 0),
	}
	rel := fakeResolver{
		"account_primarycontactid": {{"contactid": "c1", "fullname": "Ann", "birthdate": nil}},
		"contact_parentcustomerid": {{"fullname": "Bob"}, {"fullname": "Cy", "birthdate": at(1990, 5, 1, 0)}},
	}
	tests := []struct {
		src  string
		want bool
	}{
		{"name eq 'Contoso [West] 50%'", true},
		{"name eq 'contoso [west] 50%'", true}, // case-insensitive
		{"name eq 'CONTOSO [WEST] 50%'", true},
		{"name eq 'Contoso [West] 50'", false},
		{"name gt 'Contoso'", true},
		{"name lt 'contoso'", false}, // folded, then byte order
		{"name lt 'contosp'", true},
		{"name ge 'CONTOSO [WEST] 50%'", true},
		{"accountnumber eq 'x'", false},
		{"accountnumber ne 'x'", true}, // ne is true on null
		{"accountnumber gt 'x'", false},
		{"not (accountnumber gt 'x')", true},
		{"accountnumber in ('x')", false},
		{"Microsoft.Dynamics.CRM.NotIn(PropertyName='accountnumber',PropertyValues=['x'])", true},
		{"Microsoft.Dynamics.CRM.NotLike(PropertyName='accountnumber',PropertyValue='%')", true},
		{"accountnumber eq null", true},
		{"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='C_ntoso%\\%')", true},
		{"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='%west%')", true},
		{"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='%east%')", false},
		{"startswith(name,'con')", true},
		{"Microsoft.Dynamics.CRM.NotBeginWith(PropertyName='name',PropertyValue='CON')", false},
		{"contains(name,'[West]')", true},
		{"startswith(name,'Contoso')", true},
		{"endswith(name,'0%')", true},
		{"Microsoft.Dynamics.CRM.NotEndWith(PropertyName='name',PropertyValue='%')", false},
		{"revenue ge 1500.5 and revenue lt 1501", true},
		{"statecode eq 0", true},
		{"Microsoft.Dynamics.CRM.EqUserId(PropertyName='ownerid')", false},
		{"Microsoft.Dynamics.CRM.NeUserId(PropertyName='ownerid')", true},
		{"Microsoft.Dynamics.CRM.EqUserTeams(PropertyName='ownerid')", true},
		{"Microsoft.Dynamics.CRM.EqUserOrUserHierarchy(PropertyName='ownerid')", false},
		{"Microsoft.Dynamics.CRM.EqBusinessId(PropertyName='owningbusinessunit')", true},
		{"Microsoft.Dynamics.CRM.EqSharedWithUser(PropertyName='accountid')", true},
		{"Microsoft.Dynamics.CRM.Today(PropertyName='createdon')", true},
		{"Microsoft.Dynamics.CRM.Yesterday(PropertyName='createdon')", false},
		{"Microsoft.Dynamics.CRM.ThisWeek(PropertyName='modifiedon')", true}, // Sunday March 10 starts the week
		{"Microsoft.Dynamics.CRM.LastWeek(PropertyName='modifiedon')", false},
		{"Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=5)", true},
		{"Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=4)", false},
		{"Microsoft.Dynamics.CRM.On(PropertyName='createdon',PropertyValue=2024-03-15)", true},
		{"Microsoft.Dynamics.CRM.OnOrBefore(PropertyName='createdon',PropertyValue=2024-03-14)", false},
		{"Microsoft.Dynamics.CRM.ThisMonth(PropertyName='accountnumber') eq null", false},
		{"primarycontactid/fullname eq 'Ann'", true},
		{"primarycontactid/birthdate ne null", false},
		{"contact_parentcustomerid/any(c: c/birthdate lt 2000-01-01)", true},
		{"contact_parentcustomerid/all(c: c/birthdate lt 2000-01-01)", false},
		{"contact_parentcustomerid/any()", true},
		{"account_parentaccountid/any()", false},
	}
	s := schema.BuiltIn()
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			e, err := filter.ParseOData(tt.src)
			if err != nil {
				if tt.want {
					t.Fatal(err)
				}
				return // a deliberately malformed case
			}
			e, err = filter.Check(s, "account", e, filter.CheckOptions{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			got, err := filter.Eval(s, "account", e, row, env, rel)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got != tt.want {
				t.Errorf("Eval(%q) = %v, want %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	s := schema.BuiltIn()
	tests := []struct {
		name string
		e    filter.Expr
		row  outpost.Row
	}{
		{"link without resolver", link("account_primarycontactid", nil), outpost.Row{}},
		{"unknown column", cond("nope", filter.Eq, "x"), outpost.Row{}},
		{"wrong row type", cond("revenue", filter.Eq, 1.0), outpost.Row{"revenue": "lots"}},
		{"unchecked operand", cond("revenue", filter.Eq, "1"), outpost.Row{"revenue": 1.0}},
		{"nil node", nil, outpost.Row{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := filter.Eval(s, "account", tt.e, tt.row, nil, nil); err == nil {
				t.Error("Eval succeeded, want an error")
			}
		})
	}
}

func TestDateRange(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("UTC+2", 2*3600)
	// Wednesday 2024-01-31 10:15:30.123456 at UTC+2.
	now := time.Date(2024, 1, 31, 10, 15, 30, 123456789, loc)
	env := &filter.Env{Now: func() time.Time { return now }, Location: loc}
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, loc) }
	nowMs := now.Truncate(time.Millisecond)
	var zero time.Time
	tests := []struct {
		op         filter.Op
		values     []any
		start, end time.Time
	}{
		{filter.Today, nil, d(2024, 1, 31), d(2024, 2, 1)},
		{filter.Yesterday, nil, d(2024, 1, 30), d(2024, 1, 31)},
		{filter.Tomorrow, nil, d(2024, 2, 1), d(2024, 2, 2)},
		{filter.ThisWeek, nil, d(2024, 1, 28), d(2024, 2, 4)},
		{filter.LastWeek, nil, d(2024, 1, 21), d(2024, 1, 28)},
		{filter.NextWeek, nil, d(2024, 2, 4), d(2024, 2, 11)},
		{filter.ThisMonth, nil, d(2024, 1, 1), d(2024, 2, 1)},
		{filter.LastMonth, nil, d(2023, 12, 1), d(2024, 1, 1)},
		{filter.NextMonth, nil, d(2024, 2, 1), d(2024, 3, 1)},
		{filter.ThisYear, nil, d(2024, 1, 1), d(2025, 1, 1)},
		{filter.LastYear, nil, d(2023, 1, 1), d(2024, 1, 1)},
		{filter.NextYear, nil, d(2025, 1, 1), d(2026, 1, 1)},
		{filter.LastXDays, []any{int64(3)}, d(2024, 1, 28), nowMs},
		{filter.NextXDays, []any{int64(3)}, nowMs, d(2024, 2, 4)},
		{filter.LastXWeeks, []any{int64(1)}, d(2024, 1, 24), nowMs},
		{filter.NextXWeeks, []any{int64(1)}, nowMs, d(2024, 2, 8)},
		{filter.LastXMonths, []any{int64(2)}, d(2023, 11, 30), nowMs},
		{filter.NextXMonths, []any{int64(1)}, nowMs, d(2024, 3, 1)}, // Feb 29, the clamped Feb 31, plus a day
		{filter.LastXYears, []any{int64(1)}, d(2023, 1, 31), nowMs},
		{filter.NextXYears, []any{int64(1)}, nowMs, d(2025, 2, 1)},
		{filter.On, []any{time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)}, d(2024, 5, 6), d(2024, 5, 7)},
		{filter.OnOrBefore, []any{time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)}, zero, d(2024, 5, 7)},
		{filter.OnOrAfter, []any{time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)}, d(2024, 5, 6), zero},
		{filter.LastXYears, []any{int64(5000)}, zero, nowMs},
	}
	for _, tt := range tests {
		t.Run(string(tt.op), func(t *testing.T) {
			t.Parallel()
			start, end, err := filter.DateRange(tt.op, tt.values, env)
			if err != nil {
				t.Fatal(err)
			}
			if !start.Equal(tt.start) || !end.Equal(tt.end) {
				t.Errorf("DateRange(%s, %v) = [%v, %v), want [%v, %v)", tt.op, tt.values, start, end, tt.start, tt.end)
			}
		})
	}
	if _, _, err := filter.DateRange(filter.Eq, nil, env); err == nil {
		t.Error("DateRange(eq) succeeded, want an error")
	}
}
