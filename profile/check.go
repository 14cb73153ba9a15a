package profile

import (
	"context"
	"errors"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// RelationshipCount is one table's transitive relationship count, as
// publish counts it, stopped just past MaxRelationships; Over is the chain
// that goes past the limit (the 16th), empty while within it.
type RelationshipCount struct {
	Table string `json:"table"`
	Count int    `json:"count"`
	Over  string `json:"over,omitempty"`
}

// ItemCheck is an unsaved item checked against a profile's draft: the item
// in canonical form with its filter both as a JSON tree and as OData text,
// or what is wrong with it and where, and every table's relationship count
// with the item in place.
type ItemCheck struct {
	Item       *Item               `json:"item,omitempty"`
	FilterText string              `json:"filterText,omitempty"`
	Error      *ItemError          `json:"error,omitempty"`
	Counts     []RelationshipCount `json:"counts"`
}

// ItemError says what is wrong with a checked item and at which field.
type ItemError struct {
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// CheckItem checks in as PutItem would, against the draft of profile id,
// and writes nothing: the portal calls it while a maker edits, so the
// relationship count, the filter's two forms and the field errors come from
// the rules publish applies. A refused item still gets counts, without the
// parts that were refused (its filter when the filter is wrong).
func (s *Service) CheckItem(ctx context.Context, by *security.Principal, id string, in ItemInput) (*ItemCheck, error) {
	p, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	sch := s.p.Schema()
	if _, err := offlineTable(sch, in.Table); err != nil {
		return nil, outpost.BodyRef(err, "table")
	}
	out := &ItemCheck{}
	it, err := normalizeItem(sch, p.Name, in)
	var oe *outpost.Error
	switch {
	case errors.As(err, &oe):
		out.Error = &ItemError{Message: outpost.ErrorMessage(err), Target: outpost.ErrorTarget(err)}
		it = in.Item
		if oe.Target == "filter" || oe.Target == "filterText" || len(in.FilterText) > 0 {
			it.Filter = nil
		}
	case err != nil:
		return nil, err
	default:
		out.Item = &it
		if len(it.Filter) > 0 {
			if e, err := filter.ParseJSON(it.Filter); err == nil {
				out.FilterText = filter.String(e)
			}
		}
	}
	p.Items = withItem(p.Items, it)
	out.Counts = RelationshipCounts(sch, p)
	return out, nil
}

func withItem(items []Item, it Item) []Item {
	out := make([]Item, 0, len(items)+1)
	placed := false
	for _, x := range items {
		if x.Table == it.Table {
			x, placed = it, true
		}
		out = append(out, x)
	}
	if !placed {
		out = append(out, it)
	}
	return out
}

// RelationshipCounts is every item's transitive relationship count, by the
// rule Validate applies (relationships to other tables of the profile and
// the links of custom filters). It works on any draft, cyclic ones too: each
// walk stops just past the limit.
func RelationshipCounts(s *schema.Schema, p *Profile) []RelationshipCount {
	inProfile := map[string]bool{}
	for _, it := range p.Items {
		inProfile[it.Table] = true
	}
	graph := map[string][]schema.Relationship{}
	for _, it := range p.Items {
		for _, name := range it.Relationships {
			if r, ok := s.Relationship(it.Table, name); ok && r.Related != it.Table && inProfile[r.Related] {
				graph[it.Table] = append(graph[it.Table], r)
			}
		}
	}
	links := customLinks(s, p)
	out := make([]RelationshipCount, 0, len(p.Items))
	for _, it := range p.Items {
		n, over, _ := countFrom(graph, links, it.Table)
		out = append(out, RelationshipCount{Table: it.Table, Count: n, Over: over})
	}
	return out
}
