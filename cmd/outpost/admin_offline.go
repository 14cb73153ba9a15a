package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

const offlineUsage = `
Offline profiles, apps and solutions (PROFILE is an id or a name):
  profile list
  profile create --name NAME [--description TEXT] [--file PROFILE.json]
  profile show PROFILE
  profile set-item PROFILE --file ITEM.json      add or replace one table's item
  profile remove-item PROFILE --table NAME
  profile clone PROFILE [--name NAME]
  profile validate PROFILE
  profile publish PROFILE
  profile delete PROFILE
  profile apps PROFILE                           the apps that use it
  profile preview PROFILE --user ID|LOGIN [--published]
                                                 rows per table, SQL and chains
  app list
  app create --kind canvas|modeldriven --name NAME [--file DEF.json] [--user OWNER]
  app show APP
  app offline APP --profile PROFILE | --off
  app publish APP
  app generate-profile APP [--name NAME] [--publish] [--bind]
  app delete APP
  solution list
  solution create --name UNIQUENAME [--description DISPLAYNAME]
  solution show NAME
  solution add NAME --kind table|app|profile --id ID
  solution add-required NAME                     add apps' profiles and tables
  solution export NAME --out FILE.zip
  solution import --file FILE.zip [--publish] [--user OWNER]
`

// offlineCommands are the admin commands for profiles, apps and solutions.
func (a *adminCmd) offlineCommands(fs *flag.FlagSet) map[string]func(args []string) error {
	svc := profile.New(a.p, profile.Options{})
	sys := platform.System()
	name, table, file, user := lookup(fs, "name"), lookup(fs, "table"), lookup(fs, "file"), lookup(fs, "user")
	desc := fs.String("description", "", "description")
	kind := fs.String("kind", "", "app kind or solution component kind")
	prof := fs.String("profile", "", "offline profile id or name")
	id := fs.String("id", "", "component id (a table name, app id or profile id)")
	out := fs.String("out", "", "output file")
	published := fs.Bool("published", false, "preview the published version instead of the draft")
	publish := fs.Bool("publish", false, "publish after generating or importing")
	bind := fs.Bool("bind", false, "make the generated profile the app's offline profile")
	off := fs.Bool("off", false, "turn \"Can be used offline\" off")
	// arg takes the one positional argument and parses flags given after it.
	arg := func(args []string, what string) (string, error) {
		if len(args) == 0 {
			return "", fmt.Errorf("name the %s", what)
		}
		if err := fs.Parse(args[1:]); err != nil {
			return "", err
		}
		if fs.NArg() > 0 {
			return "", fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		return args[0], nil
	}
	profileID := func(args []string) (string, error) {
		ref, err := arg(args, "profile (id or name)")
		if err != nil || outpost.ValidID(ref) {
			return ref, err
		}
		ps, err := svc.List(a.ctx, sys)
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
	show := func(v any, err error) error {
		if err != nil {
			return err
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	withProfile := func(fn func(id string) (any, error)) func([]string) error {
		return func(args []string) error {
			pid, err := profileID(args)
			if err != nil {
				return err
			}
			return show(fn(pid))
		}
	}
	withArg := func(what string, fn func(ref string) (any, error)) func([]string) error {
		return func(args []string) error {
			ref, err := arg(args, what)
			if err != nil {
				return err
			}
			return show(fn(ref))
		}
	}
	return map[string]func([]string) error{
		"profile list": func([]string) error { return a.profileList(svc) },
		"profile create": func([]string) error {
			in := profile.Input{}
			if file() != "" {
				if err := readJSONFile(file(), &in); err != nil {
					return err
				}
			}
			if name() != "" {
				in.Name = name()
			}
			if *desc != "" {
				in.Description = *desc
			}
			p, err := svc.Create(a.ctx, sys, in)
			if err == nil {
				fmt.Fprintln(a.stdout, p.ID)
			}
			return err
		},
		"profile show": withProfile(func(id string) (any, error) { return svc.Get(a.ctx, sys, id) }),
		"profile set-item": withProfile(func(id string) (any, error) {
			var in profile.ItemInput
			if err := readJSONFile(file(), &in); err != nil {
				return nil, err
			}
			return svc.PutItem(a.ctx, sys, id, in)
		}),
		"profile remove-item": withProfile(func(id string) (any, error) { return svc.RemoveItem(a.ctx, sys, id, table()) }),
		"profile clone":       withProfile(func(id string) (any, error) { return svc.Clone(a.ctx, sys, id, name()) }),
		"profile validate":    withProfile(func(id string) (any, error) { return svc.Validate(a.ctx, sys, id) }),
		"profile publish": withProfile(func(id string) (any, error) {
			p, v, err := svc.Publish(a.ctx, sys, id)
			if err != nil {
				return nil, err
			}
			return map[string]any{"profile": p, "warnings": v.Warnings}, nil
		}),
		"profile delete": func(args []string) error {
			pid, err := profileID(args)
			if err != nil {
				return err
			}
			return svc.Delete(a.ctx, sys, pid)
		},
		"profile apps": withProfile(func(id string) (any, error) { return svc.AppUsage(a.ctx, sys, id) }),
		"profile preview": func(args []string) error {
			pid, err := profileID(args)
			if err != nil {
				return err
			}
			uid, err := a.userID(user())
			if err != nil {
				return err
			}
			pv, err := svc.Preview(a.ctx, sys, pid, profile.PreviewOptions{UserID: uid, Published: *published})
			if err != nil {
				return err
			}
			return a.printPreview(pv)
		},
		"app list": func([]string) error { return show(svc.ListApps(a.ctx, sys)) },
		"app create": func([]string) error {
			in := profile.AppInput{Kind: *kind, Name: name()}
			if file() != "" {
				if err := readJSONFile(file(), &in.Definition); err != nil {
					return err
				}
			}
			if user() != "" {
				uid, err := a.userID(user())
				if err != nil {
					return err
				}
				in.OwnerID = uid
			}
			app, err := svc.CreateApp(a.ctx, sys, in)
			if err == nil {
				fmt.Fprintln(a.stdout, app.ID)
			}
			return err
		},
		"app show": withArg("app id", func(ref string) (any, error) { return svc.GetApp(a.ctx, sys, ref) }),
		"app offline": withArg("app id", func(ref string) (any, error) {
			in := profile.OfflineInput{Enabled: !*off}
			if in.Enabled {
				pid, err := profileID([]string{*prof})
				if err != nil {
					return nil, fmt.Errorf("--profile: %w", err)
				}
				in.ProfileID = pid
			}
			return svc.SetOffline(a.ctx, sys, ref, in)
		}),
		"app publish": withArg("app id", func(ref string) (any, error) { return svc.PublishApp(a.ctx, sys, ref) }),
		"app generate-profile": withArg("app id", func(ref string) (any, error) {
			return svc.GenerateProfile(a.ctx, sys, ref, profile.GenerateOptions{Name: name(), Publish: *publish, Bind: *bind})
		}),
		"app delete": func(args []string) error {
			ref, err := arg(args, "app id")
			if err != nil {
				return err
			}
			return svc.DeleteApp(a.ctx, sys, ref)
		},
		"solution list": func([]string) error { return show(svc.ListSolutions(a.ctx, sys)) },
		"solution create": func([]string) error {
			return show(svc.CreateSolution(a.ctx, sys, profile.SolutionInput{UniqueName: name(), Name: *desc}))
		},
		"solution show": withArg("solution", func(ref string) (any, error) { return svc.GetSolution(a.ctx, sys, ref) }),
		"solution add": withArg("solution", func(ref string) (any, error) {
			return svc.AddComponents(a.ctx, sys, ref, profile.Component{Kind: *kind, ID: *id})
		}),
		"solution add-required": withArg("solution", func(ref string) (any, error) { return svc.AddRequired(a.ctx, sys, ref) }),
		"solution export": func(args []string) error {
			ref, err := arg(args, "solution")
			if err != nil {
				return err
			}
			if *out == "" {
				return fmt.Errorf("--out is required: the archive file to write")
			}
			data, err := svc.Export(a.ctx, sys, ref)
			if err != nil {
				return err
			}
			if err := os.WriteFile(*out, data, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
			fmt.Fprintf(a.stdout, "exported solution %s to %s (%d bytes)\n", ref, *out, len(data))
			return nil
		},
		"solution import": func([]string) error {
			if file() == "" {
				return fmt.Errorf("--file is required: the solution archive (.zip)")
			}
			data, err := os.ReadFile(file())
			if err != nil {
				return fmt.Errorf("read %s: %w", file(), err)
			}
			opts := profile.ImportOptions{Publish: *publish}
			if user() != "" {
				if opts.OwnerID, err = a.userID(user()); err != nil {
					return err
				}
			}
			return show(svc.Import(a.ctx, sys, data, opts))
		},
	}
}

// lookup returns a reader of a string flag defined in admin.go; the value
// is read when the command runs, after parsing.
func lookup(fs *flag.FlagSet, name string) func() string {
	return func() string {
		if f := fs.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
}

func (a *adminCmd) profileList(svc *profile.Service) error {
	ps, err := svc.List(a.ctx, platform.System())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTABLES\tPUBLISHED\tDRAFT")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%t\n", p.ID, p.Name, len(p.Items), p.PublishedVersion, p.Draft)
	}
	return tw.Flush()
}

// printPreview shows rows per table, then each table's SQL and chains.
func (a *adminCmd) printPreview(pv *profile.Preview) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tINTERVAL\tCOLUMNS\tDEPENDS ON")
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
