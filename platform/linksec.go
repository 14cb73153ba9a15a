package platform

import (
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// secureLinks restricts every link of a checked filter over table to the
// related rows by may read, so that a $filter cannot probe the values of
// rows the caller cannot see. A link to a table without read privilege
// matches nothing.
func secureLinks(s *schema.Schema, table string, e filter.Expr, by *security.Principal) filter.Expr {
	switch x := e.(type) {
	case *filter.And:
		out := &filter.And{Pos: x.Pos, List: make([]filter.Expr, len(x.List))}
		for i, c := range x.List {
			out.List[i] = secureLinks(s, table, c, by)
		}
		return out
	case *filter.Or:
		out := &filter.Or{Pos: x.Pos, List: make([]filter.Expr, len(x.List))}
		for i, c := range x.List {
			out.List[i] = secureLinks(s, table, c, by)
		}
		return out
	case *filter.Not:
		return &filter.Not{Pos: x.Pos, X: secureLinks(s, table, x.X, by)}
	case *filter.Link:
		rel, ok := s.Relationship(table, x.Relationship)
		if !ok {
			return x
		}
		related, ok := s.Table(rel.Related)
		if !ok {
			return x
		}
		access := by.Filter(related, security.Read)
		if access == nil {
			return &filter.Const{Pos: x.Pos, Value: false}
		}
		inner := []filter.Expr{access}
		if x.Expr != nil {
			inner = append(inner, secureLinks(s, related.Name, x.Expr, by))
		}
		return &filter.Link{Pos: x.Pos, Relationship: x.Relationship, Expr: &filter.And{Pos: x.Pos, List: inner}}
	}
	return e
}
