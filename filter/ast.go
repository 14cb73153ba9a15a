// Package filter is Outpost's one filter language. Custom offline-profile
// filters (a JSON condition tree) and the data API's OData $filter text parse
// into the same AST, are checked against a schema with positioned, collected
// errors, and evaluate one row in memory. It knows no SQL: package sqlgen
// compiles an Expr for a database dialect.
//
// The pipeline is ParseOData or ParseJSON, then Check (which resolves names
// and converts values to the columns' Go types), then either Eval or
// sqlgen's Builder.Expr; String and ToJSON print an Expr back.
//
// # JSON condition tree
//
//	{"and": [node, …]}    {"or": [node, …]}    {"not": node}    true    false
//	{"column": "statecode", "operator": "eq", "value": 0}
//	{"column": "statuscode", "operator": "in", "values": [1, 2]}
//	{"column": "ownerid", "operator": "eq-useroruserteams"}
//	{"link": "contact_parentcustomerid", "filter": node}
//
// "value" goes with one-operand operators, "values" with in and not-in,
// neither with null, not-null, the user-relative operators and the
// whole-period date operators. Errors name the node by path, such as
// "and[1].or[0].operator".
//
// # Semantics
//
// Every condition is two-valued. A condition on a null column is false,
// except that each negative operator (ne, not-like, not-begin-with,
// not-end-with, not-in, not-null, ne-userid, ne-businessid) is the exact
// complement of its positive operator, so "ne" is true on null as in OData,
// and not(c) is true whenever c is false. Text and memo columns compare
// case-insensitively: both sides are folded (Fold), then compared in byte
// order. Date operators match half-open ranges (see DateRange). Eval
// and the SQL of sqlgen agree row for row on both SQLite and PostgreSQL.
package filter

import (
	"time"
)

// Pos is a position in filter source: 1-based line and column for $filter
// text; for a JSON condition tree Line is 0 and Path names the node
// ("and[1].conditions[0]").
type Pos struct {
	Line, Col int
	Path      string
}

// Expr is a node of the filter AST: *And, *Or, *Not, *Cond, *Link or *Const.
type Expr interface {
	Position() Pos
}

// And is true when every element of List is true (true when empty).
type And struct {
	Pos  Pos
	List []Expr
}

// Or is true when any element of List is true (false when empty).
type Or struct {
	Pos  Pos
	List []Expr
}

// Not negates X.
type Not struct {
	Pos Pos
	X   Expr
}

// Const is a literal true or false.
type Const struct {
	Pos   Pos
	Value bool
}

// Cond is one condition on a column of the current table.
type Cond struct {
	Pos    Pos
	Column string
	Op     Op
	// Values holds the operands: none for null, not-null, the user-relative
	// operators and today/this-month…; one for eq, like, last-x-days (the
	// count) and the like; any number for in and not-in. Values are string,
	// int64, float64, bool, time.Time or nil as parsed; Check converts them to
	// the column's Go type.
	Values []any
}

// Link is true for a row of the current table that has at least one related
// row, through the named relationship of the current table, for which Expr is
// true (a nil Expr matches any related row). Links nest: Expr may contain
// Links from the related table. For an N:1 relationship this is "the
// referenced row matches"; for 1:N and N:N "some related row matches".
type Link struct {
	Pos          Pos
	Relationship string
	Expr         Expr
	// Nav marks an OData navigation through a lookup column
	// ("primarycontactid/fullname eq 'x'"): Relationship then holds the
	// lookup column's name, and Check resolves it to that column's N:1
	// relationship. Checked expressions never have Nav set.
	Nav bool
}

// Position implements Expr.
func (e *And) Position() Pos { return e.Pos }

// Position implements Expr.
func (e *Or) Position() Pos { return e.Pos }

// Position implements Expr.
func (e *Not) Position() Pos { return e.Pos }

// Position implements Expr.
func (e *Const) Position() Pos { return e.Pos }

// Position implements Expr.
func (e *Cond) Position() Pos { return e.Pos }

// Position implements Expr.
func (e *Link) Position() Pos { return e.Pos }

// Op is a condition operator. The names are those of contract §2.
type Op string

// Comparison and text operators.
const (
	Eq           Op = "eq"
	Ne           Op = "ne"
	Gt           Op = "gt"
	Ge           Op = "ge"
	Lt           Op = "lt"
	Le           Op = "le"
	Like         Op = "like" // SQL LIKE pattern with % and _
	NotLike      Op = "not-like"
	BeginsWith   Op = "begins-with"
	NotBeginWith Op = "not-begin-with"
	EndsWith     Op = "ends-with"
	NotEndWith   Op = "not-end-with"
	Contains     Op = "contains" // OData contains(); the same as like '%v%'
	In           Op = "in"
	NotIn        Op = "not-in"
	Null         Op = "null"
	NotNull      Op = "not-null"
)

// User-relative operators, resolved from the Env of the caller.
const (
	EqUserID                      Op = "eq-userid"
	NeUserID                      Op = "ne-userid"
	EqUserTeams                   Op = "eq-userteams"
	EqUserOrUserTeams             Op = "eq-useroruserteams"
	EqUserOrUserHierarchy         Op = "eq-useroruserhierarchy"
	EqUserOrUserHierarchyAndTeams Op = "eq-useroruserhierarchyandteams"
	EqBusinessID                  Op = "eq-businessid"
	NeBusinessID                  Op = "ne-businessid"
	// EqSharedWithUser is internal (security): the row is shared with the
	// user or one of the user's teams. Column must be the primary key. The
	// security filter gives one value, an int64 mask of share rights: the
	// share must carry one of them (security.Right).
	EqSharedWithUser Op = "eq-sharedwithuser"
)

// Date operators. The x-operators take one integer operand; on,
// on-or-before and on-or-after take a date. Days are calendar days in
// Env.Location; weeks start on Sunday.
const (
	Today       Op = "today"
	Yesterday   Op = "yesterday"
	Tomorrow    Op = "tomorrow"
	LastXDays   Op = "last-x-days"
	NextXDays   Op = "next-x-days"
	LastXWeeks  Op = "last-x-weeks"
	NextXWeeks  Op = "next-x-weeks"
	LastXMonths Op = "last-x-months"
	NextXMonths Op = "next-x-months"
	LastXYears  Op = "last-x-years"
	NextXYears  Op = "next-x-years"
	ThisWeek    Op = "this-week"
	LastWeek    Op = "last-week"
	NextWeek    Op = "next-week"
	ThisMonth   Op = "this-month"
	LastMonth   Op = "last-month"
	NextMonth   Op = "next-month"
	ThisYear    Op = "this-year"
	LastYear    Op = "last-year"
	NextYear    Op = "next-year"
	On          Op = "on"
	OnOrBefore  Op = "on-or-before"
	OnOrAfter   Op = "on-or-after"
)

// Env is what user-relative and date operators are resolved against.
type Env struct {
	UserID string
	// TeamIDs are the teams the user is a member of.
	TeamIDs []string
	// HierarchyUserIDs are the user and every user below them in the manager
	// hierarchy.
	HierarchyUserIDs []string
	BusinessUnitID   string
	// Now is the clock; tests set it. Location defaults to UTC.
	Now      func() time.Time
	Location *time.Location
	// Shared reports whether the row id of table is shared with the user or
	// one of their teams; used only by in-memory evaluation of EqSharedWithUser.
	Shared func(table, id string) bool
}
