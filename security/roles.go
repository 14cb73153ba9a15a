package security

// Predefined role ids. They are the same in every environment so that
// solutions and scripts can name them.
const (
	RoleSystemAdministrator = "00000000-0000-4000-8000-000000000001"
	RoleSystemCustomizer    = "00000000-0000-4000-8000-000000000002"
	RoleEnvironmentMaker    = "00000000-0000-4000-8000-000000000003"
	RoleBasicUser           = "00000000-0000-4000-8000-000000000004"
)

// PredefinedRole is a role every environment starts with.
type PredefinedRole struct {
	ID          string
	Name        string
	Description string
	Admin       bool
	Customizer  bool
	Grants      []Grant
}

func grants(tables []string, d Depth, privs ...Privilege) []Grant {
	var out []Grant
	for _, t := range tables {
		for _, p := range privs {
			out = append(out, Grant{Table: t, Privilege: p, Depth: d})
		}
	}
	return out
}

// makerTables are the tables a maker works on: apps, profiles and sync errors.
var makerTables = []string{"canvasapp", "appmodule", "mobileofflineprofile", "mobileofflineprofileitem", "syncerror"}

// directoryTables are read by everyone so that lookups to people resolve.
var directoryTables = []string{"systemuser", "team", "businessunit"}

// commonTables are the business tables every user works with.
var commonTables = []string{"account", "contact", "task", "syncerror"}

// PredefinedRoles returns the roles of contract §1.
func PredefinedRoles() []PredefinedRole {
	all := []Privilege{Create, Read, Write, Delete, Append, AppendTo, Assign, Share}
	maker := append(grants(makerTables, Organization, Create, Read, Write, Delete, Share, Append, AppendTo),
		grants(directoryTables, Organization, Read)...)
	maker = append(maker, grants([]string{"role", "account", "contact", "task"}, Organization, Read)...)
	basic := grants(commonTables, User, all...)
	basic = append(basic, grants([]string{"mobileofflineprofile", "mobileofflineprofileitem", "appmodule"}, Organization, Read)...)
	basic = append(basic, grants(directoryTables, Organization, Read)...)
	basic = append(basic, grants([]string{"account", "contact"}, Organization, AppendTo)...)
	return []PredefinedRole{
		{ID: RoleSystemAdministrator, Name: "System Administrator", Admin: true, Customizer: true,
			Description: "Every privilege on every table at Organization depth, and all administration."},
		{ID: RoleSystemCustomizer, Name: "System Customizer", Customizer: true, Grants: maker,
			Description: "Customizes tables, apps and offline profiles; full access to apps, profiles and sync errors."},
		{ID: RoleEnvironmentMaker, Name: "Environment Maker", Customizer: true, Grants: maker,
			Description: "Makes apps and offline profiles; full access to apps, profiles and sync errors."},
		{ID: RoleBasicUser, Name: "Basic User", Grants: basic,
			Description: "Reads offline profiles and model-driven apps; works with its own records of the common tables."},
	}
}

// IsAdminRole reports whether roleID confers administration.
func IsAdminRole(roleID string) bool { return roleID == RoleSystemAdministrator }

// IsCustomizerRole reports whether roleID may change metadata, apps and profiles.
func IsCustomizerRole(roleID string) bool {
	return roleID == RoleSystemAdministrator || roleID == RoleSystemCustomizer || roleID == RoleEnvironmentMaker
}
