package filter

import (
	"slices"
	"strings"

	"github.com/outposthq/outpost/schema"
)

// arity is how many operands an operator takes.
type arity int

const (
	noValue  arity = iota // null, today, eq-userid…
	oneValue              // eq, like, last-x-days, on…
	anyValue              // in, not-in: one or more
)

// opKind groups operators by the column types they apply to.
type opKind int

const (
	kindCompare  opKind = iota // eq ne gt ge lt le
	kindText                   // like, begins-with, contains… (text and memo only)
	kindSet                    // in, not-in
	kindNull                   // null, not-null
	kindUser                   // user-relative ids
	kindBusiness               // eq-businessid, ne-businessid
	kindShared                 // eq-sharedwithuser
	kindDate                   // today, last-x-days, on…
)

type opInfo struct {
	arity arity
	kind  opKind
	fn    string // name of the Microsoft.Dynamics.CRM.* query function in OData text
}

var ops = map[Op]opInfo{
	Eq: {oneValue, kindCompare, "Eq"}, Ne: {oneValue, kindCompare, "Ne"},
	Gt: {oneValue, kindCompare, "Gt"}, Ge: {oneValue, kindCompare, "Ge"},
	Lt: {oneValue, kindCompare, "Lt"}, Le: {oneValue, kindCompare, "Le"},
	Like: {oneValue, kindText, "Like"}, NotLike: {oneValue, kindText, "NotLike"},
	BeginsWith: {oneValue, kindText, "BeginsWith"}, NotBeginWith: {oneValue, kindText, "NotBeginWith"},
	EndsWith: {oneValue, kindText, "EndsWith"}, NotEndWith: {oneValue, kindText, "NotEndWith"},
	Contains: {oneValue, kindText, "Contains"},
	In:       {anyValue, kindSet, "In"}, NotIn: {anyValue, kindSet, "NotIn"},
	Null: {noValue, kindNull, "Null"}, NotNull: {noValue, kindNull, "NotNull"},

	EqUserID: {noValue, kindUser, "EqUserId"}, NeUserID: {noValue, kindUser, "NeUserId"},
	EqUserTeams: {noValue, kindUser, "EqUserTeams"}, EqUserOrUserTeams: {noValue, kindUser, "EqUserOrUserTeams"},
	EqUserOrUserHierarchy:         {noValue, kindUser, "EqUserOrUserHierarchy"},
	EqUserOrUserHierarchyAndTeams: {noValue, kindUser, "EqUserOrUserHierarchyAndTeams"},
	EqBusinessID:                  {noValue, kindBusiness, "EqBusinessId"}, NeBusinessID: {noValue, kindBusiness, "NeBusinessId"},
	EqSharedWithUser: {noValue, kindShared, "EqSharedWithUser"},

	Today: {noValue, kindDate, "Today"}, Yesterday: {noValue, kindDate, "Yesterday"}, Tomorrow: {noValue, kindDate, "Tomorrow"},
	LastXDays: {oneValue, kindDate, "LastXDays"}, NextXDays: {oneValue, kindDate, "NextXDays"},
	LastXWeeks: {oneValue, kindDate, "LastXWeeks"}, NextXWeeks: {oneValue, kindDate, "NextXWeeks"},
	LastXMonths: {oneValue, kindDate, "LastXMonths"}, NextXMonths: {oneValue, kindDate, "NextXMonths"},
	LastXYears: {oneValue, kindDate, "LastXYears"}, NextXYears: {oneValue, kindDate, "NextXYears"},
	ThisWeek: {noValue, kindDate, "ThisWeek"}, LastWeek: {noValue, kindDate, "LastWeek"}, NextWeek: {noValue, kindDate, "NextWeek"},
	ThisMonth: {noValue, kindDate, "ThisMonth"}, LastMonth: {noValue, kindDate, "LastMonth"}, NextMonth: {noValue, kindDate, "NextMonth"},
	ThisYear: {noValue, kindDate, "ThisYear"}, LastYear: {noValue, kindDate, "LastYear"}, NextYear: {noValue, kindDate, "NextYear"},
	On: {oneValue, kindDate, "On"}, OnOrBefore: {oneValue, kindDate, "OnOrBefore"}, OnOrAfter: {oneValue, kindDate, "OnOrAfter"},
}

// fnAliases are other accepted names of query functions (FetchXML spellings).
var fnAliases = map[string]Op{
	"doesnotbeginwith": NotBeginWith,
	"doesnotendwith":   NotEndWith,
	"startswith":       BeginsWith,
}

// negations maps each negative operator to the positive operator it is the
// exact complement of. A negative operator is true exactly when its positive
// operator is false, including when the column is null: "ne 5" matches a null
// column, as in OData.
var negations = map[Op]Op{
	Ne:           Eq,
	NotLike:      Like,
	NotBeginWith: BeginsWith,
	NotEndWith:   EndsWith,
	NotIn:        In,
	NotNull:      Null,
	NeUserID:     EqUserID,
	NeBusinessID: EqBusinessID,
}

// Valid reports whether o is a known operator.
func (o Op) Valid() bool {
	_, ok := ops[o]
	return ok
}

// Complement returns the positive operator that o is the exact negation of
// (Eq for Ne, In for NotIn, Null for NotNull…) and true, or o and false when o
// is not a negative operator.
func (o Op) Complement() (Op, bool) {
	p, ok := negations[o]
	if !ok {
		return o, false
	}
	return p, true
}

// Ops returns every operator, sorted by name.
func Ops() []Op {
	out := make([]Op, 0, len(ops))
	for o := range ops {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// opByFunc returns the operator of a Microsoft.Dynamics.CRM query function
// name, compared case-insensitively.
func opByFunc(name string) (Op, bool) {
	lower := strings.ToLower(name)
	for o, info := range ops {
		if strings.ToLower(info.fn) == lower {
			return o, true
		}
	}
	o, ok := fnAliases[lower]
	return o, ok
}

// opNames returns the names of ops as a comma-separated list.
func opNames(list []Op) string {
	names := make([]string, len(list))
	for i, o := range list {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

// OperatorInfo describes one operator a column accepts: its name and how
// many values it takes ("none", "one" or "many").
type OperatorInfo struct {
	Name   Op     `json:"name"`
	Values string `json:"values"`
}

// ColumnOperators returns the operators Check accepts on column col of
// table t, sorted by name, with the number of values each takes: the
// portal's expression builder offers exactly these.
func ColumnOperators(t *schema.Table, col *schema.Column) []OperatorInfo {
	list := allowedOps(t, col)
	out := make([]OperatorInfo, len(list))
	for i, o := range list {
		out[i] = OperatorInfo{Name: o, Values: [...]string{noValue: "none", oneValue: "one", anyValue: "many"}[ops[o].arity]}
	}
	return out
}
