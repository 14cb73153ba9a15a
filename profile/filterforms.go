package profile

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
)

// FilterForms is a filter in its two forms: the JSON condition tree that
// is stored (Filter) and the OData $filter text printed from it
// (FilterText). As input either may be given, or both when they mean the
// same filter; as output both are set, or neither when there is no filter.
type FilterForms struct {
	Filter     json.RawMessage `json:"filter"`
	FilterText string          `json:"filterText"`
}

// filterLinkDepth is how deep links may nest in a filter being edited or
// saved into a draft or an app; publish applies the contract's limit.
const filterLinkDepth = 1000

// CheckFilterForms checks a filter on table, given as text, tree or both,
// and returns it in both forms: the one place that parses, checks and
// prints filters for profile items, app views and the portal's builder.
// Text is parsed and checked first, so its errors carry line and column.
// Errors are invalid-input errors whose target is at+"filterText" or
// at+"filter"; source names the filter's owner in their message.
func CheckFilterForms(sch *schema.Schema, table string, in FilterForms, source, at string) (FilterForms, error) {
	text := strings.TrimSpace(in.FilterText)
	hasTree := len(in.Filter) > 0 && string(in.Filter) != "null"
	opts := filter.CheckOptions{Source: source, MaxLinkDepth: filterLinkDepth}
	var e filter.Expr
	switch {
	case text != "":
		field := at + "filterText"
		parsed, err := filter.ParseOData(text)
		if err == nil {
			_, err = filter.Check(sch, table, parsed, opts)
		}
		if err != nil {
			return FilterForms{}, platform.FilterError(field, err)
		}
		if hasTree {
			given, err := filter.ParseJSON(in.Filter)
			if err != nil || filter.String(given) != filter.String(parsed) {
				return FilterForms{}, outpost.Invalidf("%s: %s has a filter (JSON) and a filterText that differ: send one of them", field, source).WithTarget(field)
			}
		}
		e = parsed
	case hasTree:
		parsed, err := filter.ParseJSON(in.Filter)
		if err == nil {
			_, err = filter.Check(sch, table, parsed, opts)
		}
		if err != nil {
			return FilterForms{}, platform.FilterError(at+"filter", err)
		}
		// A tree is kept as given: it is already the stored form.
		return FilterForms{Filter: in.Filter, FilterText: filter.String(parsed)}, nil
	default:
		return FilterForms{}, nil
	}
	tree, err := filter.ToJSON(e)
	if err != nil {
		return FilterForms{}, platform.FilterError(at+"filter", fmt.Errorf("the filter cannot be written as a tree: %w", err))
	}
	return FilterForms{Filter: tree, FilterText: filter.String(e)}, nil
}
