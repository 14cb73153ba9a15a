package platform_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// accounts creates one account per owner, named after it, plus "shared",
// owned by u2 and shared with u1.
func accounts(t *testing.T, p *platform.Platform, o *org) {
	t.Helper()
	ctx := context.Background()
	sys := platform.System()
	for name, owner := range map[string]string{"u1": o.u1, "u2": o.u2, "u3": o.u3, "u4": o.u4, "ta": o.ta} {
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": name, "ownerid": owner}))
	}
	sh := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "shared", "ownerid": o.u2}))
	testenv.Must(t, p.Share(ctx, sys, "account", sh["accountid"].(string), o.u1, platform.ShareRead))
}

func TestReadDepths(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		o := newOrg(t, p)
		accounts(t, p, o)
		tests := []struct {
			name  string
			depth security.Depth
			want  []string
		}{
			{"user: own, team and shared rows", security.User, []string{"shared", "ta", "u1"}},
			{"business unit: plus the unit's rows", security.BusinessUnit, []string{"shared", "ta", "u1", "u2"}},
			{"parent-child: plus child units' rows", security.ParentChild, []string{"shared", "ta", "u1", "u2", "u3"}},
			{"organization: every row", security.Organization, []string{"shared", "ta", "u1", "u2", "u3", "u4"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Read, Depth: tt.depth})
				defer func() { testenv.Must(t, p.RemoveUserRole(context.Background(), platform.System(), o.u1, r)) }()
				got := names(t, p, principal(t, p, o.u1), "account", platform.Query{})
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("rows u1 reads (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestNoReadPrivilege(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		o := newOrg(t, p)
		accounts(t, p, o)
		_, err := p.List(context.Background(), principal(t, p, o.u4), "account", platform.Query{})
		wantCode(t, err, outpost.CodeForbidden)
	})
}

func TestPrivilegesAddUpThroughTeams(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		o := newOrg(t, p)
		accounts(t, p, o)
		role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
		if got := names(t, p, principal(t, p, o.u1), "account", platform.Query{}); len(got) != 3 {
			t.Fatalf("with a User role u1 reads %v, want 3 rows", got)
		}
		// The team's role reaches further: the deepest depth wins.
		role(t, p, o.ta, true, security.Grant{Table: "account", Privilege: security.Read, Depth: security.ParentChild})
		want := []string{"shared", "ta", "u1", "u2", "u3"}
		if diff := cmp.Diff(want, names(t, p, principal(t, p, o.u1), "account", platform.Query{})); diff != "" {
			t.Errorf("rows through the team's role (-want +got):\n%s", diff)
		}
		// Leaving the team takes the team's privileges and team rows away.
		testenv.Must(t, p.RemoveTeamMember(context.Background(), platform.System(), o.ta, o.u1))
		want = []string{"shared", "u1"}
		if diff := cmp.Diff(want, names(t, p, principal(t, p, o.u1), "account", platform.Query{})); diff != "" {
			t.Errorf("rows after leaving the team (-want +got):\n%s", diff)
		}
	})
}

