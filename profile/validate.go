package profile

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
)

// rulesFor returns the rules a table of ownership o offers (contract §2).
func rulesFor(o schema.Ownership) []Rule {
	switch o {
	case schema.OwnedByUser, schema.OwnedByBusiness:
		return []Rule{RuleRelated, RuleAll, RuleOrganization, RuleCustom}
	case schema.OwnedByOrganization:
		return []Rule{RuleRelated, RuleAll, RuleCustom}
	}
	return []Rule{RuleRelated}
}

// owned describes an ownership type for messages.
func owned(o schema.Ownership) string {
	switch o {
	case schema.OwnedByUser:
		return "user or team owned"
	case schema.OwnedByNone:
		return "not owned (ownership none)"
	}
	return string(o) + " owned"
}

func ruleLabels(rs []Rule) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.label()
	}
	return strings.Join(out, ", ")
}

// offlineTable returns table t of s if it can be used in a profile.
func offlineTable(s *schema.Schema, name string) (*schema.Table, error) {
	t, ok := s.Table(name)
	if !ok {
		return nil, outpost.Invalidf("table %q does not exist", name).WithTarget("table")
	}
	if t.NeverOffline {
		return nil, outpost.Invalidf("table %q can never be taken offline, so it cannot be in an offline profile", name).WithTarget("table")
	}
	if !t.Offline {
		return nil, outpost.Invalidf("table %q is not enabled for offline: turn on \"Can be taken offline\" first", name).WithTarget("table")
	}
	return t, nil
}

// normalizeItem checks one item on its own, as it is saved into a draft,
// and returns it in canonical form: a filter given as text stored as its
// JSON tree, duplicates removed. Limits and combinations of rules are left
// to Validate so that a draft may hold work in progress.
func normalizeItem(s *schema.Schema, profileName string, in ItemInput) (Item, error) {
	it := in.Item
	t, err := offlineTable(s, it.Table)
	if err != nil {
		return it, err
	}
	if it.Rule == "" {
		return it, outpost.Invalidf("table %q: rule is required: use related, all, organization or custom (or 0 to 3)", t.Name).WithTarget("rule")
	}
	if !it.Rule.valid() {
		return it, outpost.Invalidf("table %q: rule %q is not valid: use related, all, organization or custom (or 0 to 3)", t.Name, it.Rule).WithTarget("rule")
	}
	allowed := rulesFor(t.Ownership)
	if !slices.Contains(allowed, it.Rule) {
		return it, outpost.Invalidf("table %q is %s: it offers %s, not %s", t.Name, owned(t.Ownership), ruleLabels(allowed), it.Rule.label()).WithTarget("rule")
	}
	if t.Ownership == schema.OwnedByBusiness && (it.UserRows || it.TeamRows) {
		return it, outpost.Invalidf("table %q is business owned: its rows have no owner, so Organization rows offers business-unit rows only", t.Name).WithTarget("userRows")
	}
	if in.FilterText != "" && len(it.Filter) > 0 {
		return it, outpost.Invalidf("table %q: give the filter as filter (a JSON tree) or filterText (OData), not both", t.Name).WithTarget("filterText")
	}
	f, err := CheckFilterForms(s, t.Name, FilterForms{Filter: it.Filter, FilterText: in.FilterText}, fmt.Sprintf("profile %q, item %s", profileName, t.Name), "")
	if err != nil {
		return it, err
	}
	it.Filter = f.Filter
	var rels []string
	for _, r := range it.Relationships {
		if slices.Contains(rels, r) {
			continue
		}
		if _, ok := s.Relationship(t.Name, r); !ok {
			var names []string
			for _, x := range s.Relationships(t.Name) {
				names = append(names, x.Name)
			}
			return it, outpost.Invalidf("table %q has no relationship %q: it has %s", t.Name, r, strings.Join(names, ", ")).WithTarget("relationships")
		}
		rels = append(rels, r)
	}
	it.Relationships = rels
	cols, err := uniqueColumns(t, it.Columns, "columns", func(c *schema.Column) error {
		if c.Type == schema.File || c.Type == schema.Image {
			return outpost.Invalidf("table %q: column %q is a %s column: choose it with imageColumns or files", t.Name, c.Name, c.Type).WithTarget("columns")
		}
		return nil
	})
	if err != nil {
		return it, err
	}
	it.Columns = cols
	if it.ImageColumns, err = uniqueColumns(t, it.ImageColumns, "imageColumns", func(c *schema.Column) error {
		if c.Type != schema.Image {
			return outpost.Invalidf("table %q: column %q is a %s column, not an image column", t.Name, c.Name, c.Type).WithTarget("imageColumns")
		}
		return nil
	}); err != nil {
		return it, err
	}
	if it.Files && len(columnsOfType(t, schema.File)) == 0 {
		return it, outpost.Invalidf("table %q has no file columns", t.Name).WithTarget("files")
	}
	return it, nil
}

