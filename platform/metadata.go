package platform

import (
	"context"
	"errors"
	"strconv"
	"strings"

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
	return writeMeta(ctx, p, func(w *Writer) (*schema.Table, error) { return w.CreateTable(ctx, by, in) })
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
	return writeMeta(ctx, p, func(w *Writer) (*schema.Table, error) { return w.AddColumn(ctx, by, table, c) })
}

// AddColumn is Platform.AddColumn inside a WriteMeta transaction.
func (w *Writer) AddColumn(ctx context.Context, by *security.Principal, table string, c schema.Column) (*schema.Table, error) {
	return w.changeTable(ctx, by, table, func(t *schema.Table) (*schema.Table, func(w *Writer) error, error) {
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
		return &nt, func(w *Writer) error {
			for _, stmt := range w.p.db.Dialect.AddColumn(&nt, &c) {
				if _, err := w.tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
}

// UpdateTable changes a table's display properties and turns on offline
// availability and change tracking.
func (p *Platform) UpdateTable(ctx context.Context, by *security.Principal, table string, patch TablePatch) (*schema.Table, error) {
	return writeMeta(ctx, p, func(w *Writer) (*schema.Table, error) { return w.UpdateTable(ctx, by, table, patch) })
}

// UpdateTable is Platform.UpdateTable inside a WriteMeta transaction.
func (w *Writer) UpdateTable(ctx context.Context, by *security.Principal, table string, patch TablePatch) (*schema.Table, error) {
	return w.changeTable(ctx, by, table, func(t *schema.Table) (*schema.Table, func(w *Writer) error, error) {
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
		return &nt, nil, nil
	})
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

// writeMeta runs f, a Writer's metadata change, in a WriteMeta transaction
// of its own and returns its result.
func writeMeta[T any](ctx context.Context, p *Platform, f func(w *Writer) (T, error)) (T, error) {
	var out T
	err := p.WriteMeta(ctx, func(w *Writer) error {
		var err error
		out, err = f(w)
		return err
	})
	return out, err
}

// changeTable replaces table with the table edit makes of it (a copy: the
// current one is shared) for a customizer by, runs the DDL edit returns
// (nil when the physical table stays as it is) and saves the new
// definition.
func (w *Writer) changeTable(ctx context.Context, by *security.Principal, table string, edit func(t *schema.Table) (*schema.Table, func(w *Writer) error, error)) (*schema.Table, error) {
	if err := requireCustomizer(by); err != nil {
		return nil, err
	}
	var out *schema.Table
	err := w.applyMeta(func(cur *schema.Schema) (*schema.Schema, func(w *Writer) error, error) {
		t, err := cur.LookupTable(table)
		if err != nil {
			return nil, nil, err
		}
		nt, ddl, err := edit(t)
		if err != nil {
			return nil, nil, err
		}
		next, err := cur.WithTable(nt)
		if err != nil {
			return nil, nil, err
		}
		out = nt
		return next, func(w *Writer) error {
			if ddl != nil {
				if err := ddl(w); err != nil {
					return err
				}
			}
			return w.p.saveTable(ctx, w.tx, nt, false)
		}, nil
	})
	return out, err
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

// ColumnPatch changes an existing column; nil fields stay as they are. Only
// changes that keep every stored value valid are accepted: the display name;
// required on (when no row holds null) or off; a longer maximum length, or
// a shorter one no stored value exceeds (text and memo); and a choice's
// options may gain new values and change labels but lose none, because
// devices may hold a value offline. Name, type and lookup target never
// change.
type ColumnPatch struct {
	DisplayName *string         `json:"displayName"`
	Required    *bool           `json:"required"`
	MaxLength   *int            `json:"maxLength"`
	Options     []schema.Option `json:"options"`
}

// UpdateColumn changes an existing column of a table (see ColumnPatch).
func (p *Platform) UpdateColumn(ctx context.Context, by *security.Principal, table, column string, patch ColumnPatch) (*schema.Table, error) {
	return writeMeta(ctx, p, func(w *Writer) (*schema.Table, error) { return w.UpdateColumn(ctx, by, table, column, patch) })
}

// UpdateColumn is Platform.UpdateColumn inside a WriteMeta transaction.
func (w *Writer) UpdateColumn(ctx context.Context, by *security.Principal, table, column string, patch ColumnPatch) (*schema.Table, error) {
	return w.changeTable(ctx, by, table, func(t *schema.Table) (*schema.Table, func(w *Writer) error, error) {
		i := columnIndex(t, column)
		if i < 0 {
			return nil, nil, outpost.NotFoundf("table %q has no column %q", t.Name, column).WithTarget(column)
		}
		old := t.Columns[i]
		if old.System {
			return nil, nil, outpost.Invalidf("column %q is a system column and cannot be changed", old.Name).WithTarget(old.Name)
		}
		c, err := patchColumn(ctx, w, t, old, patch)
		if err != nil {
			return nil, nil, err
		}
		nt := *t
		nt.Columns = append([]schema.Column(nil), t.Columns...)
		nt.Columns[i] = c
		return &nt, nil, nil
	})
}

func columnIndex(t *schema.Table, name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// patchColumn returns old with patch applied, or an invalid-input error
// naming the field when the change would break stored data.
func patchColumn(ctx context.Context, w *Writer, t *schema.Table, old schema.Column, patch ColumnPatch) (schema.Column, error) {
	c := old
	if patch.DisplayName != nil {
		c.DisplayName = *patch.DisplayName
	}
	if patch.Required != nil && *patch.Required != old.Required {
		if *patch.Required && t.PrimaryName != old.Name {
			if n, err := w.countWhere(ctx, t, w.p.db.Dialect.Quote(old.Name)+" IS NULL"); err != nil {
				return c, err
			} else if n > 0 {
				return c, outpost.Invalidf("column %q cannot be made required: %s no value; fill them first", old.Name, rowsHold(n)).WithTarget("required")
			}
		}
		if !*patch.Required && t.PrimaryName == old.Name {
			return c, outpost.Invalidf("column %q is the table's primary name and stays required", old.Name).WithTarget("required")
		}
		c.Required = *patch.Required
	}
	if patch.MaxLength != nil {
		if err := patchMaxLength(ctx, w, t, &c, *patch.MaxLength); err != nil {
			return c, err
		}
	}
	if patch.Options != nil {
		if err := patchOptions(&c, patch.Options); err != nil {
			return c, err
		}
	}
	return c, nil
}

func patchMaxLength(ctx context.Context, w *Writer, t *schema.Table, c *schema.Column, n int) error {
	if c.Type != schema.Text && c.Type != schema.Memo {
		return outpost.Invalidf("column %q is %s: only text and memo columns have a maximum length", c.Name, c.Type).WithTarget("maxLength")
	}
	limit := schema.MaxTextLength
	if c.Type == schema.Memo {
		limit = schema.MaxMemoLength
	}
	if n < 1 || n > limit {
		return outpost.Invalidf("maxLength %d of column %q is out of range: use 1 to %d", n, c.Name, limit).WithTarget("maxLength")
	}
	if n < c.Limit() {
		q := w.p.db.Dialect.Quote(c.Name)
		cnt, err := w.countWhere(ctx, t, "length("+q+") > "+strconv.Itoa(n))
		if err != nil {
			return err
		}
		if cnt > 0 {
			return outpost.Invalidf("maxLength of column %q cannot shrink to %d: %s longer values", c.Name, n, rowsHold(cnt)).WithTarget("maxLength")
		}
	}
	c.MaxLength = n
	return nil
}

// patchOptions replaces c's options with next, which must keep every
// existing value (labels may change) and may add new ones.
func patchOptions(c *schema.Column, next []schema.Option) error {
	if c.Type != schema.Choice {
		return outpost.Invalidf("column %q is %s: only choice columns have options", c.Name, c.Type).WithTarget("options")
	}
	have := make(map[int64]bool, len(next))
	for _, o := range next {
		if strings.TrimSpace(o.Label) == "" {
			return outpost.Invalidf("option %d of column %q needs a label", o.Value, c.Name).WithTarget("options")
		}
		have[o.Value] = true
	}
	for _, o := range c.Options {
		if !have[o.Value] {
			return outpost.Invalidf("option %d (%q) of column %q cannot be removed: stored rows and offline devices may hold it", o.Value, o.Label, c.Name).WithTarget("options")
		}
	}
	c.Options = append([]schema.Option(nil), next...)
	return nil
}

// countWhere counts the rows of t's physical table matching cond, inside
// w's transaction.
func (w *Writer) countWhere(ctx context.Context, t *schema.Table, cond string) (int64, error) {
	var n int64
	err := w.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+w.p.db.Dialect.Quote(t.Name)+" WHERE "+cond).Scan(&n)
	return n, err
}

// rowsHold is "1 row holds" or "N rows hold".
func rowsHold(n int64) string {
	if n == 1 {
		return "1 row holds"
	}
	return strconv.FormatInt(n, 10) + " rows hold"
}