func TestWriteDeleteAssignShareChecks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		role(t, p, o.u1, false,
			security.Grant{Table: "account", Privilege: security.Read, Depth: security.BusinessUnit},
			security.Grant{Table: "account", Privilege: security.Create, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Write, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Delete, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Share, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Assign, Depth: security.User})
		u1 := principal(t, p, o.u1)
		mine := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "account", map[string]any{"name": "mine"}))
		if mine["ownerid"] != o.u1 || mine["owningbusinessunit"] != o.a || mine["owneridtype"] != "systemuser" {
			t.Fatalf("new row ownership = %v/%v/%v, want u1 in A", mine["ownerid"], mine["owningbusinessunit"], mine["owneridtype"])
		}
		theirs := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "theirs", "ownerid": o.u2}))
		far := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "far", "ownerid": o.u4}))
		id := func(r outpost.Row) string { return r["accountid"].(string) }

		// u1 reads u2's row (BU depth) but may not write or delete it (User depth).
		_, err := p.Update(ctx, u1, "account", id(theirs), map[string]any{"name": "x"})
		wantCode(t, err, outpost.CodeForbidden)
		wantCode(t, p.Delete(ctx, u1, "account", id(theirs)), outpost.CodeForbidden)
		// A row u1 cannot read does not exist for u1.
		_, err = p.Update(ctx, u1, "account", id(far), map[string]any{"name": "x"})
		wantCode(t, err, outpost.CodeNotFound)
		_, err = p.Get(ctx, u1, "account", id(far), nil)
		wantCode(t, err, outpost.CodeNotFound)

		// PATCH changes only the sent columns.
		upd := testenv.MustGet[outpost.Row](t)(p.Update(ctx, u1, "account", id(mine), map[string]any{"telephone1": "555"}))
		if upd["name"] != "mine" || upd["telephone1"] != "555" || upd["versionnumber"].(int64) <= mine["versionnumber"].(int64) {
			t.Fatalf("after PATCH row = %v", upd)
		}

		// Sharing gives u2 access at User depth.
		role(t, p, o.u2, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
		u2 := principal(t, p, o.u2)
		if got := names(t, p, u2, "account", platform.Query{}); !cmp.Equal(got, []string{"theirs"}) {
			t.Fatalf("u2 before share reads %v", got)
		}
		testenv.Must(t, p.Share(ctx, u1, "account", id(mine), o.u2, platform.ShareRead))
		if got := names(t, p, u2, "account", platform.Query{}); !cmp.Equal(got, []string{"mine", "theirs"}) {
			t.Fatalf("u2 after share reads %v", got)
		}
		testenv.Must(t, p.Share(ctx, u1, "account", id(mine), o.u2, 0))
		if got := names(t, p, u2, "account", platform.Query{}); !cmp.Equal(got, []string{"theirs"}) {
			t.Fatalf("u2 after unshare reads %v", got)
		}

		// Assign moves the row to u4 (business unit B) and out of u1's reach.
		row := testenv.MustGet[outpost.Row](t)(p.Assign(ctx, u1, "account", id(mine), o.u4))
		if row["ownerid"] != o.u4 || row["owningbusinessunit"] != o.b {
			t.Fatalf("after assign ownership = %v/%v", row["ownerid"], row["owningbusinessunit"])
		}
		_, err = p.Get(ctx, u1, "account", id(mine), nil)
		wantCode(t, err, outpost.CodeNotFound)
		// u1 may delete its own rows.
		again := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "account", map[string]any{"name": "again"}))
		testenv.Must(t, p.Delete(ctx, u1, "account", id(again)))
		// u2 cannot assign (no Assign privilege).
		_, err = p.Assign(ctx, u2, "account", id(theirs), o.u1)
		wantCode(t, err, outpost.CodeForbidden)
	})
}

