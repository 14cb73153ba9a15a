package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/platform"
)

// onApp runs fn on the one APP argument (an id) of a command whose flags
// fs defines, and prints what fn returns.
func (a *admin) onApp(ctx context.Context, fs *flag.FlagSet, args []string, fn func(svc *apps.Service, id string) (any, error)) error {
	return a.onArg(ctx, fs, args, "app (id)", fn)
}

func (a *admin) appList(ctx context.Context, args []string) error {
	if _, err := a.open(ctx, a.flags("app list", ""), args); err != nil {
		return err
	}
	return a.show(a.svc.ListApps(ctx, platform.System()))
}

func (a *admin) appCreate(ctx context.Context, args []string) error {
	fs := a.flags("app create", "--kind canvas|modeldriven --name NAME [--file DEF.json] [--user OWNER]",
		`app create --kind modeldriven --name "Field Service" --file def.json   (def.json: {"tables":["workorder"],"views":[…],"forms":[…]})`)
	kind := fs.String("kind", "", "canvas or modeldriven")
	name := fs.String("name", "", "app name")
	file := fs.String("file", "", "JSON definition: tables, views, forms")
	user := fs.String("user", "", "owner of a canvas app (id or login; default the system)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	in := apps.AppInput{Kind: *kind, Name: *name}
	if *file != "" {
		if err := readJSONFile(*file, &in.Definition); err != nil {
			return err
		}
	}
	svc, err := a.profiles(ctx)
	if err != nil {
		return err
	}
	if in.OwnerID, err = a.optionalUserID(ctx, *user); err != nil {
		return err
	}
	app, err := svc.CreateApp(ctx, platform.System(), in)
	if err == nil {
		fmt.Fprintln(a.stdout, app.ID)
	}
	return err
}

func (a *admin) appShow(ctx context.Context, args []string) error {
	return a.onApp(ctx, a.flags("app show", "APP", "app show APPID"), args, func(svc *apps.Service, id string) (any, error) {
		return svc.GetApp(ctx, platform.System(), id)
	})
}

func (a *admin) appUpdate(ctx context.Context, args []string) error {
	fs := a.flags("app update", "APP [--file DEF.json] [--display-name NAME]", "app update APPID --file def.json")
	file := fs.String("file", "", "JSON definition that replaces the app's tables, views and forms")
	display := fs.String("display-name", "", "a canvas app's display name")
	return a.onApp(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		var patch apps.AppPatch
		if *file != "" {
			patch.Definition = &apps.Definition{}
			if err := readJSONFile(*file, patch.Definition); err != nil {
				return nil, err
			}
		}
		if *display != "" {
			patch.DisplayName = display
		}
		if patch.Definition == nil && patch.DisplayName == nil {
			return nil, fmt.Errorf("app update needs --file or --display-name")
		}
		return svc.UpdateApp(ctx, platform.System(), id, patch)
	})
}

func (a *admin) appOffline(ctx context.Context, args []string) error {
	fs := a.flags("app offline", "APP --profile PROFILE | --off", `app offline APPID --profile "Field Technician"`, "app offline APPID --off")
	prof := fs.String("profile", "", "offline profile id or name")
	off := fs.Bool("off", false, `turn "Can be used offline" off`)
	return a.onApp(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		in := apps.OfflineInput{Enabled: !*off}
		if *off == (*prof != "") {
			return nil, fmt.Errorf("app offline needs --profile or --off (one of them)")
		}
		if in.Enabled {
			pid, err := a.profileID(ctx, *prof)
			if err != nil {
				return nil, fmt.Errorf("--profile: %w", err)
			}
			in.ProfileID = pid
		}
		return svc.SetOffline(ctx, platform.System(), id, in)
	})
}

func (a *admin) appPublish(ctx context.Context, args []string) error {
	return a.onApp(ctx, a.flags("app publish", "APP", "app publish APPID"), args, func(svc *apps.Service, id string) (any, error) {
		return svc.PublishApp(ctx, platform.System(), id)
	})
}

func (a *admin) appGenerateProfile(ctx context.Context, args []string) error {
	fs := a.flags("app generate-profile", "APP [--name NAME] [--publish [--bind]]", "app generate-profile APPID --publish --bind")
	name := fs.String("name", "", `profile name (default "<app> (auto-generated)")`)
	publish := fs.Bool("publish", false, "publish the profile (it must validate)")
	bind := fs.Bool("bind", false, "also make it the app's offline profile (needs --publish)")
	return a.onApp(ctx, fs, args, func(svc *apps.Service, id string) (any, error) {
		return svc.GenerateProfile(ctx, platform.System(), id, apps.GenerateOptions{Name: *name, Publish: *publish, Bind: *bind})
	})
}

func (a *admin) appDelete(ctx context.Context, args []string) error {
	pos, err := a.open(ctx, a.flags("app delete", "APP", "app delete APPID"), args, "app (id)")
	if err != nil {
		return err
	}
	return a.svc.DeleteApp(ctx, platform.System(), pos[0])
}
