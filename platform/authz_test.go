package platform_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// every grants each privilege on table at depth.
func every(table string, d security.Depth) []security.Grant {
	var out []security.Grant
	for _, p := range security.Privileges {
		out = append(out, security.Grant{Table: table, Privilege: p, Depth: d})
	}
	return out
}

// TestShareRightsPerPrivilege: each right of a share lets its principal use
// one privilege on the row, and nothing else; a share never gives more than
// its sharer holds, nor lets its principal re-share beyond it.
func TestShareRightsPerPrivilege(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		grants := append(every("account", security.User), every("contact", security.User)...)
		role(t, p, o.u1, false, grants...)
		role(t, p, o.u2, false, grants...)
		role(t, p, o.u4, false, grants...)
		u1, u2 := principal(t, p, o.u1), principal(t, p, o.u2)
		row := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "account", map[string]any{"name": "nora's"}))
		id := row["accountid"].(string)
		contact := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u2, "contact", map[string]any{"lastname": "sam's"}))
		share := func(rights int64) { t.Helper(); testenv.Must(t, p.Share(ctx, u1, "account", id, o.u2, rights)) }

		// Read only: u2 lists and reads it, and may do nothing else.
		share(platform.ShareRead)
		if got := names(t, p, u2, "account", platform.Query{}); !cmp.Equal(got, []string{"nora's"}) {
			t.Fatalf("u2 lists %v", got)
		}
		testenv.MustGet[outpost.Row](t)(p.Get(ctx, u2, "account", id, nil))
		_, err := p.Update(ctx, u2, "account", id, map[string]any{"name": "x"})
		wantCode(t, err, outpost.CodeForbidden)
		wantCode(t, p.Delete(ctx, u2, "account", id), outpost.CodeForbidden)
		_, err = p.Assign(ctx, u2, "account", id, o.u2)
		wantCode(t, err, outpost.CodeForbidden)
		wantCode(t, p.Share(ctx, u2, "account", id, o.u4, platform.ShareRead), outpost.CodeForbidden)
		_, err = p.Update(ctx, u2, "contact", contact["contactid"].(string), map[string]any{"parentcustomerid": id})
		wantCode(t, err, outpost.CodeForbidden) // no append to right

		// Write: u2 may change columns, but not set a lookup without append.
		share(platform.ShareRead | platform.ShareWrite)
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, u2, "account", id, map[string]any{"telephone1": "555"}))
		_, err = p.Update(ctx, u2, "account", id, map[string]any{"primarycontactid": contact["contactid"]})
		wantCode(t, err, outpost.CodeForbidden)
		wantCode(t, p.Delete(ctx, u2, "account", id), outpost.CodeForbidden)
		share(platform.ShareRead | platform.ShareWrite | platform.ShareAppend)
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, u2, "account", id, map[string]any{"primarycontactid": contact["contactid"]}))

		// Append to: u2 may point a contact of theirs at it.
		share(platform.ShareRead | platform.ShareAppendTo)
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, u2, "contact", contact["contactid"].(string), map[string]any{"parentcustomerid": id}))

		// Share: u2 may re-share only the rights they hold.
		share(platform.ShareRead | platform.ShareShare)
		wantCode(t, p.Share(ctx, u2, "account", id, o.u4, platform.ShareRead|platform.ShareWrite), outpost.CodeForbidden)
		testenv.Must(t, p.Share(ctx, u2, "account", id, o.u4, platform.ShareRead))
		if got := names(t, p, principal(t, p, o.u4), "account", platform.Query{}); !cmp.Equal(got, []string{"nora's"}) {
			t.Fatalf("u4 lists %v after u2 re-shared", got)
		}

		// Bad masks are refused, naming the rights.
		for _, bad := range []int64{-1, 8, 1 << 40, platform.ShareWrite} {
			err := p.Share(ctx, u1, "account", id, o.u2, bad)
			wantCode(t, err, outpost.CodeInvalid)
			if outpost.ErrorTarget(err) != "rights" {
				t.Errorf("rights %d: error %v does not name rights", bad, err)
			}
		}

		// A sharer cannot give what they lack: without Delete, u3 may not
		// share the delete right.
		role(t, p, o.u3, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Share, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Create, Depth: security.User})
		u3 := principal(t, p, o.u3)
		own := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u3, "account", map[string]any{"name": "u3's"}))
		wantCode(t, p.Share(ctx, u3, "account", own["accountid"].(string), o.u2, platform.ShareRead|platform.ShareDelete), outpost.CodeForbidden)
		testenv.Must(t, p.Share(ctx, u3, "account", own["accountid"].(string), o.u2, platform.ShareRead))

		// Assign and delete rights.
		share(platform.ShareRead | platform.ShareAssign)
		wantCode(t, p.Delete(ctx, u2, "account", id), outpost.CodeForbidden)
		testenv.MustGet[outpost.Row](t)(p.Assign(ctx, u2, "account", id, o.u2))
		testenv.MustGet[outpost.Row](t)(p.Assign(ctx, sys, "account", id, o.u1))
		share(platform.ShareRead | platform.ShareDelete)
		testenv.Must(t, p.Delete(ctx, u2, "account", id))
	})
}

