package apps

import (
	"context"
	"fmt"
	"slices"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// GenerateOptions tune GenerateProfile.
type GenerateOptions struct {
	// Name of the new profile; default "<app name> (auto-generated)".
	Name string `json:"name"`
	// Publish publishes the profile when it validates; Bind then also makes
	// it the app's offline profile.
	Publish bool `json:"publish"`
	Bind    bool `json:"bind"`
}

// Generated is the result of GenerateProfile.
type Generated struct {
	Profile    *profile.Profile    `json:"profile"`
	Validation *profile.Validation `json:"validation"`
	// NotGenerated says which parts of the app the profile does not cover,
	// and why.
	NotGenerated []string `json:"notGenerated"`
	Published    bool     `json:"published"`
	Bound        bool     `json:"bound"`
}

// GenerateProfile makes a profile from app appID. For a canvas app: every
// table the app uses, All rows, no filter. For a model-driven app ("new
// profile with current app data"): the main tables get Organization rows
// (user's rows), and the tables its views and forms need only through a
// lookup get Related rows only with that relationship selected.
func (s *Service) GenerateProfile(ctx context.Context, by *security.Principal, appID string, opts GenerateOptions) (*Generated, error) {
	a, err := s.GetApp(ctx, by, appID)
	if err != nil {
		return nil, err
	}
	sch := s.p.Schema()
	g := &generator{sch: sch, notGenerated: []string{}}
	if a.Kind == Canvas {
		for _, t := range appTables(&a.Definition) {
			g.main(t, true)
		}
	} else {
		for _, t := range a.Definition.Tables {
			g.main(t, false)
		}
		type use struct {
			table, where string
			cols         []string
		}
		var uses []use
		for _, f := range a.Definition.Forms {
			uses = append(uses, use{f.Table, "form " + f.Name, f.Columns})
		}
		for _, v := range a.Definition.Views {
			uses = append(uses, use{v.Table, "view " + v.Name, v.Columns})
		}
		// Views and forms of the main tables first: their lookups bring
		// the tables that other views may then relate to.
		slices.SortStableFunc(uses, func(x, y use) int {
			return boolInt(g.has(x.table) == nil) - boolInt(g.has(y.table) == nil)
		})
		for _, u := range uses {
			g.secondary(u.table, u.where, u.cols)
		}
	}
	name := opts.Name
	if name == "" {
		name = a.Name + " (auto-generated)"
	}
	in := profile.Input{Name: name, Description: fmt.Sprintf("Generated from the %s app %q.", a.Kind, a.Name)}
	for _, it := range g.items {
		in.Items = append(in.Items, profile.ItemInput{Item: it})
	}
	d, err := s.NewDraft(in, appID)
	if err != nil {
		return nil, err
	}
	out := &Generated{NotGenerated: g.notGenerated, Validation: profile.Validate(sch, d.Profile)}
	if opts.Bind && !opts.Publish {
		return nil, outpost.Invalidf("bind needs publish: an app can use only a published profile").WithTarget("bind")
	}
	if opts.Publish {
		// All or nothing: what would refuse the publish or the bind is
		// checked first, and the profile, its publish and the bind are one
		// transaction.
		if err := out.Validation.Err(in.Name); err != nil {
			return nil, err
		}
		if opts.Bind && a.Kind == Canvas && len(a.Solutions) == 0 {
			return nil, offlineNeedsSolution(a.Name)
		}
	}
	var id string
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		if id, err = s.Insert(ctx, w, by, d, opts.Publish); err != nil {
			return err
		}
		if opts.Bind {
			return s.bind(ctx, w, by, a, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Published, out.Bound = opts.Publish, opts.Bind
	if out.Profile, err = s.Get(ctx, by, id); err != nil {
		return nil, err
	}
	return out, nil
}

type generator struct {
	sch          *schema.Schema
	items        []profile.Item
	notGenerated []string
}

func (g *generator) has(table string) *profile.Item {
	for i := range g.items {
		if g.items[i].Table == table {
			return &g.items[i]
		}
	}
	return nil
}

func (g *generator) skip(format string, args ...any) {
	g.notGenerated = append(g.notGenerated, fmt.Sprintf(format, args...))
}

// usable reports whether table can be in a profile, noting why not.
func (g *generator) usable(table, why string) (*schema.Table, bool) {
	t, ok := g.sch.Table(table)
	switch {
	case !ok:
		g.skip("table %q (%s) does not exist", table, why)
	case !t.Offline:
		g.skip("table %q (%s) is not enabled for offline, so it was left out", table, why)
	default:
		return t, true
	}
	return nil, false
}

// main adds one of the app's own tables.
func (g *generator) main(table string, canvas bool) {
	if g.has(table) != nil {
		return
	}
	t, ok := g.usable(table, "used by the app")
	if !ok {
		return
	}
	it := profile.Item{Table: t.Name, Rule: profile.RuleAll}
	switch {
	case t.Ownership == schema.OwnedByNone:
		g.skip("table %q has no ownership and offers only Related rows only, so it was left out", t.Name)
		return
	case canvas:
	case t.Ownership == schema.OwnedByUser:
		it = profile.Item{Table: t.Name, Rule: profile.RuleOrganization, UserRows: true}
	case t.Ownership == schema.OwnedByBusiness:
		it = profile.Item{Table: t.Name, Rule: profile.RuleOrganization, BusinessUnitRows: true}
		g.skip("table %q is business owned: it got business-unit rows instead of user's rows; review it", t.Name)
	default:
		g.skip("table %q is organization owned: it got All rows instead of user's rows; review it", t.Name)
	}
	g.items = append(g.items, it)
}

// secondary adds what a view or form needs: its table, if not a main one,
// related to the profile, and the tables its lookup columns point to.
func (g *generator) secondary(table, where string, cols []string) {
	if g.has(table) == nil {
		t, ok := g.usable(table, where)
		if !ok {
			return
		}
		if !g.relate(t, where) {
			return
		}
	}
	t := g.sch.MustTable(table)
	for _, name := range cols {
		c, ok := t.Column(name)
		if !ok || c.Type != schema.Lookup || c.System || c.Target == t.Name {
			continue
		}
		target, ok := g.usable(c.Target, fmt.Sprintf("looked up by %s.%s in %s", t.Name, c.Name, where))
		if !ok {
			continue
		}
		rel := schema.RelationshipName(t.Name, c.Name) // 1:N seen from the target
		it := g.has(target.Name)
		switch {
		case it == nil:
			g.items = append(g.items, profile.Item{Table: target.Name, Rule: profile.RuleRelated, Relationships: []string{rel}})
		case it.Rule != profile.RuleRelated || slices.Contains(it.Relationships, rel):
		case g.reaches(t.Name, target.Name):
			g.skip("relationship %s of table %q (%s) was left out: it would make a circular chain", rel, target.Name, where)
		case g.oneToMany(it):
			g.skip("relationship %s of table %q (%s) was left out: a table may have at most one 1:N relationship", rel, target.Name, where)
		default:
			it.Relationships = append(it.Relationships, rel)
		}
	}
}

func (g *generator) oneToMany(it *profile.Item) bool {
	for _, name := range it.Relationships {
		if r, ok := g.sch.Relationship(it.Table, name); ok && r.Kind != schema.ManyToOne {
			return true
		}
	}
	return false
}

// relate adds t as a Related rows only item through an N:1 relationship to
// a table already in the profile.
func (g *generator) relate(t *schema.Table, where string) bool {
	for _, r := range g.sch.Relationships(t.Name) {
		if r.Kind == schema.ManyToOne && r.Related != t.Name && g.has(r.Related) != nil {
			if c, ok := t.Column(r.Column); ok && c.System {
				continue
			}
			g.items = append(g.items, profile.Item{Table: t.Name, Rule: profile.RuleRelated, Relationships: []string{r.Name}})
			return true
		}
	}
	g.skip("table %q (%s) has no lookup to a table of the profile, so it was left out", t.Name, where)
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reaches reports whether from's related rows depend, through the
// relationships chosen so far, on table to.
func (g *generator) reaches(from, to string) bool {
	seen := map[string]bool{}
	var walk func(n string) bool
	walk = func(n string) bool {
		if n == to {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		if it := g.has(n); it != nil {
			for _, name := range it.Relationships {
				if r, ok := g.sch.Relationship(n, name); ok && walk(r.Related) {
					return true
				}
			}
		}
		return false
	}
	return walk(from)
}
