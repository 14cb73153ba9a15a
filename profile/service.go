package profile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// CheckName checks the name and description of a profile or a solution:
// a name is required, and both are text of bounded length.
func CheckName(name, description string) error {
	if strings.TrimSpace(name) == "" {
		return outpost.Invalidf("name is required").WithTarget("name")
	}
	if err := outpost.CheckText("name", name); err != nil {
		return err
	}
	if err := outpost.CheckText("description", description); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(name); n > maxNameLength {
		return outpost.Invalidf("name must be at most %d characters, got %d", maxNameLength, n).WithTarget("name")
	}
	if n := utf8.RuneCountInString(description); n > maxDescriptionLen {
		return outpost.Invalidf("description must be at most %d characters, got %d", maxDescriptionLen, n).WithTarget("description")
	}
	return nil
}

func checkAssignment(a *Assignment) error {
	switch a.Mode {
	case "":
		a.Mode = AssignDefault
	case AssignDefault, AssignRestricted:
	default:
		return outpost.Invalidf("assignment mode %q is not valid: use default or restricted", a.Mode).WithTarget("assignment.mode")
	}
	for _, id := range append(append([]string(nil), a.Users...), a.Teams...) {
		if !outpost.ValidID(id) {
			return outpost.Invalidf("assignment: %q is not a user or team id", id).WithTarget("assignment")
		}
	}
	if a.Mode == AssignDefault && len(a.Users)+len(a.Teams) > 0 {
		return outpost.Invalidf("assignment: users and teams apply only to the restricted mode").WithTarget("assignment")
	}
	return nil
}

// checkAssignees refuses a restricted assignment naming users or teams that
// do not exist, naming them.
func (s *Service) checkAssignees(ctx context.Context, q querier, a *Assignment) error {
	var missing []string
	for _, g := range []struct {
		table, what string
		ids         []string
	}{{"systemuser", "user", a.Users}, {"team", "team", a.Teams}} {
		for _, id := range g.ids {
			var n int
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+g.table+` WHERE `+g.table+`id = `+s.ph(1, 1), strings.ToLower(id)).Scan(&n); err != nil {
				return fmt.Errorf("check assignment: %w", err)
			}
			if n == 0 {
				missing = append(missing, g.what+" "+id)
			}
		}
	}
	if len(missing) > 0 {
		return outpost.Invalidf("assignment: no such %s", strings.Join(missing, ", no such ")).WithTarget("assignment")
	}
	return nil
}

// Create creates a profile draft, with its items if given.
func (s *Service) Create(ctx context.Context, by *security.Principal, in Input) (*Profile, error) {
	return s.create(ctx, by, in, "")
}

