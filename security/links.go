package security

import (
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// SecureLinks restricts every link of checked filter e over table to the
// related rows p may read, so that a filter a caller writes cannot probe
// the values of rows the caller cannot see. A link to a table without
// read privilege matches nothing.
func (p *Principal) SecureLinks(s *schema.Schema, table string, e filter.Expr) filter.Expr {
	switch x := e.(type) {
	case *filter.And:
		out := &filter.And{Pos: x.Pos, List: make([]filter.Expr, len(x.List))}
		for i, c := range x.List {
			out.List[i] = p.SecureLinks(s, table, c)
		}
		return out
	case *filter.Or:
		out := &filter.Or{Pos: x.Pos, List: make([]filter.Expr, len(x.List))}
		for i, c := range x.List {
			out.List[i] = p.SecureLinks(s, table, c)
		}
		return out
	case *filter.Not:
		return &filter.Not{Pos: x.Pos, X: p.SecureLinks(s, table, x.X)}
	case *filter.Link:
		rel, ok := s.Relationship(table, x.Relationship)
		if !ok {
			return x
		}
		related, ok := s.Table(rel.Related)
		if !ok {
			return x
		}
		access := p.Filter(related, Read)
		if access == nil {
			return &filter.Const{Pos: x.Pos, Value: false}
		}
		inner := []filter.Expr{access}
		if x.Expr != nil {
			inner = append(inner, p.SecureLinks(s, related.Name, x.Expr))
		}
		return &filter.Link{Pos: x.Pos, Relationship: x.Relationship, Expr: &filter.And{Pos: x.Pos, List: inner}}
	}
	return e
}
