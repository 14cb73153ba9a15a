// Package security is Outpost's access model: privileges granted per table
// at a depth by security roles, summed over a user's own roles and their
// teams' roles, and the filter that says which rows of a table a user may
// touch with a privilege. It knows no SQL: the filter is a filter.Expr that
// sqlgen compiles, so list queries are restricted in the database.
package security

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// Privilege is one of the eight record privileges.
type Privilege string

// The privileges.
const (
	Create   Privilege = "create"
	Read     Privilege = "read"
	Write    Privilege = "write"
	Delete   Privilege = "delete"
	Append   Privilege = "append"
	AppendTo Privilege = "appendto"
	Assign   Privilege = "assign"
	Share    Privilege = "share"
)

// Privileges lists every privilege.
var Privileges = []Privilege{Create, Read, Write, Delete, Append, AppendTo, Assign, Share}

// ParsePrivilege parses a privilege name, case-insensitively.
func ParsePrivilege(s string) (Privilege, error) {
	for _, p := range Privileges {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", outpost.Invalidf("privilege %q is not valid: use create, read, write, delete, append, appendto, assign or share", s).WithTarget("privilege")
}

// Depth is how far a privilege reaches.
type Depth int

// The depths, in increasing reach.
const (
	None         Depth = 0
	User         Depth = 1 // rows owned by the user or their teams, or shared with them
	BusinessUnit Depth = 2 // plus rows of the user's business unit
	ParentChild  Depth = 3 // plus rows of business units below the user's
	Organization Depth = 4 // every row
)

var depthNames = map[Depth]string{None: "none", User: "user", BusinessUnit: "businessunit", ParentChild: "parentchild", Organization: "organization"}

func (d Depth) String() string { return depthNames[d] }

// ParseDepth parses a depth name ("none", "user", "businessunit",
// "parentchild", "organization") or its number 0-4.
func ParseDepth(s string) (Depth, error) {
	for d, n := range depthNames {
		if strings.EqualFold(s, n) || s == fmt.Sprint(int(d)) {
			return d, nil
		}
	}
	return 0, outpost.Invalidf("depth %q is not valid: use none, user, businessunit, parentchild or organization", s).WithTarget("depth")
}

// Grant is one privilege on one table at a depth.
type Grant struct {
	Table     string    `json:"table"`
	Privilege Privilege `json:"privilege"`
	Depth     Depth     `json:"depth"`
}

// Set holds the deepest depth per table and privilege; the zero value is empty.
type Set map[string]map[Privilege]Depth

// Add raises the depth of g in s to g.Depth if deeper: privileges add up.
func (s Set) Add(g Grant) {
	m := s[g.Table]
	if m == nil {
		m = map[Privilege]Depth{}
		s[g.Table] = m
	}
	if g.Depth > m[g.Privilege] {
		m[g.Privilege] = g.Depth
	}
}

// Depth returns the depth of p on table.
func (s Set) Depth(table string, p Privilege) Depth { return s[table][p] }

// Grants returns the contents of s sorted by table and privilege.
func (s Set) Grants() []Grant {
	out := []Grant{}
	for t, m := range s {
		for p, d := range m {
			if d > None {
				out = append(out, Grant{t, p, d})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Privilege < out[j].Privilege
	})
	return out
}

// AccessRights is the mask of rights a share gives, with Dataverse's
// AccessRights values: each right lets the principal shared with use one
// privilege on the row, at User depth, when a role grants them that
// privilege on the table at all.
type AccessRights int64

// The share rights.
const (
	ReadAccess     AccessRights = 1
	WriteAccess    AccessRights = 2
	AppendAccess   AccessRights = 4
	AppendToAccess AccessRights = 16
	DeleteAccess   AccessRights = 65536
	ShareAccess    AccessRights = 262144
	AssignAccess   AccessRights = 524288
)

// AllAccess is every share right.
const AllAccess = ReadAccess | WriteAccess | AppendAccess | AppendToAccess | DeleteAccess | ShareAccess | AssignAccess

// shareRight is the right of a share that privilege priv may use; Create
// has none (a new row has no shares).
var shareRight = map[Privilege]AccessRights{
	Read: ReadAccess, Write: WriteAccess, Append: AppendAccess, AppendTo: AppendToAccess,
	Delete: DeleteAccess, Share: ShareAccess, Assign: AssignAccess,
}

// Right returns the share right that lets a principal use priv on a row
// shared with them, 0 for Create.
func Right(priv Privilege) AccessRights { return shareRight[priv] }

// Privileges returns the privileges the rights of a share let its principal
// use, in the order of Privileges.
func (r AccessRights) Privileges() []Privilege {
	var out []Privilege
	for _, p := range Privileges {
		if b := shareRight[p]; b != 0 && r&b != 0 {
			out = append(out, p)
		}
	}
	return out
}

// ParseAccessRights checks a share's rights mask: only the bits of
// AllAccess, and a share that gives anything must give Read (a row one
// cannot read cannot be written, deleted, assigned or shared).
func ParseAccessRights(mask int64) (AccessRights, error) {
	r := AccessRights(mask)
	if mask < 0 || r&^AllAccess != 0 {
		return 0, outpost.Invalidf("rights %d is not a mask of share rights: add up 1 read, 2 write, 4 append, 16 append to, 65536 delete, 262144 share and 524288 assign (0 removes the share)", mask).WithTarget("rights")
	}
	if r != 0 && r&ReadAccess == 0 {
		return 0, outpost.Invalidf("rights %d gives no read right: a share that gives anything must include 1 (read)", mask).WithTarget("rights")
	}
	return r, nil
}

// Principal is an authenticated user with everything access decisions need.
type Principal struct {
	UserID         string
	BusinessUnitID string
	// BusinessUnitSubtree is the user's business unit and every unit below it.
	BusinessUnitSubtree []string
	TeamIDs             []string
	// HierarchyUserIDs are the user and everyone below them as manager.
	HierarchyUserIDs []string
	RoleIDs          []string
	// Admin is true for System Administrators: every privilege on every table
	// at Organization depth, and all administration.
	Admin bool
	// Customizer is true for System Administrators, System Customizers and
	// Environment Makers: they may change metadata, apps and profiles.
	Customizer bool
	Privileges Set
	// Server is true only for the principal Outpost itself acts as
	// (platform.System): it alone writes the rows the server keeps, such
	// as Sync Errors.
	Server bool
}

// Env returns the filter environment of p.
func (p *Principal) Env() *filter.Env {
	return &filter.Env{UserID: p.UserID, TeamIDs: p.TeamIDs, HierarchyUserIDs: p.HierarchyUserIDs, BusinessUnitID: p.BusinessUnitID}
}

// Depth returns p's depth of priv on table t, with the organization-owned
// rule applied: those tables know only Organization or None.
func (p *Principal) Depth(t *schema.Table, priv Privilege) Depth {
	if p.Admin {
		return Organization
	}
	d := p.Privileges.Depth(t.Name, priv)
	if d > None && !t.HasOwner() && !t.HasBusinessUnit() {
		return Organization
	}
	return d
}

// Reaches reports whether Filter(t, priv) admits a row owned by owner
// whatever its other columns hold: Organization depth admits every row,
// and every depth the rows owned by the user or one of their teams. false
// means only the filter, evaluated on the row, can tell.
func (p *Principal) Reaches(t *schema.Table, priv Privilege, owner string) bool {
	switch d := p.Depth(t, priv); {
	case d == None:
		return false
	case d == Organization:
		return true
	}
	return t.HasOwner() && owner != "" && (owner == p.UserID || slices.Contains(p.TeamIDs, owner))
}

// Filter returns the rows of t that p may use priv on, as a filter over t,
// or nil when p has no such privilege at all.
//
//   - Organization: every row.
//   - Parent: Child Business Units: rows of the user's unit or a unit below
//     it, plus the User rows.
//   - Business Unit: rows of the user's unit, plus the User rows.
//   - User: rows owned by the user or one of their teams, or shared with
//     the user or one of their teams with the share right of priv (Right);
//     Create reaches no shared rows. Business-owned tables have no owner:
//     there User depth means the user's own business unit.
func (p *Principal) Filter(t *schema.Table, priv Privilege) filter.Expr {
	d := p.Depth(t, priv)
	switch {
	case d == None:
		return nil
	case d == Organization:
		return &filter.Const{Value: true}
	}
	var or []filter.Expr
	if t.HasOwner() {
		or = append(or, &filter.Cond{Column: schema.ColOwnerID, Op: filter.EqUserOrUserTeams})
		if right := Right(priv); right != 0 {
			// The share must carry the right of this privilege.
			or = append(or, &filter.Cond{Column: t.PrimaryKey(), Op: filter.EqSharedWithUser, Values: []any{int64(right)}})
		}
	}
	switch {
	case d >= ParentChild:
		vals := make([]any, len(p.BusinessUnitSubtree))
		for i, id := range p.BusinessUnitSubtree {
			vals[i] = id
		}
		or = append(or, &filter.Cond{Column: schema.ColOwningBusinessUnit, Op: filter.In, Values: vals})
	case d >= BusinessUnit || !t.HasOwner():
		or = append(or, &filter.Cond{Column: schema.ColOwningBusinessUnit, Op: filter.EqBusinessID})
	}
	return &filter.Or{List: or}
}
