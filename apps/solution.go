package apps

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/store"
)

// Component kinds of a solution.
const (
	KindTable   = "table"
	KindApp     = "app"
	KindProfile = "profile"
)

// Component is one object of a solution: a table by name, or an app or
// profile by id.
type Component struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Solution groups tables, apps and profiles so they move between servers
// together.
type Solution struct {
	ID         string      `json:"id"`
	UniqueName string      `json:"uniqueName"`
	Name       string      `json:"name"`
	Version    string      `json:"version"`
	Components []Component `json:"components"`
}

// SolutionInput creates a solution.
type SolutionInput struct {
	UniqueName string `json:"uniqueName"`
	Name       string `json:"name"`
	Version    string `json:"version"`
}

func requireMaker(by *security.Principal) error {
	if !by.Customizer {
		return outpost.Forbiddenf("solutions need the System Administrator, System Customizer or Environment Maker role")
	}
	return nil
}

// CreateSolution creates an empty solution.
func (s *Service) CreateSolution(ctx context.Context, by *security.Principal, in SolutionInput) (*Solution, error) {
	if err := requireMaker(by); err != nil {
		return nil, err
	}
	if !schema.ValidName(in.UniqueName) {
		return nil, outpost.Invalidf("solution unique name %q is not valid: use 2 to 50 lowercase letters, digits and underscores, starting with a letter", in.UniqueName).WithTarget("uniqueName")
	}
	if in.Name == "" {
		in.Name = in.UniqueName
	}
	if err := profile.CheckName(in.Name, ""); err != nil {
		return nil, err
	}
	if in.Version == "" {
		in.Version = "1.0.0"
	}
	id := outpost.NewID()
	err := s.p.Write(ctx, func(w *platform.Writer) error { return s.insertSolution(ctx, w, id, in) })
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, by, in.UniqueName)
}

func (s *Service) insertSolution(ctx context.Context, w *platform.Writer, id string, in SolutionInput) error {
	var n int
	if err := s.stmt(`SELECT count(*) FROM outpost_solution WHERE uniquename = `).Arg(in.UniqueName).QueryRow(ctx, w.Tx()).Scan(&n); err != nil {
		return fmt.Errorf("check solution name: %w", err)
	}
	if n > 0 {
		return outpost.Conflictf("a solution named %q already exists", in.UniqueName).WithTarget("uniqueName")
	}
	_, err := s.stmt(`INSERT INTO outpost_solution (solutionid, uniquename, name, version, createdon) VALUES (`).
		Args(id, in.UniqueName, in.Name, in.Version, s.timeArg(w.Now())).SQL(`)`).Exec(ctx, w.Tx())
	if err != nil {
		return fmt.Errorf("create solution %s: %w", in.UniqueName, err)
	}
	return nil
}

// GetSolution returns the solution named uniqueName (or with that id).
func (s *Service) GetSolution(ctx context.Context, by *security.Principal, uniqueName string) (*Solution, error) {
	if err := requireMaker(by); err != nil {
		return nil, err
	}
	return s.solution(ctx, s.p.DB().Read, uniqueName)
}

func (s *Service) solution(ctx context.Context, q store.Querier, key string) (*Solution, error) {
	sol := &Solution{Components: []Component{}}
	err := s.stmt(`SELECT solutionid, uniquename, name, version FROM outpost_solution WHERE uniquename = `).Arg(key).SQL(` OR solutionid = `).Arg(key).
		QueryRow(ctx, q).Scan(&sol.ID, &sol.UniqueName, &sol.Name, &sol.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outpost.NotFoundf("no solution is named %q", key).WithTarget("solution")
	}
	if err != nil {
		return nil, fmt.Errorf("load solution %s: %w", key, err)
	}
	rows, err := s.stmt(`SELECT kind, objectid FROM outpost_solutioncomponent WHERE solutionid = `).Arg(sol.ID).SQL(` ORDER BY kind, objectid`).Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("load solution %s: %w", key, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Component
		if err := rows.Scan(&c.Kind, &c.ID); err != nil {
			return nil, fmt.Errorf("load solution %s: %w", key, err)
		}
		sol.Components = append(sol.Components, c)
	}
	return sol, rows.Err()
}

// ListSolutions returns every solution by unique name.
func (s *Service) ListSolutions(ctx context.Context, by *security.Principal) ([]*Solution, error) {
	if err := requireMaker(by); err != nil {
		return nil, err
	}
	names, err := store.Strings(ctx, s.p.DB().Read, `SELECT uniquename FROM outpost_solution ORDER BY uniquename`)
	if err != nil {
		return nil, fmt.Errorf("list solutions: %w", err)
	}
	out := []*Solution{}
	for _, n := range names {
		sol, err := s.solution(ctx, s.p.DB().Read, n)
		if err != nil {
			return nil, err
		}
		out = append(out, sol)
	}
	return out, nil
}