// An update checks its row in the UPDATE statement when nothing needs the
// row first; the answers are the ones a check before it gives: a row the
// caller cannot read is not found whatever the input, one it reads but may
// not change is forbidden, and only then is the input's error the answer.
func TestUpdateAnswersWhateverChecksItsRow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		role(t, p, o.u1, false,
			security.Grant{Table: "account", Privilege: security.Read, Depth: security.BusinessUnit},
			security.Grant{Table: "account", Privilege: security.Write, Depth: security.User})
		u1 := principal(t, p, o.u1)
		id := func(r outpost.Row) string { return r["accountid"].(string) }
		mine := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "mine", "ownerid": o.u1}))
		theirs := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "theirs", "ownerid": o.u2}))
		far := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "far", "ownerid": o.u4}))
		lent := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "lent", "ownerid": o.u4}))
		testenv.Must(t, p.Share(ctx, sys, "account", id(lent), o.u1, platform.ShareRead|platform.ShareWrite))
		gone := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "gone", "ownerid": o.u1}))
		testenv.Must(t, p.Delete(ctx, sys, "account", id(gone)))

		valid := map[string]any{"telephone1": "555"}
		invalid := map[string]any{"nosuchcolumn": "x"}
		for _, tt := range []struct {
			name  string
			id    string
			input map[string]any
			want  outpost.Code
		}{
			{"a row it cannot read", id(far), valid, outpost.CodeNotFound},
			{"a row it cannot read, bad input", id(far), invalid, outpost.CodeNotFound},
			{"a deleted row", id(gone), valid, outpost.CodeNotFound},
			{"not a row id", "12", valid, outpost.CodeInvalid},
			{"a row it reads but may not change", id(theirs), valid, outpost.CodeForbidden},
			{"a row it reads but may not change, bad input", id(theirs), invalid, outpost.CodeForbidden},
			{"its own row, bad input", id(mine), invalid, outpost.CodeInvalid},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := p.Update(ctx, u1, "account", tt.id, tt.input)
				wantCode(t, err, tt.want)
			})
		}
		for _, r := range []outpost.Row{mine, lent} {
			got := testenv.MustGet[outpost.Row](t)(p.Update(ctx, u1, "account", id(r), valid))
			if got["telephone1"] != "555" || got["name"] != r["name"] || got["versionnumber"].(int64) <= r["versionnumber"].(int64) {
				t.Errorf("update of %s returned %v", r["name"], got)
			}
			again := testenv.MustGet[outpost.Row](t)(p.Get(ctx, u1, "account", id(r), nil))
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("%s as the update returned it and as read afterwards (-update +read):\n%s", r["name"], diff)
			}
		}
		if got := testenv.MustGet[outpost.Row](t)(p.Get(ctx, sys, "account", id(theirs), nil)); got["telephone1"] != nil {
			t.Errorf("a refused update changed the row: telephone1 = %v", got["telephone1"])
		}
	})
}

// TestCreateDepthReachesOwners: a new row must fall inside the caller's
// create depth, whoever it is given to: at User depth the caller and its
// teams, at Business Unit depth every owner of the caller's unit, never one
// of another unit; a refused create leaves no row behind.
func TestCreateDepthReachesOwners(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		grants := func(create security.Depth) []security.Grant {
			return []security.Grant{
				{Table: "account", Privilege: security.Read, Depth: security.Organization},
				{Table: "account", Privilege: security.Create, Depth: create},
				{Table: "account", Privilege: security.Assign, Depth: security.Organization},
			}
		}
		role(t, p, o.u1, false, grants(security.User)...)
		role(t, p, o.u2, false, grants(security.BusinessUnit)...)
		u1, u2 := principal(t, p, o.u1), principal(t, p, o.u2)
		for _, c := range []struct {
			by    *security.Principal
			owner string
			ok    bool
		}{
			{u1, o.u1, true}, {u1, o.ta, true}, {u1, o.u2, false}, {u1, o.u4, false},
			{u2, o.u2, true}, {u2, o.u1, true}, {u2, o.ta, true}, {u2, o.u3, false}, {u2, o.u4, false},
		} {
			name := "for " + c.owner + " by " + c.by.UserID
			_, err := p.Create(ctx, c.by, "account", map[string]any{"name": name, "ownerid": c.owner})
			switch {
			case c.ok && err != nil:
				t.Errorf("create %s: %v", name, err)
			case !c.ok:
				testenv.WantError(t, err, outpost.CodeForbidden, `your create privilege on table "account" does not reach rows owned by `+c.owner)
				if got := names(t, p, platform.System(), "account", platform.Query{Filter: "name eq '" + name + "'"}); len(got) != 0 {
					t.Errorf("refused create %s left %v", name, got)
				}
			}
		}
	})
}

