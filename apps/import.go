package apps

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// Publish publishes every imported profile (each must validate).
	Publish bool
	// OwnerID owns new canvas apps; default the caller.
	OwnerID string
}

// ImportResult says what Import did.
type ImportResult struct {
	Solution  string   `json:"solution"`
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Published []string `json:"published"`
	// Notes list what still needs the maker, such as republishing.
	Notes []string `json:"notes"`
}

// tableChange is what Import does to one table.
type tableChange struct {
	create  *platform.TableInput
	addCols []schema.Column
	offline bool
	name    string
}

// Import recreates a solution archive's tables, profiles and apps (with
// their canvas bundles) on this server, creating or updating each. Everything is checked before anything
// is written: a bad archive, a missing dependency or an invalid profile
// leaves the server as it was. Tables, profiles, apps and the solution are
// written in one transaction (Platform.WriteMeta), so even a database
// failure half-way leaves nothing behind.
func (s *Service) Import(ctx context.Context, by *security.Principal, data []byte, opts ImportOptions) (*ImportResult, error) {
	if err := requireMaker(by); err != nil {
		return nil, err
	}
	arc, err := ReadArchive(data)
	if err != nil {
		return nil, err
	}
	m := arc.Manifest
	res := &ImportResult{Solution: m.Solution.UniqueName, Created: []string{}, Updated: []string{}, Published: []string{}, Notes: []string{}}
	cand, changes, err := s.planTables(m, res)
	if err != nil {
		return nil, err
	}
	for _, name := range m.Requires {
		if _, ok := cand.Table(name); !ok {
			return nil, outpost.Invalidf("the solution needs table %q, which is neither in the archive nor on this server", name).WithTarget("requires")
		}
	}
	profiles, err := s.planProfiles(ctx, cand, m, opts)
	if err != nil {
		return nil, err
	}
	if err := s.planApps(ctx, cand, m, by, opts); err != nil {
		return nil, err
	}
	// Tables, profiles, apps and the solution commit together or not at all.
	err = s.p.WriteMeta(ctx, func(w *platform.Writer) error {
		for _, c := range changes {
			if err := applyTable(ctx, w, by, c); err != nil {
				return fmt.Errorf("import table %s: %w", c.name, err)
			}
		}
		return s.importObjects(ctx, w, by, arc, profiles, opts, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) planTables(m *Manifest, res *ImportResult) (*schema.Schema, []tableChange, error) {
	order, err := tableOrder(m)
	if err != nil {
		return nil, nil, err
	}
	archive := map[string]bool{}
	for _, t := range order {
		archive[t.Name] = true
	}
	cand := s.p.Schema()
	var changes []tableChange
	for _, in := range order {
		for _, c := range in.Columns {
			if c.Type != schema.Lookup {
				continue
			}
			if _, ok := cand.Table(c.Target); !ok && !archive[c.Target] {
				return nil, nil, outpost.Invalidf("the solution needs table %q (looked up by %s.%s), which is neither in the archive nor on this server", c.Target, in.Name, c.Name).WithTarget("tables")
			}
		}
		cur, exists := cand.Table(in.Name)
		var next *schema.Table
		ch := tableChange{name: in.Name}
		if !exists {
			in := in
			ch.create = &in
			if in.Ownership == "" {
				in.Ownership = schema.OwnedByUser
			}
			next = schema.WithSystemColumns(&schema.Table{Name: in.Name, DisplayName: in.DisplayName, PluralName: in.PluralName, Ownership: in.Ownership,
				PrimaryName: in.PrimaryName, Columns: in.Columns, Offline: in.Offline, ChangeTracking: in.Offline})
			res.Created = append(res.Created, "table "+in.Name)
		} else {
			if cur.BuiltIn {
				return nil, nil, outpost.Conflictf("the solution's table %q has the name of a built-in table", in.Name).WithTarget("tables")
			}
			cp := *cur
			cp.Columns = append([]schema.Column(nil), cur.Columns...)
			for _, c := range in.Columns {
				have, ok := cur.Column(c.Name)
				switch {
				case !ok:
					ch.addCols = append(ch.addCols, c)
					cp.Columns = append(cp.Columns, c)
				case have.Type != c.Type || have.Target != c.Target:
					return nil, nil, outpost.Conflictf("table %q exists on this server with column %q of type %s; the archive has type %s", in.Name, c.Name, have.Type, c.Type).WithTarget("tables")
				}
			}
			if in.Offline && !cur.Offline {
				ch.offline, cp.Offline, cp.ChangeTracking = true, true, true
			}
			next = &cp
			if len(ch.addCols) > 0 || ch.offline {
				res.Updated = append(res.Updated, "table "+in.Name)
			}
		}
		if cand, err = cand.WithTable(next); err != nil {
			return nil, nil, err
		}
		changes = append(changes, ch)
	}
	return cand, changes, nil
}

func applyTable(ctx context.Context, w *platform.Writer, by *security.Principal, c tableChange) error {
	if c.create != nil {
		_, err := w.CreateTable(ctx, by, *c.create)
		return err
	}
	for _, col := range c.addCols {
		if _, err := w.AddColumn(ctx, by, c.name, col); err != nil {
			return err
		}
	}
	if c.offline {
		on := true
		_, err := w.UpdateTable(ctx, by, c.name, platform.TablePatch{Offline: &on})
		return err
	}
	return nil
}

func (s *Service) planProfiles(ctx context.Context, cand *schema.Schema, m *Manifest, opts ImportOptions) ([]*profile.Profile, error) {
	var out []*profile.Profile
	for _, mp := range m.Profiles {
		p, err := s.CheckImported(ctx, cand, &profile.Profile{ID: mp.ID, Name: mp.Name, Description: mp.Description, GeneratedFrom: mp.GeneratedFrom,
			Assignment: profile.Assignment{Mode: mp.AssignMode}, Items: mp.Items}, opts.Publish)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Service) planApps(ctx context.Context, cand *schema.Schema, m *Manifest, by *security.Principal, opts ImportOptions) error {
	inArchive := map[string]bool{}
	for _, p := range m.Profiles {
		inArchive[p.ID] = true
	}
	for _, a := range m.Apps {
		if a.Kind != Canvas && a.Kind != ModelDriven {
			return outpost.Invalidf("app %q: kind %q is not valid: use canvas or modeldriven", a.Name, a.Kind).WithTarget("apps")
		}
		if err := checkDefinition(cand, &a.Definition); err != nil {
			return outpost.Invalidf("app %q: %s", a.Name, outpost.ErrorMessage(err)).WithTarget("apps")
		}
		if a.ProfileID != "" && !inArchive[a.ProfileID] {
			if err := s.Exists(ctx, s.p.DB().Read, a.ProfileID); err != nil {
				return outpost.Invalidf("app %q uses offline profile %s, which is neither in the archive nor on this server", a.Name, a.ProfileID).WithTarget("apps")
			}
		}
		if _, _, _, _, err := s.appKind(ctx, s.p.DB().Read, a.ID); err == nil {
			continue // an update
		}
		if a.Kind == Canvas && opts.OwnerID == "" && by.UserID == "" {
			return outpost.Invalidf("app %q: a new canvas app needs an owner: import as a user or name an owner", a.Name).WithTarget("ownerId")
		}
		taken, err := s.nameTaken(ctx, s.p.DB().Read, a.Kind, a.Name)
		if err != nil {
			return err
		}
		if taken {
			return outpost.Conflictf("a %s app named %q already exists on this server with another id", a.Kind, a.Name).WithTarget("apps")
		}
	}
	return nil
}

// importObjects writes the solution, its profiles and its apps in w.
func (s *Service) importObjects(ctx context.Context, w *platform.Writer, by *security.Principal, arc *Archive, profiles []*profile.Profile, opts ImportOptions, res *ImportResult) error {
	tx := w.Tx()
	m := arc.Manifest
	sol, err := s.solution(ctx, tx, m.Solution.UniqueName)
	switch {
	case outpost.ErrorCode(err) == outpost.CodeNotFound:
		in := m.Solution
		if in.Name == "" {
			in.Name = in.UniqueName
		}
		if in.Version == "" {
			in.Version = "1.0.0"
		}
		id := outpost.NewID()
		if err := s.insertSolution(ctx, w, id, in); err != nil {
			return err
		}
		sol = &Solution{ID: id, UniqueName: in.UniqueName}
		res.Created = append(res.Created, "solution "+in.UniqueName)
	case err != nil:
		return err
	default:
		if _, err := s.stmt(`UPDATE outpost_solution SET name = `).Arg(m.Solution.Name).SQL(`, version = `).Arg(m.Solution.Version).
			SQL(` WHERE solutionid = `).Arg(sol.ID).Exec(ctx, tx); err != nil {
			return fmt.Errorf("update solution %s: %w", sol.UniqueName, err)
		}
		res.Updated = append(res.Updated, "solution "+sol.UniqueName)
	}
	var comps []Component
	for _, t := range m.Tables {
		comps = append(comps, Component{Kind: KindTable, ID: t.Name})
	}
	published := map[string]bool{}
	for _, p := range profiles {
		if err := s.importProfile(ctx, w, by, p, res); err != nil {
			return err
		}
		if opts.Publish {
			if err := s.PublishIn(ctx, w, by, p); err != nil {
				return err
			}
			res.Published = append(res.Published, "profile "+p.Name)
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("profile %q was imported as a draft: validate and publish it", p.Name))
		}
		comps = append(comps, Component{Kind: KindProfile, ID: p.ID})
	}
	for _, a := range m.Apps {
		if a.ProfileID != "" && !published[a.ProfileID] {
			newest, err := s.Newest(ctx, tx, a.ProfileID)
			if err != nil {
				return err
			}
			published[a.ProfileID] = newest > 0 || opts.Publish && containsProfile(profiles, a.ProfileID)
		}
		if err := s.importApp(ctx, w, by, a, published[a.ProfileID], opts, res); err != nil {
			return err
		}
		if b, ok := arc.Bundles[a.ID]; ok {
			// An app the archive carries no bundle for keeps what it has.
			if err := s.storeBundle(ctx, w, a.ID, b, a.Bundle.SHA256); err != nil {
				return fmt.Errorf("import app %q: %w", a.Name, err)
			}
		}
		comps = append(comps, Component{Kind: KindApp, ID: a.ID})
	}
	return s.addComponents(ctx, w, sol, comps)
}

func containsProfile(ps []*profile.Profile, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

func (s *Service) importProfile(ctx context.Context, w *platform.Writer, by *security.Principal, p *profile.Profile, res *ImportResult) error {
	created, err := s.ImportIn(ctx, w, by, p)
	if err != nil {
		return err
	}
	if created {
		res.Created = append(res.Created, "profile "+p.Name)
	} else {
		res.Updated = append(res.Updated, "profile "+p.Name)
	}
	return nil
}

func (s *Service) importApp(ctx context.Context, w *platform.Writer, by *security.Principal, a ManifestApp, profilePublished bool, opts ImportOptions, res *ImportResult) error {
	tx := w.Tx()
	table := appTable(a.Kind)
	def, err := jsonString(a.Definition)
	if err != nil {
		return err
	}
	kind, _, pin, _, err := s.appKind(ctx, tx, a.ID)
	var boundTo string // the app's profile on this server before the import
	if err == nil {
		if boundTo, err = s.boundProfile(ctx, tx, kind, a.ID); err != nil {
			return fmt.Errorf("import app %q: %w", a.Name, err)
		}
	}
	switch {
	case outpost.ErrorCode(err) == outpost.CodeNotFound:
		taken, err := s.nameTaken(ctx, tx, a.Kind, a.Name)
		if err != nil {
			return err
		}
		if taken {
			return outpost.Conflictf("a %s app named %q already exists on this server with another id", a.Kind, a.Name).WithTarget("apps")
		}
		row := map[string]any{table + "id": a.ID, "name": a.Name, "canbeusedoffline": false}
		if a.Kind == Canvas {
			row["displayname"] = a.DisplayName
			if opts.OwnerID != "" {
				row["ownerid"] = opts.OwnerID
			}
		} else {
			row["uniquename"] = a.Name
		}
		if _, err := w.Create(ctx, by, table, row); err != nil {
			return fmt.Errorf("import app %q: %w", a.Name, err)
		}
		if err := s.insertDefinition(ctx, tx, a.ID, a.Kind, def); err != nil {
			return fmt.Errorf("import app %q: %w", a.Name, err)
		}
		res.Created = append(res.Created, a.Kind+" app "+a.Name)
	case err != nil:
		return err
	case kind != a.Kind:
		return outpost.Conflictf("app %q is a %s app on this server, but a %s app in the archive", a.Name, kind, a.Kind).WithTarget("apps")
	default:
		if _, err := w.Update(ctx, by, table, a.ID, map[string]any{"name": a.Name}); err != nil {
			return fmt.Errorf("import app %q: %w", a.Name, err)
		}
		if err := s.setDefinition(ctx, tx, a.ID, def); err != nil {
			return fmt.Errorf("import app %q: %w", a.Name, err)
		}
		res.Updated = append(res.Updated, a.Kind+" app "+a.Name)
	}
	app := &App{ID: a.ID, Kind: a.Kind, Name: a.Name}
	switch {
	case a.Offline && profilePublished && boundTo == a.ProfileID && pin > 0:
		// The app stays published against the version it was: its
		// devices keep it until the maker publishes the app.
		if _, err := w.Update(ctx, by, table, a.ID, map[string]any{"canbeusedoffline": true}); err != nil {
			return err
		}
		newest, err := s.Newest(ctx, tx, a.ProfileID)
		if err != nil {
			return err
		}
		if newest > 0 && pin < newest {
			res.Notes = append(res.Notes, fmt.Sprintf("app %q is published against version %d of its offline profile; its devices keep that version until you publish the app, which moves them to version %d",
				a.Name, pin, newest))
		}
		return nil
	case a.Offline && profilePublished:
		return s.bind(ctx, w, by, app, a.ProfileID)
	case a.Offline:
		res.Notes = append(res.Notes, fmt.Sprintf("app %q: publish its profile, then turn on \"Can be used offline\"", a.Name))
	}
	return s.unbind(ctx, w, by, app)
}