// TestDelegatedRoleManagementCannotEscalate: a role that manages roles,
// team roles and team members lets its holder give only what they hold,
// through the security functions and through the data API alike.
func TestDelegatedRoleManagementCannotEscalate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		var grants []security.Grant
		for _, tb := range []string{"systemuserroles", "teamroles", "teammembership"} {
			grants = append(grants, every(tb, security.Organization)...)
		}
		for _, tb := range []string{"role", "systemuser", "team"} {
			grants = append(grants, security.Grant{Table: tb, Privilege: security.Read, Depth: security.Organization},
				security.Grant{Table: tb, Privilege: security.AppendTo, Depth: security.Organization},
				security.Grant{Table: tb, Privilege: security.Write, Depth: security.Organization},
				security.Grant{Table: tb, Privilege: security.Delete, Depth: security.Organization})
		}
		grants = append(grants, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
		role(t, p, o.u1, false, grants...)
		u1 := principal(t, p, o.u1)
		big := testenv.MustGet[string](t)(p.CreateRole(ctx, sys, "big", []security.Grant{{Table: "account", Privilege: security.Read, Depth: security.Organization}}))
		small := testenv.MustGet[string](t)(p.CreateRole(ctx, sys, "small", []security.Grant{{Table: "account", Privilege: security.Read, Depth: security.User}}))

		for _, who := range []string{o.u1, o.u2} {
			wantCode(t, p.AssignUserRole(ctx, u1, who, security.RoleSystemAdministrator), outpost.CodeForbidden)
			wantCode(t, p.AssignUserRole(ctx, u1, who, security.RoleSystemCustomizer), outpost.CodeForbidden)
			wantCode(t, p.AssignUserRole(ctx, u1, who, big), outpost.CodeForbidden)
		}
		testenv.Must(t, p.AssignUserRole(ctx, u1, o.u2, small))
		testenv.Must(t, p.RemoveUserRole(ctx, u1, o.u2, small))
		// Nor may they take what they could not give.
		testenv.Must(t, p.AssignUserRole(ctx, sys, o.u2, security.RoleSystemAdministrator))
		wantCode(t, p.RemoveUserRole(ctx, u1, o.u2, security.RoleSystemAdministrator), outpost.CodeForbidden)

		// Team roles: the same rule, u1 being a member of TA.
		wantCode(t, p.AssignTeamRole(ctx, u1, o.ta, big), outpost.CodeForbidden)
		wantCode(t, p.AssignTeamRole(ctx, u1, o.ta, security.RoleSystemAdministrator), outpost.CodeForbidden)
		testenv.Must(t, p.AssignTeamRole(ctx, u1, o.ta, small))

		// Team membership: not a team holding a bigger role, nor one that
		// owns rows u1 does not reach through it.
		tb := testenv.MustGet[string](t)(p.CreateTeam(ctx, sys, "TB", o.b))
		testenv.Must(t, p.AssignTeamRole(ctx, sys, tb, big))
		wantCode(t, p.AddTeamMember(ctx, u1, tb, o.u1), outpost.CodeForbidden)
		tc := testenv.MustGet[string](t)(p.CreateTeam(ctx, sys, "TC", o.b))
		testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "tc's", "ownerid": tc}))
		wantCode(t, p.AddTeamMember(ctx, u1, tc, o.u1), outpost.CodeForbidden)
		td := testenv.MustGet[string](t)(p.CreateTeam(ctx, sys, "TD", o.b))
		testenv.Must(t, p.AssignTeamRole(ctx, sys, td, small))
		testenv.Must(t, p.AddTeamMember(ctx, u1, td, o.u2))
		testenv.Must(t, p.RemoveTeamMember(ctx, u1, td, o.u2))
		// Members of a team holding rows may manage it.
		testenv.Must(t, p.AddTeamMember(ctx, u1, o.ta, o.u2))

		// The data API on the relationship tables follows the same rules.
		_, err := p.Create(ctx, u1, "systemuserroles", map[string]any{"systemuserid": o.u1, "roleid": security.RoleSystemAdministrator})
		wantCode(t, err, outpost.CodeForbidden)
		_, err = p.Create(ctx, u1, "teamroles", map[string]any{"teamid": o.ta, "roleid": big})
		wantCode(t, err, outpost.CodeForbidden)
		_, err = p.Create(ctx, u1, "teammembership", map[string]any{"teamid": tc, "systemuserid": o.u1})
		wantCode(t, err, outpost.CodeForbidden)
		// Deleting a role needs the same, and predefined roles stay.
		wantCode(t, p.Delete(ctx, u1, "role", big), outpost.CodeForbidden)
		wantCode(t, p.Delete(ctx, u1, "role", security.RoleBasicUser), outpost.CodeInvalid)
		// Editing role privileges is for administrators.
		wantCode(t, p.SetRolePrivileges(ctx, u1, small, []security.Grant{{Table: "account", Privilege: security.Read, Depth: security.Organization}}), outpost.CodeForbidden)

		if pr := principal(t, p, o.u1); pr.Admin || pr.Depth(p.Schema().MustTable("account"), security.Read) != security.User {
			t.Fatalf("u1 escalated: admin %v, account read %v", pr.Admin, pr.Depth(p.Schema().MustTable("account"), security.Read))
		}
	})
}

