package filter

import (
	"sort"

	"github.com/outposthq/outpost/schema"
)

// LinkedTables lists, sorted, every table a checked e over table links to,
// at any depth, with the intersect tables of N:N links: the tables whose
// rows decide which rows of table e selects.
func LinkedTables(s *schema.Schema, table string, e Expr) []string {
	seen := map[string]bool{}
	var walk func(table string, e Expr)
	walk = func(table string, e Expr) {
		switch x := e.(type) {
		case *And:
			for _, y := range x.List {
				walk(table, y)
			}
		case *Or:
			for _, y := range x.List {
				walk(table, y)
			}
		case *Not:
			walk(table, x.X)
		case *Link:
			r, ok := s.Relationship(table, x.Relationship)
			if !ok {
				return
			}
			seen[r.Related] = true
			if r.Kind == schema.ManyToMany {
				seen[r.Intersect] = true
			}
			if x.Expr != nil {
				walk(r.Related, x.Expr)
			}
		}
	}
	if e != nil {
		walk(table, e)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