func (s *Service) create(ctx context.Context, by *security.Principal, in Input, generatedFrom string) (*Profile, error) {
	d, err := s.newDraft(in, generatedFrom)
	if err != nil {
		return nil, err
	}
	var id string
	err = s.p.Write(ctx, func(w *platform.Writer) (err error) {
		id, err = s.insertProfile(ctx, w, by, in, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, by, id)
}

// newDraft checks in and returns the draft of a new profile.
func (s *Service) newDraft(in Input, generatedFrom string) (*draftRow, error) {
	if err := CheckName(in.Name, in.Description); err != nil {
		return nil, err
	}
	d := &draftRow{dirty: true, generatedFrom: generatedFrom, items: []Item{}}
	if in.Assignment != nil {
		d.assignment = *in.Assignment
	}
	if err := checkAssignment(&d.assignment); err != nil {
		return nil, err
	}
	sch := s.p.Schema()
	for _, x := range in.Items {
		it, err := normalizeItem(sch, in.Name, x)
		if err != nil {
			return nil, err
		}
		if _, dup := (&Profile{Items: d.items}).Item(it.Table); dup {
			return nil, outpost.Conflictf("table %q is in the profile twice: a profile has one item per table", it.Table).WithTarget("items")
		}
		d.items = append(d.items, it)
	}
	sortItems(d.items)
	return d, nil
}

// insertProfile writes a new profile with draft d in w and returns its id.
func (s *Service) insertProfile(ctx context.Context, w *platform.Writer, by *security.Principal, in Input, d *draftRow) (string, error) {
	var id string
	err := func() error {
		if err := s.nameTaken(ctx, w.Tx(), in.Name, ""); err != nil {
			return err
		}
		if err := s.checkAssignees(ctx, w.Tx(), &d.assignment); err != nil {
			return err
		}
		row, err := w.Create(ctx, by, "mobileofflineprofile", map[string]any{"name": in.Name, "description": in.Description, "isvalidated": false})
		if err != nil {
			return err
		}
		id = row["mobileofflineprofileid"].(string)
		return s.saveDraft(ctx, w.Tx(), id, d, true)
	}()
	return id, err
}

func sortItems(items []Item) {
	sort.Slice(items, func(i, j int) bool { return items[i].Table < items[j].Table })
}

// Get returns profile id as by may read it.
func (s *Service) Get(ctx context.Context, by *security.Principal, id string) (*Profile, error) {
	row, err := s.profileRow(ctx, by, id)
	if err != nil {
		return nil, err
	}
	return s.assemble(ctx, row)
}

func (s *Service) assemble(ctx context.Context, row outpost.Row) (*Profile, error) {
	id := row["mobileofflineprofileid"].(string)
	d, err := s.loadDraft(ctx, s.p.DB().Read, id)
	if err != nil {
		return nil, err
	}
	p := &Profile{ID: id, Items: d.items, Assignment: d.assignment, Draft: d.dirty, GeneratedFrom: d.generatedFrom}
	p.Name, _ = row["name"].(string)
	p.Description, _ = row["description"].(string)
	p.Validated, _ = row["isvalidated"].(bool)
	v, err := s.latest(ctx, s.p.DB().Read, id)
	if err != nil {
		return nil, err
	}
	if v != nil {
		p.PublishedVersion = v.Version
		on := v.On
		p.PublishedOn = &on
	}
	return p, nil
}

// List returns every profile by may read, sorted by name.
func (s *Service) List(ctx context.Context, by *security.Principal) ([]*Profile, error) {
	q := platform.Query{PageSize: platform.MaxPageSize, OrderBy: []platform.Order{{Column: "name"}}}
	out := []*Profile{}
	for {
		page, err := s.p.List(ctx, by, "mobileofflineprofile", q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Rows {
			p, err := s.assemble(ctx, r)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		if !page.More {
			return out, nil
		}
		q.Skip, q.After = page.NextSkip, page.NextAfter
	}
}

// Update changes a profile's name, description or assignment. Renaming
// does not touch the published version.
func (s *Service) Update(ctx context.Context, by *security.Principal, id string, patch Patch) (*Profile, error) {
	cur, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	name, desc := cur.Name, cur.Description
	if patch.Name != nil {
		name = *patch.Name
	}
	if patch.Description != nil {
		desc = *patch.Description
	}
	if err := CheckName(name, desc); err != nil {
		return nil, err
	}
	if patch.Assignment != nil {
		if err := checkAssignment(patch.Assignment); err != nil {
			return nil, err
		}
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		if err := s.nameTaken(ctx, w.Tx(), name, id); err != nil {
			return err
		}
		if _, err := w.Update(ctx, by, "mobileofflineprofile", id, map[string]any{"name": name, "description": desc}); err != nil {
			return err
		}
		if patch.Assignment == nil {
			return nil
		}
		if err := s.checkAssignees(ctx, w.Tx(), patch.Assignment); err != nil {
			return err
		}
		d, err := s.loadDraft(ctx, w.Tx(), id)
		if err != nil {
			return err
		}
		d.assignment = *patch.Assignment
		return s.saveDraft(ctx, w.Tx(), id, d, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, by, id)
}

// edit changes the draft of profile id with fn in one transaction; the
// profile becomes a draft that needs validation again.
func (s *Service) edit(ctx context.Context, by *security.Principal, id string, fn func(sch *schema.Schema, name string, d *draftRow) error) (*Profile, error) {
	cur, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		if _, err := w.Update(ctx, by, "mobileofflineprofile", id, map[string]any{"isvalidated": false}); err != nil {
			return err
		}
		d, err := s.loadDraft(ctx, w.Tx(), id)
		if err != nil {
			return err
		}
		if err := fn(s.p.Schema(), cur.Name, d); err != nil {
			return err
		}
		sortItems(d.items)
		d.dirty = true
		return s.saveDraft(ctx, w.Tx(), id, d, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, by, id)
}

// PutItem adds the item of in.Table to the draft, or replaces it.
func (s *Service) PutItem(ctx context.Context, by *security.Principal, id string, in ItemInput) (*Profile, error) {
	return s.edit(ctx, by, id, func(sch *schema.Schema, name string, d *draftRow) error {
		it, err := normalizeItem(sch, name, in)
		if err != nil {
			return err
		}
		for i := range d.items {
			if d.items[i].Table == it.Table {
				d.items[i] = it
				return nil
			}
		}
		if len(d.items) >= maxItems {
			return outpost.Invalidf("a profile holds at most %d tables", maxItems).WithTarget("items")
		}
		d.items = append(d.items, it)
		return nil
	})
}

// RemoveItem removes the item of table from the draft.
func (s *Service) RemoveItem(ctx context.Context, by *security.Principal, id, table string) (*Profile, error) {
	return s.edit(ctx, by, id, func(_ *schema.Schema, _ string, d *draftRow) error {
		for i := range d.items {
			if d.items[i].Table == table {
				d.items = append(d.items[:i], d.items[i+1:]...)
				return nil
			}
		}
		return outpost.NotFoundf("table %q is not in the profile", table).WithTarget("table")
	})
}

// Delete deletes a profile that no app uses.
func (s *Service) Delete(ctx context.Context, by *security.Principal, id string) error {
	if _, err := s.Get(ctx, by, id); err != nil {
		return err
	}
	if by.Depth(s.p.Schema().MustTable("mobileofflineprofile"), security.Delete) == security.None {
		// Refused before anything else is told about the profile.
		return outpost.Forbiddenf("you lack the delete privilege on table %q", "mobileofflineprofile").WithTarget("mobileofflineprofile")
	}
	return s.p.Write(ctx, func(w *platform.Writer) error {
		apps, err := s.boundApps(ctx, w.Tx(), id)
		if err != nil {
			return err
		}
		if len(apps) > 0 {
			return outpost.Conflictf("the profile is used by %d app(s) (%s): turn their offline mode off or choose another profile first", len(apps), apps[0]).WithTarget("id")
		}
		if err := w.Delete(ctx, by, "mobileofflineprofile", id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM outpost_profile WHERE profileid = `, `DELETE FROM outpost_profileversion WHERE profileid = `,
			`DELETE FROM outpost_solutioncomponent WHERE kind = 'profile' AND objectid = `} {
			if _, err := w.Tx().ExecContext(ctx, q+s.ph(1, 1), id); err != nil {
				return fmt.Errorf("delete profile %s: %w", id, err)
			}
		}
		return nil
	})
}

// Clone copies profile id's draft into a new draft profile named name
// (default "Copy of …").
func (s *Service) Clone(ctx context.Context, by *security.Principal, id, name string) (*Profile, error) {
	cur, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "Copy of " + cur.Name
		if utf8.RuneCountInString(name) > maxNameLength {
			name = string([]rune(name)[:maxNameLength])
		}
	}
	in := Input{Name: name, Description: cur.Description, Assignment: &cur.Assignment}
	for _, it := range cur.Items {
		in.Items = append(in.Items, ItemInput{Item: it})
	}
	return s.Create(ctx, by, in)
}

// Validate checks the draft of profile id and records whether it passed.
// Warnings include the estimated download against the guidance of contract §2.
func (s *Service) Validate(ctx context.Context, by *security.Principal, id string) (*Validation, error) {
	p, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	v := Validate(s.p.Schema(), p)
	if err := s.estimate(ctx, p, v); err != nil {
		return nil, err
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		_, err := w.Update(ctx, by, "mobileofflineprofile", id, map[string]any{"isvalidated": v.Valid})
		return err
	})
	return v, err
}

// Publish validates the draft of profile id and, when it has no errors,
// makes it the published version devices get. Apps that use the profile are
// flagged as needing republish.
func (s *Service) Publish(ctx context.Context, by *security.Principal, id string) (*Profile, *Validation, error) {
	p, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	v := Validate(s.p.Schema(), p)
	if err := v.err(p.Name); err != nil {
		return nil, v, err
	}
	if err := s.estimate(ctx, p, v); err != nil {
		return nil, nil, err
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error { return s.publish(ctx, w, by, p) })
	if err != nil {
		return nil, v, err
	}
	p, err = s.Get(ctx, by, id)
	return p, v, err
}

func (s *Service) publish(ctx context.Context, w *platform.Writer, by *security.Principal, p *Profile) error {
	def, err := jsonString(version{Name: p.Name, Items: p.Items})
	if err != nil {
		return err
	}
	tx := w.Tx()
	if _, err := w.Update(ctx, by, "mobileofflineprofile", p.ID, map[string]any{"isvalidated": true, "publishedversion": w.Version(),
		"publishedon": w.Now().Format("2006-01-02T15:04:05.000Z07:00")}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_profileversion (profileid, version, definition, publishedon) VALUES (`+s.ph(1, 4)+`)`,
		p.ID, w.Version(), def, s.timeArg(w.Now())); err != nil {
		return fmt.Errorf("publish profile %s: %w", p.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outpost_profile SET dirty = 0 WHERE profileid = `+s.ph(1, 1), p.ID); err != nil {
		return fmt.Errorf("publish profile %s: %w", p.ID, err)
	}
	// The apps of the profile now need republishing: each is published
	// against an older version than this one, which GetApp compares.
	w.Touch("mobileofflineprofile")
	return nil
}

// Published is the newest published version of a profile: what apps
// published from now on get.
type Published struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Version     int64     `json:"version"`
	PublishedOn time.Time `json:"publishedOn"`
	Items       []Item    `json:"items"`
}

// Published returns the newest published version of profile id.
func (s *Service) Published(ctx context.Context, by *security.Principal, id string) (*Published, error) {
	if _, err := s.profileRow(ctx, by, id); err != nil {
		return nil, err
	}
	v, err := s.latest(ctx, s.p.DB().Read, id)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, outpost.NotFoundf("offline profile %s has no published version yet", id).WithTarget("id")
	}
	return &Published{ID: id, Name: v.Name, Version: v.Version, PublishedOn: v.On, Items: v.Items}, nil
}

// DiscardDraft replaces the draft of profile id with its published version.
func (s *Service) DiscardDraft(ctx context.Context, by *security.Principal, id string) (*Profile, error) {
	pub, err := s.Published(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.edit(ctx, by, id, func(_ *schema.Schema, _ string, d *draftRow) error {
		d.items = pub.Items
		return nil
	}); err != nil {
		return nil, err
	}
	// The draft is the published version again.
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		if _, err := w.Update(ctx, by, "mobileofflineprofile", id, map[string]any{"isvalidated": true}); err != nil {
			return err
		}
		_, err := w.Tx().ExecContext(ctx, `UPDATE outpost_profile SET dirty = 0 WHERE profileid = `+s.ph(1, 1), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, by, id)
}