// TestSyncErrorsAreWrittenOnlyByTheServer: no caller creates, changes or
// reassigns a Sync Error through the data API, whatever their privileges.
func TestSyncErrorsAreWrittenOnlyByTheServer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		testenv.Must(t, p.AssignUserRole(ctx, sys, o.u1, security.RoleBasicUser))
		testenv.Must(t, p.AssignUserRole(ctx, sys, o.u2, security.RoleSystemCustomizer))
		testenv.Must(t, p.AssignUserRole(ctx, sys, o.u3, security.RoleSystemAdministrator))
		own := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "syncerror", map[string]any{"name": "recorded", "ownerid": o.u1, "actiondata": "{}"}))
		id := own["syncerrorid"].(string)
		for _, who := range []string{o.u1, o.u2, o.u3} {
			by := principal(t, p, who)
			_, err := p.Create(ctx, by, "syncerror", map[string]any{"name": "planted", "ownerid": who, "actiondata": `{"op":"delete"}`})
			wantCode(t, err, outpost.CodeForbidden)
			_, err = p.Update(ctx, by, "syncerror", id, map[string]any{"actiondata": `{"op":"delete"}`})
			wantCode(t, err, outpost.CodeForbidden)
			_, err = p.Assign(ctx, by, "syncerror", id, o.u4)
			wantCode(t, err, outpost.CodeForbidden)
		}
		// Users still read their own.
		got := testenv.MustGet[outpost.Row](t)(p.Get(ctx, principal(t, p, o.u1), "syncerror", id, nil))
		if got["actiondata"] != "{}" || got["ownerid"] != o.u1 {
			t.Fatalf("sync error changed: %v", got)
		}
	})
}
