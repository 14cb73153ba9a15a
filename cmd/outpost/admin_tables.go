package main

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
)

func (a *admin) tableList(ctx context.Context, args []string) error {
	if _, err := a.open(ctx, a.flags("table list", ""), args); err != nil {
		return err
	}
	tw := a.table("NAME\tOWNERSHIP\tCOLUMNS\tOFFLINE\tBUILT-IN")
	for _, t := range a.p.Schema().Tables() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%t\t%t\n", t.Name, t.Ownership, len(t.Columns), t.Offline, t.BuiltIn)
	}
	return tw.Flush()
}

// tableShow prints the table's definition and its relationships, as the
// names a profile item selects.
func (a *admin) tableShow(ctx context.Context, args []string) error {
	pos, err := a.open(ctx, a.flags("table show", "NAME", "table show workorder"), args, "table")
	if err != nil {
		return err
	}
	p := a.p
	t, err := p.Schema().LookupTable(pos[0])
	if err != nil {
		return err
	}
	return a.show(struct {
		*schema.Table
		Relationships []schema.Relationship `json:"relationships"`
	}{t, p.Schema().Relationships(t.Name)}, nil)
}

func (a *admin) tableCreate(ctx context.Context, args []string) error {
	fs := a.flags("table create", "--file DEF.json", "table create --file inspection.json   (see docs/api.md for the definition)")
	file := fs.String("file", "", "JSON table definition ('-' for standard input)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var in platform.TableInput
	if err := readJSONFile(*file, &in); err != nil {
		return err
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	t, err := p.CreateTable(ctx, platform.System(), in)
	if err == nil {
		fmt.Fprintf(a.stdout, "created table %s with %d columns\n", t.Name, len(t.Columns))
	}
	return err
}

func (a *admin) tableAddColumn(ctx context.Context, args []string) error {
	fs := a.flags("table add-column", "--table NAME --file COL.json", `table add-column --table workorder --file col.json`)
	table := fs.String("table", "", "table name")
	file := fs.String("file", "", "JSON column definition ('-' for standard input)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var c schema.Column
	if err := readJSONFile(*file, &c); err != nil {
		return err
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	_, err = p.AddColumn(ctx, platform.System(), *table, c)
	return a.report(err, "added column %s to %s", c.Name, *table)
}

func (a *admin) tableOffline(ctx context.Context, args []string) error {
	pos, err := a.open(ctx, a.flags("table offline", "NAME", "table offline inspection"), args, "table")
	if err != nil {
		return err
	}
	on := true
	_, err = a.p.UpdateTable(ctx, platform.System(), pos[0], platform.TablePatch{Offline: &on})
	return a.report(err, "table %s can now be taken offline (change tracking on)", pos[0])
}