func uniqueColumns(t *schema.Table, names []string, field string, check func(c *schema.Column) error) ([]string, error) {
	var out []string
	for _, n := range names {
		c, ok := t.Column(n)
		if !ok {
			return nil, outpost.Invalidf("table %q has no column %q", t.Name, n).WithTarget(field)
		}
		if err := check(c); err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func columnsOfType(t *schema.Table, typ schema.Type) []string {
	var out []string
	for _, c := range t.Columns {
		if c.Type == typ {
			out = append(out, c.Name)
		}
	}
	return out
}

// checkFilter parses and checks a custom filter of table.
func checkFilter(s *schema.Schema, profileName, table string, raw []byte, depth int) (filter.Expr, error) {
	e, err := filter.ParseJSON(raw)
	if err == nil {
		e, err = filter.Check(s, table, e, filter.CheckOptions{Source: fmt.Sprintf("profile %q, item %s", profileName, table), MaxLinkDepth: depth})
	}
	if err != nil {
		return nil, platform.FilterError("filter", err)
	}
	return e, nil
}

// Validate checks a profile draft against the publish-time rules of contract
// §2 and returns every error and warning; it needs no database.
func Validate(s *schema.Schema, p *Profile) *Validation {
	v := &Validation{Errors: []Problem{}, Warnings: []Problem{}}
	if len(p.Items) == 0 {
		v.errorf("", "", "the profile has no tables: add at least one")
	}
	inProfile := map[string]bool{}
	for _, it := range p.Items {
		inProfile[it.Table] = true
	}
	graph := map[string][]schema.Relationship{}
	images := []string{}
	for i := range p.Items {
		it := &p.Items[i]
		t, err := offlineTable(s, it.Table)
		if err != nil {
			v.errorf(it.Table, "", "%s", outpost.ErrorMessage(err))
			continue
		}
		validateRule(s, v, p.Name, t, it)
		if n := it.interval(); n < minInterval || n > maxInterval {
			v.errorf(t.Name, "", "table %q: sync interval must be between %d and %d minutes, got %d", t.Name, minInterval, maxInterval, n)
		}
		for _, name := range it.Relationships {
			r, ok := s.Relationship(t.Name, name)
			switch {
			case !ok:
				v.errorf(t.Name, "", "table %q has no relationship %q", t.Name, name)
			case r.Related == t.Name:
				v.errorf(t.Name, chainOf(t.Name, r), "table %q: relationship %s references the table itself (%s); self-referencing chains are not allowed", t.Name, r.Name, chainOf(t.Name, r))
			case !inProfile[r.Related]:
				v.errorf(t.Name, chainOf(t.Name, r), "table %q: relationship %s leads to table %q, which is not in the profile (%s)", t.Name, r.Name, r.Related, chainOf(t.Name, r))
			default:
				graph[t.Name] = append(graph[t.Name], r)
			}
		}
		for _, c := range it.ImageColumns {
			images = append(images, t.Name+"."+c)
		}
	}
	if len(images) > maxImageColumns {
		v.errorf("", "", "the profile selects %d image columns (%s); at most %d are allowed", len(images), strings.Join(images, ", "), maxImageColumns)
	}
	if len(p.Items) > warnTables {
		v.warnf("", "the profile has %d tables; the guidance is at most %d", len(p.Items), warnTables)
	}
	if !cycles(v, graph) {
		links := customLinks(s, p)
		for _, it := range p.Items {
			limits(v, graph, links, it.Table)
		}
	}
	v.Valid = len(v.Errors) == 0
	return v
}

// validateRule checks the rule of one item and its combinations.
func validateRule(s *schema.Schema, v *Validation, profileName string, t *schema.Table, it *Item) {
	allowed := rulesFor(t.Ownership)
	if !slices.Contains(allowed, it.Rule) {
		v.errorf(t.Name, "", "table %q is %s: it offers %s, not %s", t.Name, owned(t.Ownership), ruleLabels(allowed), it.Rule.label())
		return
	}
	org := it.UserRows || it.TeamRows || it.BusinessUnitRows
	switch it.Rule {
	case RuleRelated:
		if len(it.Relationships) == 0 {
			v.errorf(t.Name, "", "table %q: Related rows only needs at least one relationship; with none selected the table downloads nothing", t.Name)
		}
	case RuleAll:
		var with []string
		if org {
			with = append(with, "Organization rows")
		}
		if len(it.Filter) > 0 {
			with = append(with, "a custom filter")
		}
		if len(it.Relationships) > 0 {
			with = append(with, "related rows")
		}
		if len(with) > 0 {
			v.errorf(t.Name, "", "table %q: All rows cannot be combined with another rule (%s)", t.Name, strings.Join(with, ", "))
		}
	case RuleOrganization:
		if !org {
			v.errorf(t.Name, "", "table %q: Organization rows needs at least one of user's rows, team rows or business-unit rows", t.Name)
		}
		if it.BusinessUnitRows {
			v.warnf(t.Name, "table %q downloads business-unit rows: keep them for small master data, such as country codes", t.Name)
		}
	case RuleCustom:
		if len(it.Filter) == 0 {
			v.errorf(t.Name, "", "table %q: Custom needs a filter", t.Name)
		}
	}
	if org && it.Rule != RuleOrganization && it.Rule != RuleAll {
		v.errorf(t.Name, "", "table %q: user's, team and business-unit rows apply only to the Organization rows rule, not %s", t.Name, it.Rule.label())
	}
	if len(it.Filter) > 0 && it.Rule != RuleCustom && it.Rule != RuleAll {
		v.errorf(t.Name, "", "table %q: a filter applies only to the Custom rule, not %s", t.Name, it.Rule.label())
	}
	if it.Rule == RuleCustom && len(it.Filter) > 0 {
		if _, err := checkFilter(s, profileName, t.Name, it.Filter, filter.DefaultMaxLinkDepth); err != nil {
			v.errorf(t.Name, "", "%s", outpost.ErrorMessage(err))
		}
	}
}

func chainOf(from string, rs ...schema.Relationship) string {
	var sb strings.Builder
	sb.WriteString(from)
	for _, r := range rs {
		fmt.Fprintf(&sb, " -[%s %s]-> %s", r.Name, r.Kind, r.Related)
	}
	return sb.String()
}

// cycles reports every circular chain of graph; it returns true if any.
func cycles(v *Validation, graph map[string][]schema.Relationship) bool {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var path []schema.Relationship
	var stack []string
	found := false
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		stack = append(stack, n)
		for _, r := range graph[n] {
			switch color[r.Related] {
			case grey:
				start := slices.Index(stack, r.Related)
				chain := chainOf(stack[start], append(slices.Clone(path[start:]), r)...)
				v.errorf(stack[start], chain, "table %q: circular relationship chain %s", stack[start], chain)
				found = true
			case white:
				path = append(path, r)
				visit(r.Related)
				path = path[:len(path)-1]
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	nodes := make([]string, 0, len(graph))
	for n := range graph {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		if color[n] == white {
			visit(n)
		}
	}
	return found
}

// customLinks returns the chains of the links of every custom filter of p
// that checks, by table.
func customLinks(s *schema.Schema, p *Profile) map[string][][]schema.Relationship {
	links := map[string][][]schema.Relationship{}
	for _, it := range p.Items {
		if it.Rule == RuleCustom && len(it.Filter) > 0 {
			if e, err := checkFilter(s, p.Name, it.Table, it.Filter, filter.DefaultMaxLinkDepth); err == nil {
				links[it.Table] = filterLinks(s, it.Table, e)
			}
		}
	}
	return links
}

// filterLinks returns the chain to every link of a checked filter e over
// table, one per link, in the order written.
func filterLinks(s *schema.Schema, table string, e filter.Expr) [][]schema.Relationship {
	var out [][]schema.Relationship
	var walk func(table string, e filter.Expr, path []schema.Relationship)
	walk = func(table string, e filter.Expr, path []schema.Relationship) {
		switch x := e.(type) {
		case *filter.And:
			for _, y := range x.List {
				walk(table, y, path)
			}
		case *filter.Or:
			for _, y := range x.List {
				walk(table, y, path)
			}
		case *filter.Not:
			walk(table, x.X, path)
		case *filter.Link:
			r, ok := s.Relationship(table, x.Relationship)
			if !ok {
				return
			}
			p := append(slices.Clone(path), r)
			out = append(out, p)
			if x.Expr != nil {
				walk(r.Related, x.Expr, p)
			}
		}
	}
	walk(table, e, nil)
	return out
}

// limits checks the transitive relationship count and the one-1:N rule of
// table; graph must be acyclic.
func limits(v *Validation, graph map[string][]schema.Relationship, links map[string][][]schema.Relationship, table string) {
	_, over, many := countFrom(graph, links, table)
	if over != "" {
		v.errorf(table, over, "table %q links to more than %d tables through relationships and filters, counted transitively; the %dth is %s", table, maxRelationships, maxRelationships+1, over)
	}
	if len(many) > 1 {
		v.errorf(table, many[1], "table %q: at most one 1:N or N:N relationship is allowed among its relationships counted transitively, found %s and %s", table, many[0], many[1])
	}
}

// countFrom walks the relationships and filter links from table and returns
// its transitive count (a link to a table with N relationships adds N+1),
// the chain that first goes past MaxRelationships, and the chains of the
// 1:N and N:N steps met. The walk stops just past the limit, so it is
// bounded even for wide or cyclic graphs: every step adds one.
func countFrom(graph map[string][]schema.Relationship, links map[string][][]schema.Relationship, table string) (count int, over string, many []string) {
	var walk func(n string, path []schema.Relationship) bool
	walk = func(n string, path []schema.Relationship) bool {
		// The links of n's custom filter count too (contract §2: "through
		// filters or relationships").
		for _, l := range links[n] {
			count++
			if count > maxRelationships {
				over = chainOf(table, append(slices.Clone(path), l...)...) + " (a filter link)"
				return false
			}
		}
		for _, r := range graph[n] {
			p := append(slices.Clone(path), r)
			count++
			if r.Kind != schema.ManyToOne {
				many = append(many, chainOf(table, p...))
			}
			if count > maxRelationships {
				over = chainOf(table, p...)
				return false
			}
			if !walk(r.Related, p) {
				return false
			}
		}
		return true
	}
	walk(table, nil)
	return count, over, many
}
