package filter_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

func mustCheck(t *testing.T, table, src string) filter.Expr {
	t.Helper()
	e, err := filter.Check(schema.BuiltIn(), table, mustParse(t, src), filter.CheckOptions{})
	if err != nil {
		t.Fatalf("Check(%q): %v", src, err)
	}
	return e
}

func TestCheck(t *testing.T) {
	t.Parallel()
	id := "6f1c2a9e-0b1d-4c8e-9a51-3f0e2d4b7c10"
	tests := []struct {
		name, table, src string
		want             filter.Expr
	}{
		{"id lowercased", "account", "accountid eq 6F1C2A9E-0B1D-4C8E-9A51-3F0E2D4B7C10", cond("accountid", filter.Eq, id)},
		{"choice", "task", "prioritycode in (0, 2)", cond("prioritycode", filter.In, int64(0), int64(2))},
		{"money from integer", "account", "revenue gt 5", cond("revenue", filter.Gt, 5.0)},
		{"integral float to integer", "mobileofflineprofile", "publishedversion eq 2.0", cond("publishedversion", filter.Eq, int64(2))},
		{"datetime from string", "contact", "birthdate lt '2024-01-31T10:00:00.1234+01:00'",
			cond("birthdate", filter.Lt, time.Date(2024, 1, 31, 9, 0, 0, 123e6, time.UTC))},
		{"on date", "contact", "Microsoft.Dynamics.CRM.On(PropertyName='birthdate',PropertyValue='2024-01-31')",
			cond("birthdate", filter.On, time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC))},
		{"boolean", "systemuser", "isdisabled", cond("isdisabled", filter.Eq, true)},
		{"nav resolved", "account", "primarycontactid/fullname eq 'x'", link("account_primarycontactid", cond("fullname", filter.Eq, "x"))},
		{"link by lookup column", "account", "primarycontactid/any()", link("account_primarycontactid", nil)},
		{"one to many", "account", "contact_parentcustomerid/any(c: c/lastname eq 'x')", link("contact_parentcustomerid", cond("lastname", filter.Eq, "x"))},
		{"many to many", "team", "teammembership_association/any(u: u/isdisabled eq false)", link("teammembership_association", cond("isdisabled", filter.Eq, false))},
		{"user op on owner", "account", "Microsoft.Dynamics.CRM.EqUserOrUserTeams(PropertyName='ownerid')", cond("ownerid", filter.EqUserOrUserTeams)},
		{"user op on systemuser lookup", "task", "Microsoft.Dynamics.CRM.NeUserId(PropertyName='createdby')", cond("createdby", filter.NeUserID)},
		{"user op on systemuser key", "systemuser", "Microsoft.Dynamics.CRM.EqUserId(PropertyName='systemuserid')", cond("systemuserid", filter.EqUserID)},
		{"business op", "account", "Microsoft.Dynamics.CRM.NeBusinessId(PropertyName='owningbusinessunit')", cond("owningbusinessunit", filter.NeBusinessID)},
		{"shared on key", "account", "Microsoft.Dynamics.CRM.EqSharedWithUser(PropertyName='accountid')", cond("accountid", filter.EqSharedWithUser)},
		{"x days", "task", "Microsoft.Dynamics.CRM.NextXYears(PropertyName='scheduledend',PropertyValue=2)", cond("scheduledend", filter.NextXYears, int64(2))},
		{"text ops on memo", "task", "Microsoft.Dynamics.CRM.NotLike(PropertyName='description',PropertyValue='%x')", cond("description", filter.NotLike, "%x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustCheck(t, tt.table, tt.src)
			if diff := cmp.Diff(tt.want, got, astOpts); diff != "" {
				t.Errorf("Check(%q) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, table, src string
		opts             filter.CheckOptions
		want             string
	}{
		{"did you mean", "account", "nmae eq 'x' and telephone eq 'y'", filter.CheckOptions{Source: "profile p, item account"},
			`profile p, item account:1:1: unknown column "nmae" in table "account" (did you mean "name"?); profile p, item account:1:17: unknown column "telephone" in table "account" (did you mean "telephone1"?)`},
		{"unknown table", "acount", "name eq 'x'", filter.CheckOptions{}, `unknown table "acount"`},
		{"text op on number", "account", "contains(revenue,'1')", filter.CheckOptions{},
			`1:10: operator "contains" does not apply to money column "revenue" (use one of eq, ge, gt, in, le, lt, ne, not-in, not-null, null)`},
		{"gt on boolean", "systemuser", "isdisabled gt false", filter.CheckOptions{},
			`1:1: operator "gt" does not apply to boolean column "isdisabled" (use one of eq, in, ne, not-in, not-null, null)`},
		{"date op on text", "account", "Microsoft.Dynamics.CRM.Today(PropertyName='name')", filter.CheckOptions{},
			`1:44: operator "today" does not apply to text column "name" (use one of begins-with, contains, ends-with, eq, ge, gt, in, le, like, lt, ne, not-begin-with, not-end-with, not-in, not-like, not-null, null)`},
		{"user op on account lookup", "contact", "Microsoft.Dynamics.CRM.EqUserId(PropertyName='parentcustomerid')", filter.CheckOptions{},
			`1:47: operator "eq-userid" does not apply to lookup column "parentcustomerid" (use one of eq, in, ne, not-in, not-null, null)`},
		{"null value", "account", "name in ('a', null)", filter.CheckOptions{},
			`1:1: column "name", operator "in": null is not a value (use the null or not-null operator)`},
		{"choice option", "account", "statecode eq 2", filter.CheckOptions{},
			`1:1: column "statecode", operator "eq": 2 is not an option (the options are 0 (Active), 1 (Inactive))`},
		{"text for number", "account", "revenue eq '5'", filter.CheckOptions{}, `1:1: column "revenue", operator "eq": expected a number, got '5'`},
		{"number for text", "account", "name eq 5", filter.CheckOptions{}, `1:1: column "name", operator "eq": expected text, got 5 (quote text values)`},
		{"bad id", "account", "ownerid eq 'me'", filter.CheckOptions{},
			`1:1: column "ownerid", operator "eq": expected an id, got 'me' (ids look like 6f1c2a9e-0b1d-4c8e-9a51-3f0e2d4b7c10)`},
		{"link depth", "account", "parentaccountid/parentaccountid/name eq 'x'", filter.CheckOptions{MaxLinkDepth: 1},
			`1:17: links nest 2 levels deep through "account_parentaccountid"; at most 1 are allowed`},
		{"linked tables", "account", "primarycontactid/fullname eq 'x' and parentaccountid/name eq 'y' and createdby/fullname eq 'z'", filter.CheckOptions{MaxLinkedTables: 2},
			`1:70: the filter links 3 related tables (systemuser is one too many); at most 2 are allowed`},
		{"unknown lookup", "account", "primarycontact/fullname eq 'x'", filter.CheckOptions{},
			`1:1: unknown lookup column "primarycontact" in table "account" (did you mean "primarycontactid"?)`},
		{"errors inside links", "account", "contact_parentcustomerid/any(c: c/fulname eq 1 and c/birthdate gt 'x')", filter.CheckOptions{},
			`1:35: unknown column "fulname" in table "contact" (did you mean "fullname"?); 1:54: column "birthdate", operator "gt": expected a date or datetime, got 'x' (use 2024-01-31 or 2024-01-31T08:00:00Z)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := filter.Check(schema.BuiltIn(), tt.table, mustParse(t, tt.src), tt.opts)
			if err == nil {
				t.Fatalf("Check(%q) succeeded, want %q", tt.src, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Check(%q) error:\n got: %s\nwant: %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestCheckHandBuiltTrees(t *testing.T) {
	t.Parallel()
	s := schema.BuiltIn()
	tests := []struct {
		name string
		e    filter.Expr
		want string
	}{
		{"nil", nil, "missing condition"},
		{"nil in list", and(cond("name", filter.Null), nil), "missing condition"},
		{"unknown op", cond("name", "equals", "x"), `unknown operator "equals"`},
		{"arity", cond("name", filter.Eq), `operator "eq" takes one value, got 0`},
		{"no values for in", cond("name", filter.In), `operator "in" takes 1 to 1000 values, got 0`},
		{"values for null", cond("name", filter.Null, "x"), `operator "null" takes no value, got 1`},
		{"count range", cond("createdon", filter.LastXDays, int64(10001)), `column "createdon", operator "last-x-days": expected a whole number from 1 to 10000, got 10001`},
		{"nul byte", cond("name", filter.Eq, "a\x00b"), `column "name", operator "eq": text must be valid UTF-8 without NUL characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := filter.Check(s, "account", tt.e, filter.CheckOptions{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("Check error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestErrorListAsDomain(t *testing.T) {
	t.Parallel()
	_, err := filter.Check(schema.BuiltIn(), "account", mustParse(t, "nmae eq 'x' or name eq 1"), filter.CheckOptions{Source: "item account"})
	var list filter.ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("error %v is not a two-error ErrorList", err)
	}
	var first *filter.Error
	if !errors.As(err, &first) || first.Column != "nmae" {
		t.Errorf("errors.As(*filter.Error) = %v, want the first error", first)
	}
	d := list.AsDomain()
	if d.Code != outpost.CodeInvalid || d.Target != "nmae" || d.Message != list.Error() {
		t.Errorf("AsDomain() = %+v", d)
	}
	wrapped := error(d)
	if outpost.ErrorCode(wrapped) != outpost.CodeInvalid || !errors.As(wrapped, &first) {
		t.Errorf("domain error does not unwrap to the filter errors: %v", wrapped)
	}
	if filter.ErrorList(nil).AsDomain() != nil || filter.ErrorList(nil).Err() != nil {
		t.Error("an empty ErrorList must be no error")
	}
}

// Dataverse documents In/NotIn PropertyValues as strings; on number and
// choice columns the string form means the number it spells.
func TestInStringValuesOnNumberColumns(t *testing.T) {
	t.Parallel()
	s := schema.BuiltIn()
	tests := []struct {
		src  string
		want []any
	}{
		{"Microsoft.Dynamics.CRM.In(PropertyName='publishedversion',PropertyValues=['1','3'])", []any{int64(1), int64(3)}},
		{"Microsoft.Dynamics.CRM.NotIn(PropertyName='publishedversion',PropertyValues=['2',4])", []any{int64(2), int64(4)}},
	}
	for _, tt := range tests {
		e, err := filter.Check(s, "mobileofflineprofile", mustParse(t, tt.src), filter.CheckOptions{})
		if err != nil {
			t.Fatalf("Check(%s): %v", tt.src, err)
		}
		c, ok := e.(*filter.Cond)
		if !ok || !cmp.Equal(c.Values, tt.want) {
			t.Errorf("Check(%s) = %#v, want values %v", tt.src, e, tt.want)
		}
	}
	for src, want := range map[string]string{
		"Microsoft.Dynamics.CRM.In(PropertyName='publishedversion',PropertyValues=['1','x'])": `column "publishedversion", operator "in": expected a whole number, got 'x'`,
		"Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['7'])":            `column "statecode", operator "in": 7 is not an option (the options are 0 (Active), 1 (Inactive))`,
		"publishedversion eq '1'": `column "publishedversion", operator "eq": expected a whole number, got '1'`,
	} {
		_, err := filter.Check(s, "mobileofflineprofile", mustParse(t, src), filter.CheckOptions{})
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Check(%s) error = %v, want it to end in %q", src, err, want)
		}
	}
}
