package security_test

import (
	"testing"

	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

func TestSetAddKeepsDeepest(t *testing.T) {
	s := security.Set{}
	s.Add(security.Grant{Table: "account", Privilege: security.Read, Depth: security.BusinessUnit})
	s.Add(security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
	s.Add(security.Grant{Table: "account", Privilege: security.Write, Depth: security.User})
	if d := s.Depth("account", security.Read); d != security.BusinessUnit {
		t.Errorf("read depth = %v, want businessunit", d)
	}
	if g := s.Grants(); len(g) != 2 {
		t.Errorf("grants = %v", g)
	}
}

func TestParse(t *testing.T) {
	if d, err := security.ParseDepth("ParentChild"); err != nil || d != security.ParentChild {
		t.Errorf("ParseDepth = %v, %v", d, err)
	}
	if _, err := security.ParseDepth("global"); err == nil {
		t.Error("ParseDepth accepted global")
	}
	if p, err := security.ParsePrivilege("AppendTo"); err != nil || p != security.AppendTo {
		t.Errorf("ParsePrivilege = %v, %v", p, err)
	}
}

func TestFilterShapes(t *testing.T) {
	s := schema.BuiltIn()
	acc, app := s.MustTable("account"), s.MustTable("appmodule")
	p := &security.Principal{UserID: "u", Privileges: security.Set{}}
	if p.Filter(acc, security.Read) != nil {
		t.Error("no privilege must give no filter")
	}
	p.Privileges.Add(security.Grant{Table: "appmodule", Privilege: security.Read, Depth: security.User})
	if d := p.Depth(app, security.Read); d != security.Organization {
		t.Errorf("organization-owned depth = %v, want organization", d)
	}
	admin := &security.Principal{Admin: true}
	if d := admin.Depth(acc, security.Delete); d != security.Organization {
		t.Errorf("admin depth = %v", d)
	}
}

// TestReaches: the owner alone tells only for the user's and their teams'
// rows (any depth) and for every row at Organization depth; never without
// the privilege, never for another user's row below Organization depth.
func TestReaches(t *testing.T) {
	acc := schema.BuiltIn().MustTable("account")
	at := func(d security.Depth) *security.Principal {
		p := &security.Principal{UserID: "u", TeamIDs: []string{"team"}, Privileges: security.Set{}}
		if d > security.None {
			p.Privileges.Add(security.Grant{Table: "account", Privilege: security.Create, Depth: d})
		}
		return p
	}
	for _, c := range []struct {
		depth security.Depth
		owner string
		want  bool
	}{
		{security.None, "u", false}, {security.None, "team", false},
		{security.User, "u", true}, {security.User, "team", true}, {security.User, "other", false}, {security.User, "", false},
		{security.BusinessUnit, "u", true}, {security.BusinessUnit, "other", false},
		{security.ParentChild, "other", false},
		{security.Organization, "other", true},
	} {
		if got := at(c.depth).Reaches(acc, security.Create, c.owner); got != c.want {
			t.Errorf("depth %v, owner %q: Reaches = %v, want %v", c.depth, c.owner, got, c.want)
		}
	}
	if at(security.User).Reaches(acc, security.Write, "u") {
		t.Error("a create grant reached a write")
	}
}

func TestBasicUserCannotReadCanvasApps(t *testing.T) {
	for _, r := range security.PredefinedRoles() {
		if r.ID != security.RoleBasicUser {
			continue
		}
		for _, g := range r.Grants {
			if g.Table == "canvasapp" {
				t.Errorf("Basic User grants %v on canvasapp", g)
			}
		}
	}
}
