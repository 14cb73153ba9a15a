package profile

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// Rule is an item's record distribution criterion: which rows of the table
// the item downloads besides its related rows.
type Rule string

// The rules, with their Dataverse values in comments.
const (
	RuleRelated      Rule = "related"      // 0: related rows only
	RuleAll          Rule = "all"          // 1: every row the user can read
	RuleOrganization Rule = "organization" // 2: user's, team or business-unit rows
	RuleCustom       Rule = "custom"       // 3: a filter expression
)

var ruleNumbers = map[string]Rule{"0": RuleRelated, "1": RuleAll, "2": RuleOrganization, "3": RuleCustom}

// UnmarshalJSON accepts a rule name or its Dataverse number (0-3).
func (r *Rule) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if x, ok := ruleNumbers[s]; ok {
		*r = x
		return nil
	}
	*r = Rule(s)
	return nil
}

func (r Rule) valid() bool {
	switch r {
	case RuleRelated, RuleAll, RuleOrganization, RuleCustom:
		return true
	}
	return false
}

// label is the rule's name as makers know it.
func (r Rule) label() string {
	switch r {
	case RuleRelated:
		return "Related rows only"
	case RuleAll:
		return "All rows"
	case RuleOrganization:
		return "Organization rows"
	case RuleCustom:
		return "Custom"
	}
	return string(r)
}

// Sync interval limits in minutes.
const (
	minInterval     = 5
	maxInterval     = 1440
	defaultInterval = 10
)

// Publish-time limits of contract §2.
const (
	maxRelationships   = 15 // per table, counted transitively
	maxImageColumns    = 14 // per profile
	maxNameLength      = 255
	maxDescriptionLen  = 2000
	maxItems           = 500
	warnRowsPerDevice  = 200_000
	maxRowsPerDevice   = 3_000_000
	warnTables         = 100
	warnFileBytes      = 4 << 30
	warnDataBytes      = 1 << 30
	estimatedRowLength = 1024 // bytes per row in the data-size guidance
)

// Item is one table of a profile.
type Item struct {
	Table string `json:"table"`
	Rule  Rule   `json:"rule"`
	// UserRows, TeamRows and BusinessUnitRows are the choices of the
	// Organization rows rule.
	UserRows         bool `json:"userRows,omitempty"`
	TeamRows         bool `json:"teamRows,omitempty"`
	BusinessUnitRows bool `json:"businessUnitRows,omitempty"`
	// Filter is the Custom rule's JSON condition tree.
	Filter json.RawMessage `json:"filter,omitempty"`
	// Relationships are relationships of Table, by name, whose related rows
	// (rows of Table linked to rows of the other table in the download set)
	// the item downloads.
	Relationships []string `json:"relationships,omitempty"`
	// Columns selects columns; empty means every column. The primary key
	// and system columns are always downloaded. File and image columns are
	// chosen with ImageColumns and Files instead.
	Columns []string `json:"columns,omitempty"`
	// ImageColumns are the image columns downloaded, chosen one by one.
	ImageColumns []string `json:"imageColumns,omitempty"`
	// Files downloads every file column (all or none).
	Files bool `json:"files,omitempty"`
	// IntervalMinutes is the sync interval, 5 to 1440; 0 means 10.
	IntervalMinutes int `json:"intervalMinutes,omitempty"`
}

// ItemInput is an item as a maker sends it: the custom filter may come as
// OData $filter text instead of a JSON tree.
type ItemInput struct {
	Item
	FilterText string `json:"filterText,omitempty"`
}

// Assignment says which users of the apps that use a profile may use it
// offline.
type Assignment struct {
	// Mode is "default" (every user of an app that uses the profile) or
	// "restricted" (only Users and members of Teams).
	Mode  string   `json:"mode"`
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// Assignment modes.
const (
	AssignDefault    = "default"
	AssignRestricted = "restricted"
)

// Profile is an offline profile: its draft items and its state.
type Profile struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Items are the draft's items, sorted by table.
	Items      []Item     `json:"items"`
	Assignment Assignment `json:"assignment"`
	// Draft is true when the items differ from the published version (or
	// nothing was published yet).
	Draft bool `json:"draft"`
	// PublishedVersion is 0 until the first publish.
	PublishedVersion int64      `json:"publishedVersion,omitempty"`
	PublishedOn      *time.Time `json:"publishedOn,omitempty"`
	// Validated is true when the current draft passed validation.
	Validated bool `json:"validated"`
	// GeneratedFrom is the app id an auto-generated profile was made from.
	GeneratedFrom string `json:"generatedFrom,omitempty"`
}

// Item returns the draft item of table.
func (p *Profile) Item(table string) (*Item, bool) {
	for i := range p.Items {
		if p.Items[i].Table == table {
			return &p.Items[i], true
		}
	}
	return nil, false
}

// Input creates or changes a profile's name and description.
type Input struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Items       []ItemInput `json:"items,omitempty"`
	Assignment  *Assignment `json:"assignment,omitempty"`
}

// Patch changes a profile's properties; nil fields stay as they are.
type Patch struct {
	Name        *string     `json:"name"`
	Description *string     `json:"description"`
	Assignment  *Assignment `json:"assignment"`
}

// Problem is one publish-time error or warning.
type Problem struct {
	Table string `json:"table,omitempty"`
	// Chain is the relationship chain at fault, as "a -[rel]-> b".
	Chain   string `json:"chain,omitempty"`
	Message string `json:"message"`
}

// Validation is the result of validating a profile draft.
type Validation struct {
	Valid    bool      `json:"valid"`
	Errors   []Problem `json:"errors"`
	Warnings []Problem `json:"warnings"`
}

// err returns v's errors as one CodeInvalid error, or nil.
func (v *Validation) err(profile string) error {
	if len(v.Errors) == 0 {
		return nil
	}
	msgs := make([]string, len(v.Errors))
	for i, p := range v.Errors {
		msgs[i] = p.Message
	}
	target := "items"
	if v.Errors[0].Table != "" {
		target = "items." + v.Errors[0].Table
	}
	return outpost.Invalidf("profile %q cannot be published: %s", profile, strings.Join(msgs, "; ")).WithTarget(target)
}

func (v *Validation) errorf(table, chain, format string, args ...any) {
	v.Errors = append(v.Errors, Problem{Table: table, Chain: chain, Message: fmt.Sprintf(format, args...)})
}

func (v *Validation) warnf(table, format string, args ...any) {
	v.Warnings = append(v.Warnings, Problem{Table: table, Message: fmt.Sprintf(format, args...)})
}

// interval returns the item's interval with the default applied.
func (it *Item) interval() int {
	if it.IntervalMinutes == 0 {
		return defaultInterval
	}
	return it.IntervalMinutes
}

// Tables lists the tables item it of profile profileName needs: its own, the other
// ends (and intersect tables) of its relationships, and every table its
// filter links to.
func (it *Item) Tables(sch *schema.Schema, profileName string) []string {
	out := []string{it.Table}
	for _, name := range it.Relationships {
		if r, ok := sch.Relationship(it.Table, name); ok {
			out = append(out, r.Related)
			if r.Intersect != "" {
				out = append(out, r.Intersect)
			}
		}
	}
	if len(it.Filter) > 0 {
		if e, err := checkFilter(sch, profileName, it.Table, it.Filter, 1000); err == nil {
			out = append(out, filter.LinkedTables(sch, it.Table, e)...)
		}
	}
	return out
}
