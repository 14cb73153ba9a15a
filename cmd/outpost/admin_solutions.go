package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/platform"
)

// onSolution runs fn on the one SOLUTION argument (a unique name) of a
// command whose flags fs defines, and prints what fn returns.
func (a *admin) onSolution(ctx context.Context, fs *flag.FlagSet, args []string, fn func(svc *apps.Service, name string) (any, error)) error {
	return a.onArg(ctx, fs, args, "solution (unique name)", fn)
}

func (a *admin) solutionList(ctx context.Context, args []string) error {
	if _, err := a.open(ctx, a.flags("solution list", ""), args); err != nil {
		return err
	}
	return a.show(a.svc.ListSolutions(ctx, platform.System()))
}

func (a *admin) solutionCreate(ctx context.Context, args []string) error {
	fs := a.flags("solution create", "--name UNIQUENAME [--description DISPLAYNAME]", `solution create --name inspections --description "Site inspections"`)
	name := fs.String("name", "", "unique name: lowercase letters, digits and underscores")
	desc := fs.String("description", "", "display name (default the unique name)")
	if _, err := a.open(ctx, fs, args); err != nil {
		return err
	}
	return a.show(a.svc.CreateSolution(ctx, platform.System(), apps.SolutionInput{UniqueName: *name, Name: *desc}))
}

func (a *admin) solutionShow(ctx context.Context, args []string) error {
	return a.onSolution(ctx, a.flags("solution show", "SOLUTION", "solution show fieldservice"), args, func(svc *apps.Service, name string) (any, error) {
		return svc.GetSolution(ctx, platform.System(), name)
	})
}

func (a *admin) solutionAdd(ctx context.Context, args []string) error {
	return a.solutionComponent(ctx, "solution add", args, true)
}

func (a *admin) solutionRemove(ctx context.Context, args []string) error {
	return a.solutionComponent(ctx, "solution remove", args, false)
}

func (a *admin) solutionComponent(ctx context.Context, cmd string, args []string, add bool) error {
	fs := a.flags(cmd, "SOLUTION --kind table|app|profile --id ID", cmd+" inspections --kind app --id APPID", cmd+" inspections --kind table --id inspection")
	kind := fs.String("kind", "", "table, app or profile")
	id := fs.String("id", "", "a table name, an app id or a profile id")
	return a.onSolution(ctx, fs, args, func(svc *apps.Service, name string) (any, error) {
		c := apps.Component{Kind: *kind, ID: *id}
		if add {
			return svc.AddComponents(ctx, platform.System(), name, c)
		}
		return svc.RemoveComponent(ctx, platform.System(), name, c)
	})
}

func (a *admin) solutionAddRequired(ctx context.Context, args []string) error {
	return a.onSolution(ctx, a.flags("solution add-required", "SOLUTION", "solution add-required inspections"), args, func(svc *apps.Service, name string) (any, error) {
		return svc.AddRequired(ctx, platform.System(), name)
	})
}

func (a *admin) solutionExport(ctx context.Context, args []string) error {
	fs := a.flags("solution export", "SOLUTION --out FILE.zip", "solution export fieldservice --out fieldservice.zip")
	out := fs.String("out", "", "the archive file to write")
	pos, err := parse(fs, args, "solution (unique name)")
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required: the archive file to write")
	}
	svc, err := a.profiles(ctx)
	if err != nil {
		return err
	}
	data, err := svc.Export(ctx, platform.System(), pos[0])
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(a.stdout, "exported solution %s to %s (%d bytes)\n", pos[0], *out, len(data))
	return nil
}

func (a *admin) solutionImport(ctx context.Context, args []string) error {
	fs := a.flags("solution import", "--file FILE.zip [--publish] [--user OWNER]", "solution import --file fieldservice.zip --publish")
	file := fs.String("file", "", "the solution archive (.zip)")
	publish := fs.Bool("publish", false, "publish every imported profile (each must validate)")
	user := fs.String("user", "", "owner of new canvas apps (id or login)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("--file is required: the solution archive (.zip)")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("read %s: %w", *file, err)
	}
	svc, err := a.profiles(ctx)
	if err != nil {
		return err
	}
	opts := apps.ImportOptions{Publish: *publish}
	if opts.OwnerID, err = a.optionalUserID(ctx, *user); err != nil {
		return err
	}
	return a.show(svc.Import(ctx, platform.System(), data, opts))
}
