package profile

import (
	"context"
	"fmt"
	"slices"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// PreviewOptions choose what Preview shows.
type PreviewOptions struct {
	// UserID is the user whose device is previewed.
	UserID string
	// Published previews the published version; by default the draft
	// (which must pass validation) is previewed.
	Published bool
}

// PreviewItem is one table of a preview.
type PreviewItem struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	// SQL selects the rows, with Args bound to its placeholders.
	SQL             string   `json:"sql"`
	Args            []any    `json:"args"`
	Columns         []string `json:"columns"`
	IntervalMinutes int      `json:"intervalMinutes"`
	// Chains are the relationship chains the item's related rows follow.
	Chains    []string `json:"chains"`
	DependsOn []string `json:"dependsOn"`
}

// Preview is what a user's device would download.
type Preview struct {
	ProfileID string        `json:"profileId"`
	UserID    string        `json:"userId"`
	Version   int64         `json:"version,omitempty"`
	Items     []PreviewItem `json:"items"`
	TotalRows int64         `json:"totalRows"`
	Warnings  []Problem     `json:"warnings"`
}

// Preview computes, for the user opts.UserID, the rows per table that a
// device would download for profile id, with the SQL and the chains.
func (s *Service) Preview(ctx context.Context, by *security.Principal, id string, opts PreviewOptions) (*Preview, error) {
	p, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if !by.Customizer {
		return nil, outpost.Forbiddenf("previewing a profile needs the System Administrator, System Customizer or Environment Maker role")
	}
	if !outpost.ValidID(opts.UserID) {
		return nil, outpost.Invalidf("user %q is not a user id", opts.UserID).WithTarget("user")
	}
	user, err := s.p.Principal(ctx, opts.UserID)
	if err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return nil, outpost.NotFoundf("no user has id %s", opts.UserID).WithTarget("user")
		}
		return nil, err
	}
	sch := s.p.Schema()
	out := &Preview{ProfileID: id, UserID: opts.UserID, Items: []PreviewItem{}, Warnings: []Problem{}}
	items := p.Items
	if opts.Published {
		v, err := s.latest(ctx, s.p.DB().Read, id)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, outpost.Conflictf("offline profile %q is not published yet", p.Name).WithTarget("id")
		}
		items, out.Version = v.Items, v.Version
	} else if err := Validate(sch, p).err(p.Name); err != nil {
		return nil, err
	}
	plan, err := BuildPlan(sch, items, user)
	if err != nil {
		return nil, err
	}
	graph := map[string][]schema.Relationship{}
	for _, it := range items {
		for _, name := range it.Relationships {
			if r, ok := sch.Relationship(it.Table, name); ok {
				graph[it.Table] = append(graph[it.Table], r)
			}
		}
	}
	for _, pi := range plan {
		b := sqlgen.NewBuilder(s.d())
		b.SQL("SELECT count(*) FROM ").Ident(pi.Table).SQL(" AS t0 WHERE ")
		if err := pi.WriteScope(b, sch, user.Env()); err != nil {
			return nil, err
		}
		query, args := b.Build()
		var n int64
		if err := s.p.DB().Read.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count plan of %s: %w", pi.Table, err)
		}
		// The statement sync's snapshot runs for this item and user.
		sel := sqlgen.NewBuilder(s.d())
		if err := pi.WriteSelect(sel, sch, sch.MustTable(pi.Table), user.Env()); err != nil {
			return nil, err
		}
		selSQL, selArgs := sel.Build()
		out.Items = append(out.Items, PreviewItem{Table: pi.Table, Rows: n, SQL: selSQL, Args: nonNilArgs(selArgs), Columns: pi.Columns,
			IntervalMinutes: pi.IntervalMinutes, Chains: chains(graph, pi.Table), DependsOn: nonNilStrings(pi.DependsOn)})
		out.TotalRows += n
	}
	slices.SortFunc(out.Items, func(a, b PreviewItem) int { return cmpString(a.Table, b.Table) })
	switch {
	case out.TotalRows > maxRowsPerDevice:
		out.Warnings = append(out.Warnings, Problem{Message: fmt.Sprintf("the device would download %d rows, over the hard cap of %d: sync will fail", out.TotalRows, maxRowsPerDevice)})
	case out.TotalRows > warnRowsPerDevice:
		out.Warnings = append(out.Warnings, Problem{Message: fmt.Sprintf("the device would download %d rows; the guidance is at most %d", out.TotalRows, warnRowsPerDevice)})
	}
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func nonNilArgs(a []any) []any {
	if a == nil {
		return []any{}
	}
	return a
}

func nonNilStrings(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

// chains lists every relationship chain from table through graph.
func chains(graph map[string][]schema.Relationship, table string) []string {
	out := []string{}
	var walk func(n string, path []schema.Relationship)
	walk = func(n string, path []schema.Relationship) {
		if len(path) > maxRelationships {
			return
		}
		for _, r := range graph[n] {
			p := append(slices.Clone(path), r)
			out = append(out, chainOf(table, p...))
			if r.Related != n {
				walk(r.Related, p)
			}
		}
	}
	walk(table, nil)
	return out
}

// estimate adds warnings when the profile's tables, taken whole, pass the
// guidance of contract §2. It is an upper bound: Preview gives a user's figure.
func (s *Service) estimate(ctx context.Context, p *Profile, v *Validation) error {
	sch := s.p.Schema()
	var rows, files int64
	for _, it := range p.Items {
		t, ok := sch.Table(it.Table)
		if !ok {
			continue
		}
		var n int64
		if err := s.p.DB().Read.QueryRowContext(ctx, "SELECT count(*) FROM "+s.d().Quote(t.Name)).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", t.Name, err)
		}
		rows += n
		cols := slices.Clone(it.ImageColumns)
		if it.Files {
			cols = append(cols, columnsOfType(t, schema.File)...)
		}
		for _, c := range cols {
			var size *int64
			if err := s.stmt("SELECT sum(size) FROM outpost_file WHERE tablename = ").Arg(t.Name).SQL(" AND columnname = ").Arg(c).QueryRow(ctx, s.p.DB().Read).Scan(&size); err != nil {
				return fmt.Errorf("size files of %s.%s: %w", t.Name, c, err)
			}
			if size != nil {
				files += *size
			}
		}
	}
	if rows > warnRowsPerDevice {
		v.warnf("", "the profile's tables hold %d rows; a device may download up to that many, and the guidance is at most %d (preview it for a user to see the real figure)", rows, warnRowsPerDevice)
	}
	if rows*estimatedRowLength > warnDataBytes {
		v.warnf("", "the profile's tables hold about %d MB of data; the guidance is at most 1 GB per device", rows*estimatedRowLength>>20)
	}
	if files > warnFileBytes {
		v.warnf("", "the profile's file and image columns hold %d MB; the guidance is at most 4 GB per device", files>>20)
	}
	return nil
}
