package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

// profileID resolves a profile id or name.
func (a *admin) profileID(ctx context.Context, ref string) (string, error) {
	svc, err := a.profiles(ctx)
	if err != nil || outpost.ValidID(ref) {
		return ref, err
	}
	ps, err := svc.List(ctx, platform.System())
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if strings.EqualFold(p.Name, ref) {
			return p.ID, nil
		}
	}
	return "", fmt.Errorf("no offline profile is named %q: outpost admin profile list shows them", ref)
}

func (a *admin) profileList(ctx context.Context, args []string) error {
	if _, err := a.open(ctx, a.flags("profile list", ""), args); err != nil {
		return err
	}
	ps, err := a.svc.List(ctx, platform.System())
	if err != nil {
		return err
	}
	tw := a.table("ID\tNAME\tTABLES\tPUBLISHED\tDRAFT")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%t\n", p.ID, p.Name, len(p.Items), p.PublishedVersion, p.Draft)
	}
	return tw.Flush()
}

func (a *admin) profileCreate(ctx context.Context, args []string) error {
	fs := a.flags("profile create", "--name NAME [--description TEXT] [--file PROFILE.json]",
		`profile create --name Inspections --description "Site inspections"`, "profile create --file inspections.json")
	name := fs.String("name", "", "profile name (overrides the file's)")
	desc := fs.String("description", "", "description (overrides the file's)")
	file := fs.String("file", "", "JSON profile: name, description, items, assignment")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	in := profile.Input{}
	if *file != "" {
		if err := readJSONFile(*file, &in); err != nil {
			return err
		}
	}
	if *name != "" {
		in.Name = *name
	}
	if *desc != "" {
		in.Description = *desc
	}
	svc, err := a.profiles(ctx)
	if err != nil {
		return err
	}
	p, err := svc.Create(ctx, platform.System(), in)
	if err == nil {
		fmt.Fprintln(a.stdout, p.ID)
	}
	return err
}

// profileArg parses args with fs, requiring the one PROFILE argument, and
// resolves it to the profile's id (opening the environment).
func (a *admin) profileArg(ctx context.Context, fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parse(fs, args, "profile (id or name)")
	if err != nil {
		return "", err
	}
	return a.profileID(ctx, pos[0])
}

// onProfile runs fn on the one PROFILE argument of command name, whose
// flags fs defines, and prints what fn returns.
func (a *admin) onProfile(ctx context.Context, fs *flag.FlagSet, args []string, fn func(svc *apps.Service, id string) (any, error)) error {
	id, err := a.profileArg(ctx, fs, args)
	if err != nil {
		return err
	}
	return a.show(fn(a.svc, id))
}

func (a *admin) profileShow(ctx context.Context, args []string) error {
	fs := a.flags("profile show", "PROFILE [--published]", `profile show "Field Technician"`, `profile show "Field Technician" --published`)
	published := fs.Bool("published", false, "show the published version (what apps published from now on get) instead of the draft")
	return a.onProfile(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		if *published {
			return svc.Published(ctx, platform.System(), id)
		}
		return svc.Get(ctx, platform.System(), id)
	})
}

func (a *admin) profileSetItem(ctx context.Context, args []string) error {
	fs := a.flags("profile set-item", "PROFILE --file ITEM.json", `profile set-item Inspections --file item.json   (see docs/profiles.md)`)
	file := fs.String("file", "", "JSON item: table, rule, filter or filterText, relationships, columns…")
	return a.onProfile(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		var in profile.ItemInput
		if err := readJSONFile(*file, &in); err != nil {
			return nil, err
		}
		return svc.PutItem(ctx, platform.System(), id, in)
	})
}

func (a *admin) profileRemoveItem(ctx context.Context, args []string) error {
	fs := a.flags("profile remove-item", "PROFILE --table NAME", "profile remove-item Inspections --table product")
	table := fs.String("table", "", "the table whose item goes")
	return a.onProfile(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		return svc.RemoveItem(ctx, platform.System(), id, *table)
	})
}

func (a *admin) profileAssign(ctx context.Context, args []string) error {
	fs := a.flags("profile assign", "PROFILE --mode default|restricted [--user ID|LOGIN ...] [--team ID ...]",
		"profile assign Inspections --mode restricted --user nora@contoso.example --team TEAMID",
		"profile assign Inspections --mode default")
	mode := fs.String("mode", "", "default (every user of its apps) or restricted (only the users and teams given)")
	var users, teams multi
	fs.Var(&users, "user", "user id or login (repeatable)")
	fs.Var(&teams, "team", "team id (repeatable)")
	return a.onProfile(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		as := &profile.Assignment{Mode: *mode, Teams: teams}
		for _, u := range users {
			uid, err := a.userID(ctx, u)
			if err != nil {
				return nil, err
			}
			as.Users = append(as.Users, uid)
		}
		return svc.Update(ctx, platform.System(), id, profile.Patch{Assignment: as})
	})
}

