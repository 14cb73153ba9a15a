package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// Plan returns by's download plan for the published profile profileID: for
// every item, readable(by, T) AND (rule(by, T) OR related(T)), where the
// related rows follow the item's relationships to the download filters of
// the linked items (the item graph is a DAG, enforced at publish).
func (s *Service) Plan(ctx context.Context, by *security.Principal, profileID string) (*Plan, error) {
	return s.PlanAt(ctx, by, profileID, 1<<62)
}

// PlanAt returns by's download plan for the newest published version of
// profile profileID that is not newer than upTo: package apps asks for the
// version an app is published against.
func (s *Service) PlanAt(ctx context.Context, by *security.Principal, profileID string, upTo int64) (*Plan, error) {
	if _, err := s.profileRow(ctx, by, profileID); err != nil {
		return nil, err
	}
	v, err := s.versionUpTo(ctx, s.p.DB().Read, profileID, upTo)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, outpost.Conflictf("offline profile %s is not published yet: publish it first", profileID).WithTarget("id")
	}
	items, err := BuildPlan(s.p.Schema(), v.Items, by)
	if err != nil {
		return nil, err
	}
	return &Plan{ProfileID: profileID, Version: v.Version, Items: items}, nil
}

// PlanTables names the tables whose rows, besides the principal and the
// schema, decide what Plan and AppPlan return: the profile's row (its
// readability and published version; publishing, deleting, assigning or
// sharing a profile writes it, in the transaction that stores the published
// definition) and the app's row (publishing an app or binding its profile
// writes it, in the transaction that records the version it is published
// against). A plan stays exact while none of them has a newer row or
// tombstone; the sync engine reuses plans on that condition.
//
// The app rows also carry the device's app access (AppProfile), which the
// sync engine checks when it builds a plan.
func (s *Service) PlanTables() []string {
	return []string{"mobileofflineprofile", "canvasapp", "appmodule"}
}

// BuildPlan computes the plan items of items for by, in dependency order
// (the tables an item links to come before it): what Plan returns for a
// published profile, and what the sync engine's tests declare their plans
// with, so that they run the download sets a maker's profile would.
func BuildPlan(sch *schema.Schema, items []Item, by *security.Principal) ([]PlanItem, error) {
	byTable := map[string]*Item{}
	for i := range items {
		byTable[items[i].Table] = &items[i]
	}
	order, err := topoOrder(sch, items)
	if err != nil {
		return nil, err
	}
	filters := map[string]filter.Expr{}
	out := make([]PlanItem, 0, len(items))
	for _, name := range order {
		it := byTable[name]
		t, err := sch.LookupTable(name)
		if err != nil {
			return nil, outpost.Conflictf("table %q of the published profile no longer exists: republish the profile", name).WithTarget(name)
		}
		// Every part is checked: the rule here, the read filter and the
		// links by construction (they name relationships of the schema and
		// the linked items' checked filters).
		checked, err := itemFilter(sch, t, it, by, filters)
		if err != nil {
			return nil, err
		}
		filters[name] = checked
		out = append(out, PlanItem{Table: t.Name, Filter: checked, Columns: planColumns(t, it), IntervalMinutes: it.interval(),
			DependsOn: filter.LinkedTables(sch, t.Name, checked)})
	}
	return out, nil
}

// itemFilter builds readable AND (rule OR related) for one item.
func itemFilter(sch *schema.Schema, t *schema.Table, it *Item, by *security.Principal, done map[string]filter.Expr) (filter.Expr, error) {
	read := by.Filter(t, security.Read)
	if read == nil {
		return &filter.Const{Value: false}, nil
	}
	var or []filter.Expr
	rule, err := ruleFilter(sch, t, it)
	if err != nil {
		return nil, err
	}
	if rule != nil {
		if rule, err = filter.Check(sch, t.Name, rule, filter.CheckOptions{Source: "rule of " + t.Name}); err != nil {
			return nil, outpost.Conflictf("the published filter of table %q no longer fits the table: republish the profile (%v)", t.Name, err).WithTarget(t.Name)
		}
		or = append(or, rule)
	}
	for _, name := range it.Relationships {
		r, ok := sch.Relationship(t.Name, name)
		if !ok {
			return nil, outpost.Conflictf("relationship %q of table %q no longer exists: republish the profile", name, t.Name).WithTarget(t.Name)
		}
		linked := done[r.Related]
		if linked == nil || filter.IsConst(linked, false) {
			continue // the linked table downloads nothing, so neither does the link
		}
		if filter.IsConst(linked, true) {
			linked = nil
		}
		or = append(or, &filter.Link{Relationship: r.Name, Expr: linked})
	}
	return filter.Simplify(&filter.And{List: []filter.Expr{read, &filter.Or{List: or}}}), nil
}

// ruleFilter returns the rows of the item's rule, nil for none.
func ruleFilter(sch *schema.Schema, t *schema.Table, it *Item) (filter.Expr, error) {
	switch it.Rule {
	case RuleAll:
		return &filter.Const{Value: true}, nil
	case RuleOrganization:
		var or []filter.Expr
		if it.UserRows && t.HasOwner() {
			or = append(or, &filter.Cond{Column: schema.ColOwnerID, Op: filter.EqUserID})
		}
		if it.TeamRows && t.HasOwner() {
			or = append(or, &filter.Cond{Column: schema.ColOwnerID, Op: filter.EqUserTeams})
		}
		if it.BusinessUnitRows && t.HasBusinessUnit() {
			or = append(or, &filter.Cond{Column: schema.ColOwningBusinessUnit, Op: filter.EqBusinessID})
		}
		return &filter.Or{List: or}, nil
	case RuleCustom:
		if len(it.Filter) == 0 {
			return nil, nil
		}
		e, err := filter.ParseJSON(it.Filter)
		if err != nil {
			return nil, fmt.Errorf("parse filter of %s: %w", t.Name, err)
		}
		return e, nil
	}
	return nil, nil
}

// topoOrder orders the items so that every table comes after the tables its
// relationships link to. A cycle (only possible when the schema changed
// since publish) is an error.
func topoOrder(sch *schema.Schema, items []Item) ([]string, error) {
	deps := map[string][]string{}
	for _, it := range items {
		deps[it.Table] = nil
		for _, name := range it.Relationships {
			if r, ok := sch.Relationship(it.Table, name); ok && r.Related != it.Table {
				deps[it.Table] = append(deps[it.Table], r.Related)
			}
		}
	}
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	state := map[string]int{}
	var out []string
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return outpost.Conflictf("the published profile has a circular relationship chain through table %q: republish it", n).WithTarget(n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, d := range deps[n] {
			if _, in := deps[d]; in {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// planColumns returns the columns an item downloads, in table order: the
// selection (or every column), the primary key and system columns, the
// chosen image columns and, when files are on, every file column.
func planColumns(t *schema.Table, it *Item) []string {
	var out []string
	for _, c := range t.Columns {
		keep := false
		switch {
		case c.System || c.Name == t.PrimaryKey():
			keep = true
		case c.Type == schema.Image:
			keep = slices.Contains(it.ImageColumns, c.Name)
		case c.Type == schema.File:
			keep = it.Files
		default:
			keep = len(it.Columns) == 0 || slices.Contains(it.Columns, c.Name)
		}
		if keep {
			out = append(out, c.Name)
		}
	}
	return out
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode profile definition: %w", err)
	}
	return string(b), nil
}