// DeleteSolution deletes a solution; its components stay.
func (s *Service) DeleteSolution(ctx context.Context, by *security.Principal, uniqueName string) error {
	sol, err := s.GetSolution(ctx, by, uniqueName)
	if err != nil {
		return err
	}
	return s.p.Write(ctx, func(w *platform.Writer) error {
		if err := s.keepOfflineCanvasInSolution(ctx, w.Tx(), sol.ID, ""); err != nil {
			return err
		}
		if err := s.execEach(ctx, w.Tx(), sol.ID, `DELETE FROM outpost_solutioncomponent WHERE solutionid = `, `DELETE FROM outpost_solution WHERE solutionid = `); err != nil {
			return fmt.Errorf("delete solution %s: %w", uniqueName, err)
		}
		return nil
	})
}

// checkComponent verifies that c names an existing object by may read.
func (s *Service) checkComponent(ctx context.Context, by *security.Principal, c Component) error {
	switch c.Kind {
	case KindTable:
		_, err := s.p.Schema().LookupTable(c.ID)
		return err
	case KindApp:
		_, err := s.GetApp(ctx, by, c.ID)
		return err
	case KindProfile:
		_, err := s.Get(ctx, by, c.ID)
		return err
	}
	return outpost.Invalidf("component kind %q is not valid: use table, app or profile", c.Kind).WithTarget("kind")
}

// AddComponents adds components to a solution; ones already in it are left.
func (s *Service) AddComponents(ctx context.Context, by *security.Principal, uniqueName string, cs ...Component) (*Solution, error) {
	sol, err := s.GetSolution(ctx, by, uniqueName)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if err := s.checkComponent(ctx, by, c); err != nil {
			return nil, outpost.BodyRef(err, "id")
		}
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error { return s.addComponents(ctx, w, sol, cs) })
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, by, sol.UniqueName)
}

func (s *Service) addComponents(ctx context.Context, w *platform.Writer, sol *Solution, cs []Component) error {
	for _, c := range cs {
		if slices.ContainsFunc(sol.Components, func(x Component) bool { return x.Kind == c.Kind && x.ID == c.ID }) {
			continue
		}
		if _, err := s.stmt(`INSERT INTO outpost_solutioncomponent (solutionid, kind, objectid) VALUES (`).Args(sol.ID, c.Kind, c.ID).SQL(`) ON CONFLICT DO NOTHING`).
			Exec(ctx, w.Tx()); err != nil {
			return fmt.Errorf("add %s %s to solution %s: %w", c.Kind, c.ID, sol.UniqueName, err)
		}
		sol.Components = append(sol.Components, c)
	}
	return nil
}

