package schema

import (
	"strings"

	"github.com/outposthq/outpost"
)

// System column names present on every table (some only for some ownership types).
const (
	ColCreatedOn          = "createdon"
	ColModifiedOn         = "modifiedon"
	ColCreatedBy          = "createdby"
	ColModifiedBy         = "modifiedby"
	ColOwnerID            = "ownerid"
	ColOwnerIDType        = "owneridtype"
	ColOwningBusinessUnit = "owningbusinessunit"
	ColStateCode          = "statecode"
	ColStatusCode         = "statuscode"
	ColVersionNumber      = "versionnumber"
)

// IsSystemColumn reports whether name is a system column maintained by Outpost
// (the primary key of table included).
func IsSystemColumn(table, name string) bool {
	switch name {
	case table + "id", ColCreatedOn, ColModifiedOn, ColCreatedBy, ColModifiedBy, ColOwnerID,
		ColOwnerIDType, ColOwningBusinessUnit, ColStateCode, ColStatusCode, ColVersionNumber:
		return true
	}
	return false
}

// WithSystemColumns returns t with its primary key and the system columns of
// its ownership type placed before its own columns. Columns t already has
// under a system name are replaced.
func WithSystemColumns(t *Table) *Table {
	sys := []Column{
		{Name: t.PrimaryKey(), Type: ID, System: true, ReadOnly: true},
		{Name: ColCreatedOn, Type: DateTime, System: true, ReadOnly: true},
		{Name: ColModifiedOn, Type: DateTime, System: true, ReadOnly: true},
		{Name: ColCreatedBy, Type: Lookup, Target: "systemuser", System: true, ReadOnly: true},
		{Name: ColModifiedBy, Type: Lookup, Target: "systemuser", System: true, ReadOnly: true},
	}
	if t.HasOwner() {
		// ownerid is written on create and by assign; owneridtype follows it.
		sys = append(sys,
			Column{Name: ColOwnerID, Type: Owner, System: true},
			Column{Name: ColOwnerIDType, Type: Text, System: true, ReadOnly: true, MaxLength: 20})
	}
	if t.HasBusinessUnit() {
		sys = append(sys, Column{Name: ColOwningBusinessUnit, Type: Lookup, Target: "businessunit", System: true, ReadOnly: !(t.Ownership == OwnedByBusiness)})
	}
	sys = append(sys,
		Column{Name: ColStateCode, Type: Choice, System: true, Options: []Option{{0, "Active"}, {1, "Inactive"}}},
		Column{Name: ColStatusCode, Type: Choice, System: true, Options: []Option{{1, "Active"}, {2, "Inactive"}}},
		Column{Name: ColVersionNumber, Type: Integer, System: true, ReadOnly: true},
	)
	own := make([]Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if !IsSystemColumn(t.Name, c.Name) {
			own = append(own, c)
		}
	}
	out := *t
	out.Columns = append(sys, own...)
	if out.PrimaryName == "" {
		out.PrimaryName = "name"
	}
	return &out
}

func text(name string, n int) Column { return Column{Name: name, Type: Text, MaxLength: n} }
func reqText(name string, n int) Column {
	return Column{Name: name, Type: Text, MaxLength: n, Required: true}
}
func memo(name string) Column                { return Column{Name: name, Type: Memo} }
func lookup(name, target string) Column      { return Column{Name: name, Type: Lookup, Target: target} }
func boolean(name string) Column             { return Column{Name: name, Type: Boolean} }
func integer(name string) Column             { return Column{Name: name, Type: Integer} }
func datetime(name string) Column            { return Column{Name: name, Type: DateTime} }
func choice(name string, o ...Option) Column { return Column{Name: name, Type: Choice, Options: o} }

func builtin(name string, own Ownership, primaryName string, offline bool, cols ...Column) *Table {
	t := &Table{Name: name, Ownership: own, PrimaryName: primaryName, Columns: cols, BuiltIn: true,
		Offline: offline, ChangeTracking: offline}
	return WithSystemColumns(t)
}

// Built-in N:N relationships.
var builtinNN = []ManyToManyDef{
	{Name: "teammembership_association", Table1: "team", Table2: "systemuser", Intersect: "teammembership"},
	{Name: "systemuserroles_association", Table1: "systemuser", Table2: "role", Intersect: "systemuserroles"},
	{Name: "teamroles_association", Table1: "team", Table2: "role", Intersect: "teamroles"},
}

