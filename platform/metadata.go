package platform

import (
	"context"
	"errors"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// TableInput is what a maker sends to create a custom table.
type TableInput struct {
	Name        string           `json:"name"`
	DisplayName string           `json:"displayName"`
	PluralName  string           `json:"pluralName"`
	Ownership   schema.Ownership `json:"ownership"`
	PrimaryName string           `json:"primaryName"`
	Columns     []schema.Column  `json:"columns"`
	Offline     bool             `json:"offline"`
}

// TablePatch changes a table's properties; nil fields stay as they are.
type TablePatch struct {
	DisplayName *string `json:"displayName"`
	PluralName  *string `json:"pluralName"`
	// Offline turns on "Can be taken offline" (and change tracking). It
	// cannot be turned off again.
	Offline        *bool `json:"offline"`
	ChangeTracking *bool `json:"changeTracking"`
}

func requireCustomizer(by *security.Principal) error {
	if !by.Customizer {
		return outpost.Forbiddenf("changing metadata needs the System Administrator, System Customizer or Environment Maker role")
	}
	return nil
}

// CreateTable creates a custom table, its system columns and its physical
// SQL table. When PrimaryName names no column, a required text column of
// that name is added.
func (p *Platform) CreateTable(ctx context.Context, by *security.Principal, in TableInput) (*schema.Table, error) {
	var out *schema.Table
	err := p.WriteMeta(ctx, func(w *Writer) error {
		var err error
		out, err = w.CreateTable(ctx, by, in)
		return err
	})
	return out, err
}

// CreateTable is Platform.CreateTable inside a WriteMeta transaction.
func (w *Writer) CreateTable(ctx context.Context, by *security.Principal, in TableInput) (*schema.Table, error) {
	p := w.p
	if err := requireCustomizer(by); err != nil {
		return nil, err
	}
	if err := schema.CheckReservedName(in.Name, "name"); err != nil {
		return nil, err
	}
	if in.Ownership == "" {
		in.Ownership = schema.OwnedByUser
	}
	if in.PrimaryName == "" {
		in.PrimaryName = "name"
	}
	for _, c := range in.Columns {
		if schema.IsSystemColumn(in.Name, c.Name) {
			return nil, outpost.Invalidf("column %q is a system column that Outpost adds itself", c.Name).WithTarget(c.Name)
		}
	}
	t := &schema.Table{Name: in.Name, DisplayName: in.DisplayName, PluralName: in.PluralName, Ownership: in.Ownership,
		PrimaryName: in.PrimaryName, Columns: append([]schema.Column(nil), in.Columns...), Offline: in.Offline, ChangeTracking: in.Offline}
	if _, ok := t.Column(in.PrimaryName); !ok {
		t.Columns = append([]schema.Column{{Name: in.PrimaryName, Type: schema.Text, Required: true, MaxLength: schema.DefaultTextLength}}, t.Columns...)
	}
	t = schema.WithSystemColumns(t)
	var out *schema.Table
	err := w.applyMeta(func(cur *schema.Schema) (*schema.Schema, func(w *Writer) error, error) {
		if _, exists := cur.Table(t.Name); exists {
			return nil, nil, outpost.Conflictf("table %q already exists", t.Name).WithTarget("name")
		}
		next, err := cur.WithTable(t)
		if err != nil {
			return nil, nil, err
		}
		out = t
		return next, func(w *Writer) error { return p.saveTable(ctx, w.tx, t, true) }, nil
	})
	return out, err
}

// AddColumn adds a column to a table and to its physical SQL table.
func (p *Platform) AddColumn(ctx context.Context, by *security.Principal, table string, c schema.Column) (*schema.Table, error) {
	var out *schema.Table
	err := p.WriteMeta(ctx, func(w *Writer) error {
		var err error
		out, err = w.AddColumn(ctx, by, table, c)
		return err
	})
	return out, err
}

// AddColumn is Platform.AddColumn inside a WriteMeta transaction.
func (w *Writer) AddColumn(ctx context.Context, by *security.Principal, table string, c schema.Column) (*schema.Table, error) {
	p := w.p
	if err := requireCustomizer(by); err != nil {
		return nil, err
	}
	var out *schema.Table
	err := w.applyMeta(func(cur *schema.Schema) (*schema.Schema, func(w *Writer) error, error) {
		t, err := cur.LookupTable(table)
		if err != nil {
			return nil, nil, err
		}
		if _, exists := t.Column(c.Name); exists {
			return nil, nil, outpost.Conflictf("table %q already has a column %q", t.Name, c.Name).WithTarget(c.Name)
		}
		if schema.IsSystemColumn(t.Name, c.Name) {
			return nil, nil, outpost.Invalidf("column %q is a system column that Outpost adds itself", c.Name).WithTarget(c.Name)
		}
		if c.Required {
			// Existing rows would hold null in a required column.
			return nil, nil, outpost.Invalidf("a column added to an existing table cannot be required: add it as optional, fill it, then make it required").WithTarget("required")
		}
		c.System, c.ReadOnly = false, false
		nt := *t
		nt.Columns = append(append([]schema.Column(nil), t.Columns...), c)
		next, err := cur.WithTable(&nt)
		if err != nil {
			return nil, nil, err
		}
		out = &nt
		return next, func(w *Writer) error {
			for _, stmt := range p.db.Dialect.AddColumn(&nt, &c) {
				if _, err := w.tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return p.saveTable(ctx, w.tx, &nt, false)
		}, nil
	})
	return out, err
}

// UpdateTable changes a table's display properties and turns on offline
// availability and change tracking.
func (p *Platform) UpdateTable(ctx context.Context, by *security.Principal, table string, patch TablePatch) (*schema.Table, error) {
	var out *schema.Table
	err := p.WriteMeta(ctx, func(w *Writer) error {
		var err error
		out, err = w.UpdateTable(ctx, by, table, patch)
		return err
	})
	return out, err
}

// UpdateTable is Platform.UpdateTable inside a WriteMeta transaction.
func (w *Writer) UpdateTable(ctx context.Context, by *security.Principal, table string, patch TablePatch) (*schema.Table, error) {
	p := w.p
	if err := requireCustomizer(by); err != nil {
		return nil, err
	}
	var out *schema.Table
	err := w.applyMeta(func(cur *schema.Schema) (*schema.Schema, func(w *Writer) error, error) {
		t, err := cur.LookupTable(table)
		if err != nil {
			return nil, nil, err
		}
		nt := *t
		if patch.DisplayName != nil {
			nt.DisplayName = *patch.DisplayName
		}
		if patch.PluralName != nil {
			nt.PluralName = *patch.PluralName
		}
		if patch.ChangeTracking != nil {
			if !*patch.ChangeTracking && t.ChangeTracking {
				return nil, nil, outpost.Invalidf("change tracking of table %q is on and cannot be turned off", t.Name).WithTarget("changeTracking")
			}
			nt.ChangeTracking = *patch.ChangeTracking
		}
		if patch.Offline != nil {
			if !*patch.Offline && t.Offline {
				return nil, nil, outpost.Invalidf("table %q can be taken offline and that cannot be turned off", t.Name).WithTarget("offline")
			}
			if *patch.Offline && t.NeverOffline {
				return nil, nil, outpost.Invalidf("table %q can never be taken offline", t.Name).WithTarget("offline")
			}
			if *patch.Offline {
				nt.Offline, nt.ChangeTracking = true, true
			}
		}
		next, err := cur.WithTable(&nt)
		if err != nil {
			return nil, nil, err
		}
		out = &nt
		return next, func(w *Writer) error { return p.saveTable(ctx, w.tx, &nt, false) }, nil
	})
	return out, err
}

// CreateManyToMany creates an N:N relationship and its intersect table.
func (p *Platform) CreateManyToMany(ctx context.Context, by *security.Principal, d schema.ManyToManyDef) error {
	return p.WriteMeta(ctx, func(w *Writer) error { return w.CreateManyToMany(ctx, by, d) })
}

// CreateManyToMany is Platform.CreateManyToMany inside a WriteMeta transaction.
func (w *Writer) CreateManyToMany(ctx context.Context, by *security.Principal, d schema.ManyToManyDef) error {
	p := w.p
	if err := requireCustomizer(by); err != nil {
		return err
	}
	if !schema.ValidName(d.Name) {
		return outpost.Invalidf("relationship name %q is not valid: use 2 to 50 lowercase letters, digits and underscores", d.Name).WithTarget("name")
	}
	if d.Intersect == "" {
		d.Intersect = d.Name
	}
	if err := schema.CheckReservedName(d.Intersect, "intersect"); err != nil {
		return err
	}
	return w.applyMeta(func(cur *schema.Schema) (*schema.Schema, func(w *Writer) error, error) {
		next, err := cur.WithManyToMany(d)
		if err != nil {
			return nil, nil, err
		}
		it, _ := next.Table(d.Intersect)
		return next, func(w *Writer) error {
			if err := p.saveTable(ctx, w.tx, it, true); err != nil {
				return err
			}
			return saveMeta(ctx, p.db, w.tx, "nn", d.Name, d)
		}, nil
	})
}

// applyMeta applies one metadata change in w: change computes the next
// schema from the transaction's and the statements that make the database
// follow.
func (w *Writer) applyMeta(change func(cur *schema.Schema) (*schema.Schema, func(w *Writer) error, error)) error {
	if !w.metaAllowed {
		return errors.New("metadata changes need a Platform.WriteMeta transaction")
	}
	next, apply, err := change(w.sch)
	if err != nil {
		return err
	}
	if err := apply(w); err != nil {
		return err
	}
	w.sch, w.metadataChanged = next, true
	return nil
}