func TestAppendAndAppendTo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		far := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "far", "ownerid": o.u4}))
		near := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "near", "ownerid": o.u1}))
		role(t, p, o.u1, false,
			security.Grant{Table: "contact", Privilege: security.Create, Depth: security.User},
			security.Grant{Table: "contact", Privilege: security.Read, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
		u1 := principal(t, p, o.u1)
		// No Append on contact.
		_, err := p.Create(ctx, u1, "contact", map[string]any{"lastname": "x", "parentcustomerid": near["accountid"]})
		wantCode(t, err, outpost.CodeForbidden)
		role(t, p, o.u1, false,
			security.Grant{Table: "contact", Privilege: security.Append, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.AppendTo, Depth: security.User})
		u1 = principal(t, p, o.u1)
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "contact", map[string]any{"lastname": "x", "parentcustomerid": near["accountid"]}))
		// A lookup to a row that does not exist is bad input, and one to a
		// row u1 can neither read nor append to answers the same.
		missingID := outpost.NewID()
		_, errMissing := p.Create(ctx, u1, "contact", map[string]any{"lastname": "z", "parentcustomerid": missingID})
		wantCode(t, errMissing, outpost.CodeInvalid)
		_, err = p.Create(ctx, u1, "contact", map[string]any{"lastname": "y", "parentcustomerid": far["accountid"]})
		wantCode(t, err, outpost.CodeInvalid)
		if got, want := outpost.ErrorMessage(err), strings.ReplaceAll(outpost.ErrorMessage(errMissing), missingID, far["accountid"].(string)); got != want {
			t.Errorf("unreadable lookup target says %q, a missing one %q", got, want)
		}
		// Shared for reading only, far is readable but Append To still
		// reaches only u1's accounts.
		testenv.Must(t, p.Share(ctx, sys, "account", far["accountid"].(string), o.u1, platform.ShareRead))
		_, err = p.Create(ctx, u1, "contact", map[string]any{"lastname": "y", "parentcustomerid": far["accountid"]})
		wantCode(t, err, outpost.CodeForbidden)
		// The append to right of a share reaches it.
		testenv.Must(t, p.Share(ctx, sys, "account", far["accountid"].(string), o.u1, platform.ShareRead|platform.ShareAppendTo))
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "contact", map[string]any{"lastname": "y", "parentcustomerid": far["accountid"]}))
	})
}

func TestUserDepthOnOrganizationOwnedTable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		role(t, p, o.u1, false, security.Grant{Table: "appmodule", Privilege: security.Read, Depth: security.Organization})
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, platform.System(), "appmodule", map[string]any{"name": "app"}))
		if got := names(t, p, principal(t, p, o.u1), "appmodule", platform.Query{}); !cmp.Equal(got, []string{"app"}) {
			t.Fatalf("u1 reads %v", got)
		}
		r := testenv.MustGet[string](t)(p.CreateRole(ctx, platform.System(), "bad", nil))
		err := p.SetRolePrivileges(ctx, platform.System(), r, []security.Grant{{Table: "appmodule", Privilege: security.Read, Depth: security.User}})
		wantCode(t, err, outpost.CodeInvalid)
	})
}

func TestHierarchyOperators(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		o := newOrg(t, p)
		accounts(t, p, o)
		role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.Organization})
		u1 := principal(t, p, o.u1)
		// u3 reports to u1.
		got := names(t, p, u1, "account", platform.Query{Filter: "Microsoft.Dynamics.CRM.EqUserOrUserHierarchy(PropertyName='ownerid')"})
		if diff := cmp.Diff([]string{"u1", "u3"}, got); diff != "" {
			t.Errorf("eq-useroruserhierarchy (-want +got):\n%s", diff)
		}
		got = names(t, p, u1, "account", platform.Query{Filter: "Microsoft.Dynamics.CRM.EqUserTeams(PropertyName='ownerid')"})
		if diff := cmp.Diff([]string{"ta"}, got); diff != "" {
			t.Errorf("eq-userteams (-want +got):\n%s", diff)
		}
		got = names(t, p, u1, "account", platform.Query{Filter: "Microsoft.Dynamics.CRM.EqBusinessId(PropertyName='owningbusinessunit')"})
		if diff := cmp.Diff([]string{"shared", "ta", "u1", "u2"}, got); diff != "" {
			t.Errorf("eq-businessid (-want +got):\n%s", diff)
		}
	})
}

func TestAuthenticateFollowsSecurityChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		tok := testenv.MustGet[string](t)(p.IssueToken(ctx, sys, o.u1, "t"))
		pr := testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, tok))
		if pr.Privileges.Depth("account", security.Read) != security.None {
			t.Fatal("u1 starts with read on account")
		}
		// A cached principal must not hide a new role.
		r := role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
		pr = testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, tok))
		if pr.Privileges.Depth("account", security.Read) != security.User {
			t.Fatal("new role not seen by Authenticate")
		}
		testenv.Must(t, p.RemoveUserRole(ctx, sys, o.u1, r))
		pr = testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, tok))
		if pr.Privileges.Depth("account", security.Read) != security.None {
			t.Fatal("removed role still seen by Authenticate")
		}
		// Disabling the user or revoking tokens locks them out at once.
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "systemuser", o.u1, map[string]any{"isdisabled": true}))
		_, err := p.Authenticate(ctx, tok)
		wantCode(t, err, outpost.CodeUnauthorized)
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "systemuser", o.u1, map[string]any{"isdisabled": false}))
		testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, tok))
		testenv.Must(t, p.RevokeTokens(ctx, sys, o.u1))
		_, err = p.Authenticate(ctx, tok)
		wantCode(t, err, outpost.CodeUnauthorized)
	})
}

func TestFilterLinksOnlySeeReadableRows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		hidden := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "contact", map[string]any{"lastname": "Secret", "fullname": "Secret", "ownerid": o.u4}))
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "mine", "ownerid": o.u1, "primarycontactid": hidden["contactid"]}))
		role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
		u1 := principal(t, p, o.u1)
		q := platform.Query{Filter: "primarycontactid/fullname eq 'Secret'"}
		if got := names(t, p, u1, "account", q); len(got) != 0 {
			t.Fatalf("u1 probed an unreadable contact through a link: %v", got)
		}
		role(t, p, o.u1, false, security.Grant{Table: "contact", Privilege: security.Read, Depth: security.Organization})
		if got := names(t, p, principal(t, p, o.u1), "account", q); !cmp.Equal(got, []string{"mine"}) {
			t.Fatalf("with read on contacts the link matches %v", got)
		}
	})
}

// TestWriteAsFollowsSecurityChanges: a write as a principal from memory
// (WriteAs, what a one-row data API write does) runs as that principal
// only while the security log has not moved since it was loaded; after a
// role is removed it runs as the user's principal read afresh and is
// refused, and a disabled user's write does not run at all. A row the
// caller creates for itself takes the business unit its principal holds.
func TestWriteAsFollowsSecurityChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		r, tok, cached, v := accountCreator(t, p, o.u1)
		create := func(by *security.Principal, v int64, name string) (*security.Principal, outpost.Row, error) {
			var ran *security.Principal
			var row outpost.Row
			err := p.WriteAs(ctx, by, v, func(w *platform.Writer, by *security.Principal) (err error) {
				ran = by
				row, err = w.Create(ctx, by, "account", map[string]any{"name": name})
				return err
			})
			return ran, row, err
		}
		ran, row, err := create(cached, v, "first")
		testenv.Must(t, err)
		if ran != cached {
			t.Fatal("with the security log unchanged, the write did not run as the principal from memory")
		}
		if row["owningbusinessunit"] != o.a || row["ownerid"] != o.u1 {
			t.Fatalf("own row: owner %v in business unit %v, want %s in %s", row["ownerid"], row["owningbusinessunit"], o.u1, o.a)
		}

		testenv.Must(t, p.RemoveUserRole(ctx, sys, o.u1, r))
		stale, sv, ok := p.CachedPrincipal(o.u1)
		if !ok || stale != cached || sv != v {
			t.Fatal("the test needs the principal from before the change still cached")
		}
		ran, _, err = create(stale, sv, "second")
		wantCode(t, err, outpost.CodeForbidden)
		if ran == nil || ran == stale || ran.Privileges.Depth("account", security.Create) != security.None {
			t.Fatal("after the role was removed, the write ran as the principal from before")
		}
		if n := len(names(t, p, sys, "account", platform.Query{Filter: "name eq 'second'"})); n != 0 {
			t.Fatalf("the refused create left %d rows", n)
		}

		role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Create, Depth: security.User})
		_, cached, v, err = p.AuthenticateCredential(ctx, tok, false)
		testenv.Must(t, err)
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "systemuser", o.u1, map[string]any{"isdisabled": true}))
		ran, _, err = create(cached, v, "third")
		wantCode(t, err, outpost.CodeUnauthorized)
		if ran != nil {
			t.Fatal("a disabled user's write ran")
		}
	})
}