// BuiltIn returns the tables and N:N relationships every environment starts with.
func BuiltIn() *Schema {
	never := func(t *Table) *Table { t.NeverOffline = true; return t }
	tables := []*Table{
		builtin("businessunit", OwnedByNone, "name", false, reqText("name", 160), lookup("parentbusinessunitid", "businessunit")),
		builtin("systemuser", OwnedByBusiness, "fullname", true,
			reqText("fullname", 200), reqText("domainname", 200), text("internalemailaddress", 100),
			lookup("businessunitid", "businessunit"), lookup("parentsystemuserid", "systemuser"), boolean("isdisabled")),
		builtin("team", OwnedByBusiness, "name", true, reqText("name", 160), lookup("businessunitid", "businessunit"),
			choice("teamtype", Option{0, "Owner"}, Option{1, "Access"})),
		builtin("role", OwnedByBusiness, "name", false, reqText("name", 100), lookup("businessunitid", "businessunit"), memo("description")),
		builtin("account", OwnedByUser, "name", true, reqText("name", 160), text("accountnumber", 20), text("telephone1", 50),
			text("address1_city", 80), lookup("primarycontactid", "contact"), lookup("parentaccountid", "account"),
			Column{Name: "revenue", Type: Money}),
		builtin("contact", OwnedByUser, "fullname", true, text("firstname", 50), reqText("lastname", 50), text("fullname", 160),
			text("emailaddress1", 100), text("telephone1", 50), lookup("parentcustomerid", "account"), datetime("birthdate")),
		builtin("task", OwnedByUser, "subject", true, reqText("subject", 200), memo("description"), datetime("scheduledend"),
			lookup("regardingobjectid", "account"), choice("prioritycode", Option{0, "Low"}, Option{1, "Normal"}, Option{2, "High"})),
		never(builtin("canvasapp", OwnedByUser, "name", false, reqText("name", 100), text("displayname", 200), boolean("canbeusedoffline"),
			lookup("mobileofflineprofileid", "mobileofflineprofile"), memo("definition"))),
		never(builtin("appmodule", OwnedByOrganization, "name", false, reqText("name", 100), text("uniquename", 100), boolean("canbeusedoffline"),
			lookup("mobileofflineprofileid", "mobileofflineprofile"), memo("definition"))),
		never(builtin("mobileofflineprofile", OwnedByOrganization, "name", false, reqText("name", 255), Column{Name: "description", Type: Memo, MaxLength: 2000},
			boolean("isvalidated"), datetime("publishedon"), integer("publishedversion"), memo("definition"))),
		never(builtin("mobileofflineprofileitem", OwnedByOrganization, "name", false, reqText("name", 255), lookup("regardingobjectid", "mobileofflineprofile"),
			text("selectedentitytypecode", 64), choice("recorddistributioncriteria", Option{0, "Related rows only"}, Option{1, "All rows"}, Option{2, "Organization rows"}, Option{3, "Custom"}),
			memo("profileitementityfilter"), integer("syncintervalinminutes"))),
		builtin("syncerror", OwnedByUser, "name", true, reqText("name", 400), text("entityname", 64), datetime("errortime"),
			Column{Name: "errormessage", Type: Memo, MaxLength: 4000}, Column{Name: "errordetail", Type: Memo, MaxLength: 100000},
			text("errorcode", 64),
			choice("errortype", Option{0, "Conflict"}, Option{1, "Record not found"}, Option{2, "Record already exists"}, Option{3, "Others"}),
			choice("action", Option{0, "Create"}, Option{1, "Update"}, Option{2, "Delete"}),
			Column{Name: "actiondata", Type: Memo, MaxLength: 1048576}, Column{Name: "requestdata", Type: Memo, MaxLength: 1048576},
			text("regardingobjectid", 36), text("regardingobjecttable", 64)),
	}
	for _, d := range builtinNN {
		it := IntersectTable(d)
		it.BuiltIn = true
		tables = append(tables, it)
	}
	s, err := New(tables, builtinNN)
	if err != nil {
		panic("schema: built-in tables are invalid: " + err.Error())
	}
	return s
}

// ReservedPrefixes begin the names of Outpost's own tables (outpost_) and
// of the engines' catalogs (sqlite_, pg_): no table may take such a name.
var ReservedPrefixes = []string{"outpost_", "sqlite_", "pg_"}

var builtinNames = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range BuiltIn().Tables() {
		m[t.Name] = true
	}
	return m
}()

// CheckReservedName refuses a new table or intersect table named like
// Outpost's own tables, an engine's catalog or a built-in table; target is
// the field the name came from.
func CheckReservedName(name, target string) error {
	for _, p := range ReservedPrefixes {
		if strings.HasPrefix(name, p) {
			return outpost.Invalidf("table name %q is reserved: names starting %q belong to Outpost or the database engine", name, p).WithTarget(target)
		}
	}
	if builtinNames[name] {
		return outpost.Invalidf("table name %q is reserved: it is a built-in table", name).WithTarget(target)
	}
	return nil
}