// RemoveComponent removes one component from a solution.
func (s *Service) RemoveComponent(ctx context.Context, by *security.Principal, uniqueName string, c Component) (*Solution, error) {
	sol, err := s.GetSolution(ctx, by, uniqueName)
	if err != nil {
		return nil, err
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		if c.Kind == KindApp {
			if err := s.keepOfflineCanvasInSolution(ctx, w.Tx(), sol.ID, c.ID); err != nil {
				return err
			}
		}
		res, err := s.stmt(`DELETE FROM outpost_solutioncomponent WHERE solutionid = `).Arg(sol.ID).SQL(` AND kind = `).Arg(c.Kind).SQL(` AND objectid = `).Arg(c.ID).Exec(ctx, w.Tx())
		if err != nil {
			return fmt.Errorf("remove %s %s from solution %s: %w", c.Kind, c.ID, uniqueName, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return outpost.NotFoundf("solution %q has no %s %s", uniqueName, c.Kind, c.ID).WithTarget("id")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, by, uniqueName)
}

// keepOfflineCanvasInSolution refuses to take the offline canvas apps of
// solution solID (or only app appID, when given) out of their last
// solution: a canvas app can be used offline only from a solution.
func (s *Service) keepOfflineCanvasInSolution(ctx context.Context, q store.Querier, solID, appID string) error {
	b := s.stmt(`SELECT a.name FROM canvasapp a JOIN outpost_solutioncomponent c ON c.kind = 'app' AND c.objectid = a.canvasappid AND c.solutionid = `).Arg(solID).
		SQL(` WHERE a.canbeusedoffline = `).Arg(s.p.DB().Dialect.BoolArg(true)).
		SQL(` AND NOT EXISTS (SELECT 1 FROM outpost_solutioncomponent o WHERE o.kind = 'app' AND o.objectid = a.canvasappid AND o.solutionid <> `).Arg(solID).SQL(`)`)
	if appID != "" {
		b.SQL(` AND a.canvasappid = `).Arg(appID)
	}
	query, args := b.SQL(` ORDER BY a.name`).Build()
	names, err := store.Strings(ctx, q, query, args...)
	if err != nil {
		return fmt.Errorf("check offline canvas apps: %w", err)
	}
	if len(names) > 0 {
		return outpost.Conflictf("canvas app %q is used offline and this is its only solution: a canvas app can be used offline only from a solution; turn its offline off first, or add it to another solution", strings.Join(names, `", "`)).WithTarget("id")
	}
	return nil
}

// Required is a component Add required objects added, with why.
type Required struct {
	Component
	// Reason says which component needs it: the app whose offline profile
	// it is, the app or profile that uses the table, the table that looks
	// it up, or the N:N relationship it is the intersect table of.
	Reason string `json:"reason"`
}

// AddRequired is "add required objects": for every app of the solution it
// adds the app's profile, and for every app and profile the tables they
// use, with the custom tables those look up at any depth. It returns what
// it added, each with the reason, sorted by kind and id.
func (s *Service) AddRequired(ctx context.Context, by *security.Principal, uniqueName string) ([]Required, error) {
	sol, err := s.GetSolution(ctx, by, uniqueName)
	if err != nil {
		return nil, err
	}
	// why maps a component to the first reason found; a component of the
	// solution already needs no reason.
	why := map[Component]string{}
	need := func(c Component, reason string) {
		if _, ok := why[c]; !ok {
			why[c] = reason
		}
	}
	tables := map[string]string{}
	needTable := func(t, reason string) {
		if _, ok := tables[t]; !ok {
			tables[t] = reason
		}
	}
	for _, c := range sol.Components {
		if c.Kind == KindProfile {
			need(c, "")
		}
		if c.Kind == KindTable {
			needTable(c.ID, "")
		}
	}
	for _, c := range sol.Components {
		if c.Kind != KindApp {
			continue
		}
		a, err := s.GetApp(ctx, by, c.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range appTables(&a.Definition) {
			needTable(t, fmt.Sprintf("app %q uses the table", a.Name))
		}
		if a.ProfileID != "" {
			need(Component{Kind: KindProfile, ID: a.ProfileID}, fmt.Sprintf("the offline profile of app %q", a.Name))
		}
	}
	sch := s.p.Schema()
	profiles := make([]Component, 0, len(why))
	for c := range why {
		profiles = append(profiles, c)
	}
	for _, c := range profiles {
		p, err := s.Get(ctx, by, c.ID)
		if err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			for _, t := range it.Tables(sch, p.Name) {
				needTable(t, fmt.Sprintf("offline profile %q takes the table offline", p.Name))
			}
		}
	}
	// The closure: every custom table the archive needs to recreate the
	// tables above, through their lookups, at any depth.
	var queue []string
	for t := range tables {
		queue = append(queue, t)
	}
	sort.Strings(queue)
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		tb, ok := sch.Table(t)
		if !ok || tb.BuiltIn {
			continue
		}
		need(Component{Kind: KindTable, ID: t}, tables[t])
		for _, col := range tb.Columns {
			if col.Type == schema.Lookup && col.Target != "" {
				if _, seen := tables[col.Target]; !seen {
					tables[col.Target] = fmt.Sprintf("table %q looks it up (column %s)", t, col.Name)
					queue = append(queue, col.Target)
				}
			}
		}
	}
	for _, d := range sch.ManyToMany() {
		_, ok1 := why[Component{Kind: KindTable, ID: d.Table1}]
		_, ok2 := why[Component{Kind: KindTable, ID: d.Table2}]
		if ok1 && ok2 {
			if tb, ok := sch.Table(d.Intersect); ok && !tb.BuiltIn {
				need(Component{Kind: KindTable, ID: d.Intersect}, fmt.Sprintf("the intersect table of the N:N relationship %s between %q and %q", d.Name, d.Table1, d.Table2))
			}
		}
	}
	added := []Required{}
	for c, reason := range why {
		if !slices.ContainsFunc(sol.Components, func(x Component) bool { return x.Kind == c.Kind && x.ID == c.ID }) {
			added = append(added, Required{Component: c, Reason: reason})
		}
	}
	sort.Slice(added, func(i, j int) bool {
		if added[i].Kind != added[j].Kind {
			return added[i].Kind < added[j].Kind
		}
		return added[i].ID < added[j].ID
	})
	comps := make([]Component, len(added))
	for i, r := range added {
		comps[i] = r.Component
	}
	if err := s.p.Write(ctx, func(w *platform.Writer) error { return s.addComponents(ctx, w, sol, comps) }); err != nil {
		return nil, err
	}
	return added, nil
}

// appTables lists every table an app definition names, sorted.
func appTables(d *Definition) []string {
	set := map[string]bool{}
	for _, t := range d.Tables {
		set[t] = true
	}
	for _, v := range d.Views {
		set[v.Table] = true
	}
	for _, f := range d.Forms {
		set[f.Table] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