func (a *admin) profileClone(ctx context.Context, args []string) error {
	fs := a.flags("profile clone", "PROFILE [--name NAME]", `profile clone "Field Technician" --name "Field Technician 2"`)
	name := fs.String("name", "", `name of the copy (default "Copy of …")`)
	return a.onProfile(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		return svc.Clone(ctx, platform.System(), id, *name)
	})
}

func (a *admin) profileValidate(ctx context.Context, args []string) error {
	return a.onProfile(ctx, a.flags("profile validate", "PROFILE", "profile validate Inspections"), args, func(svc *apps.Service, id string) (any, error) {
		return svc.Validate(ctx, platform.System(), id)
	})
}

func (a *admin) profilePublish(ctx context.Context, args []string) error {
	return a.onProfile(ctx, a.flags("profile publish", "PROFILE", "profile publish Inspections"), args, func(svc *apps.Service, id string) (any, error) {
		p, v, err := svc.Publish(ctx, platform.System(), id)
		if err != nil {
			return nil, err
		}
		apps, err := svc.AppUsage(ctx, platform.System(), id)
		if err != nil {
			return nil, err
		}
		var notes []string
		for _, app := range apps {
			if app.NeedsRepublish {
				notes = append(notes, fmt.Sprintf("app %q keeps giving its devices version %d until you publish it: outpost admin app publish %s", app.Name, app.ProfileVersion, app.ID))
			}
		}
		return map[string]any{"profile": p, "warnings": v.Warnings, "notes": notes}, nil
	})
}

func (a *admin) profileDiscard(ctx context.Context, args []string) error {
	return a.onProfile(ctx, a.flags("profile discard", "PROFILE", "profile discard Inspections"), args, func(svc *apps.Service, id string) (any, error) {
		return svc.DiscardDraft(ctx, platform.System(), id)
	})
}

func (a *admin) profileDelete(ctx context.Context, args []string) error {
	id, err := a.profileArg(ctx, a.flags("profile delete", "PROFILE", "profile delete Scratch"), args)
	if err != nil {
		return err
	}
	return a.svc.Delete(ctx, platform.System(), id)
}

func (a *admin) profileApps(ctx context.Context, args []string) error {
	return a.onProfile(ctx, a.flags("profile apps", "PROFILE", `profile apps "Field Technician"`), args, func(svc *apps.Service, id string) (any, error) {
		return svc.AppUsage(ctx, platform.System(), id)
	})
}

func (a *admin) profilePreview(ctx context.Context, args []string) error {
	fs := a.flags("profile preview", "PROFILE --user ID|LOGIN [--published]", `profile preview "Field Technician" --user nora@contoso.example --published`)
	user := fs.String("user", "", "the user whose download to preview (id or login)")
	published := fs.Bool("published", false, "preview the published version instead of the draft")
	id, err := a.profileArg(ctx, fs, args)
	if err != nil {
		return err
	}
	uid, err := a.userID(ctx, *user)
	if err != nil {
		return err
	}
	pv, err := a.svc.Preview(ctx, platform.System(), id, profile.PreviewOptions{UserID: uid, Published: *published})
	if err != nil {
		return err
	}
	return a.printPreview(pv)
}

// printPreview shows rows per table, then each table's SQL and chains.
func (a *admin) printPreview(pv *profile.Preview) error {
	tw := a.table("TABLE\tROWS\tINTERVAL\tCOLUMNS\tDEPENDS ON")
	for _, it := range pv.Items {
		fmt.Fprintf(tw, "%s\t%d\t%dm\t%d\t%s\n", it.Table, it.Rows, it.IntervalMinutes, len(it.Columns), strings.Join(it.DependsOn, ", "))
	}
	fmt.Fprintf(tw, "total\t%d\t\t\t\n", pv.TotalRows)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, it := range pv.Items {
		fmt.Fprintf(a.stdout, "\n%s:\n", it.Table)
		for _, c := range it.Chains {
			fmt.Fprintf(a.stdout, "  chain: %s\n", c)
		}
		fmt.Fprintf(a.stdout, "  sql:   %s\n  args:  %v\n", it.SQL, it.Args)
	}
	for _, w := range pv.Warnings {
		fmt.Fprintf(a.stdout, "\nwarning: %s\n", w.Message)
	}
	return nil
}
