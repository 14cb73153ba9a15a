package profile

import (
	"context"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// This file is what package apps does with profiles inside its own
// transactions: an app's binding, a profile generated from an app, and a
// solution's profiles on import.

// Newest returns the newest published version of profile id, 0 when it is
// not published; q is the database or the caller's transaction.
func (s *Service) Newest(ctx context.Context, q querier, id string) (int64, error) {
	v, err := s.latest(ctx, q, id)
	if err != nil || v == nil {
		return 0, err
	}
	return v.Version, nil
}

// Exists returns a not-found error when there is no profile id.
func (s *Service) Exists(ctx context.Context, q querier, id string) error {
	_, err := s.loadDraft(ctx, q, id)
	return err
}

// CheckAssigned refuses by when profile id is restricted to users and
// teams by is not one of; app names the app being opened.
func (s *Service) CheckAssigned(ctx context.Context, by *security.Principal, id, app, target string) error {
	d, err := s.loadDraft(ctx, s.p.DB().Read, id)
	if err != nil {
		return err
	}
	if d.assignment.Mode == AssignRestricted && !assigned(d.assignment, by) {
		return outpost.Forbiddenf("the offline profile of app %q is restricted to selected users and teams, and you are not one of them", app).WithTarget(target)
	}
	return nil
}

func assigned(a Assignment, by *security.Principal) bool {
	for _, u := range a.Users {
		if strings.EqualFold(u, by.UserID) {
			return true
		}
	}
	for _, t := range a.Teams {
		for _, mine := range by.TeamIDs {
			if strings.EqualFold(t, mine) {
				return true
			}
		}
	}
	return false
}

// Draft is a new profile checked as Create checks it, not stored yet.
type Draft struct {
	in Input
	d  *draftRow
	// Profile is the draft as it would be stored: its name and normalized
	// items, no id.
	Profile *Profile
}

// NewDraft checks in for a new profile generated from object from.
func (s *Service) NewDraft(in Input, from string) (*Draft, error) {
	d, err := s.newDraft(in, from)
	if err != nil {
		return nil, err
	}
	return &Draft{in: in, d: d, Profile: &Profile{Name: in.Name, Items: d.items}}, nil
}

// Insert stores draft d as a new profile in w, published too when publish
// is set, and returns its id.
func (s *Service) Insert(ctx context.Context, w *platform.Writer, by *security.Principal, d *Draft, publish bool) (string, error) {
	id, err := s.insertProfile(ctx, w, by, d.in, d.d)
	if err != nil || !publish {
		return id, err
	}
	p := *d.Profile
	p.ID = id
	return id, s.publish(ctx, w, by, &p)
}

// PublishIn publishes profile p, as it stands, in w.
func (s *Service) PublishIn(ctx context.Context, w *platform.Writer, by *security.Principal, p *Profile) error {
	return s.publish(ctx, w, by, p)
}

// Err is the error that refuses to publish profile name when v has errors,
// nil when it has none.
func (v *Validation) Err(name string) error { return v.err(name) }

// CheckImported checks profile p of an archive against cand, the schema
// once the archive's tables are imported, and returns it normalized; with
// publish it must validate. p carries the archive's id, name, description,
// origin, assignment mode and items.
func (s *Service) CheckImported(ctx context.Context, cand *schema.Schema, p *Profile, publish bool) (*Profile, error) {
	if err := CheckName(p.Name, p.Description); err != nil {
		return nil, outpost.Invalidf("profile %q: %s", p.Name, outpost.ErrorMessage(err)).WithTarget("profiles")
	}
	out := &Profile{ID: p.ID, Name: p.Name, Description: p.Description, GeneratedFrom: p.GeneratedFrom, Assignment: Assignment{Mode: p.Assignment.Mode}}
	if err := checkAssignment(&out.Assignment); err != nil {
		return nil, err
	}
	out.Assignment.Users, out.Assignment.Teams = nil, nil // environment-specific
	for _, it := range p.Items {
		n, err := normalizeItem(cand, p.Name, ItemInput{Item: it})
		if err != nil {
			return nil, outpost.Invalidf("profile %q: %s", p.Name, outpost.ErrorMessage(err)).WithTarget("profiles")
		}
		if _, dup := out.Item(n.Table); dup {
			return nil, outpost.Invalidf("profile %q: table %q is in the profile twice", p.Name, n.Table).WithTarget("profiles")
		}
		out.Items = append(out.Items, n)
	}
	sortItems(out.Items)
	if err := s.nameTaken(ctx, s.p.DB().Read, out.Name, out.ID); err != nil {
		return nil, err
	}
	if publish {
		if err := Validate(cand, out).err(out.Name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ImportIn writes checked profile p of an archive in w: a new profile with
// p's id, or p's items over the draft of the profile of that id. A
// profile that exists keeps its users and teams unless the archive changes
// its assignment mode; p.Assignment is set to what is kept. It reports
// whether the profile was created.
func (s *Service) ImportIn(ctx context.Context, w *platform.Writer, by *security.Principal, p *Profile) (created bool, err error) {
	tx := w.Tx()
	d, err := s.loadDraft(ctx, tx, p.ID)
	fields := map[string]any{"name": p.Name, "description": p.Description, "isvalidated": false}
	switch {
	case outpost.ErrorCode(err) == outpost.CodeNotFound:
		fields["mobileofflineprofileid"] = p.ID
		if _, err := w.Create(ctx, by, "mobileofflineprofile", fields); err != nil {
			return false, fmt.Errorf("import profile %q: %w", p.Name, err)
		}
		return true, s.saveDraft(ctx, tx, p.ID, &draftRow{items: p.Items, assignment: p.Assignment, dirty: true, generatedFrom: p.GeneratedFrom}, true)
	case err != nil:
		return false, err
	}
	if _, err := w.Update(ctx, by, "mobileofflineprofile", p.ID, fields); err != nil {
		return false, fmt.Errorf("import profile %q: %w", p.Name, err)
	}
	d.items, d.dirty, d.generatedFrom = p.Items, true, p.GeneratedFrom
	if d.assignment.Mode != p.Assignment.Mode {
		d.assignment = p.Assignment
	}
	p.Assignment = d.assignment
	return false, s.saveDraft(ctx, tx, p.ID, d, false)
}
