package client_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// TestDevicesKeepTheAppsProfileVersionUntilRepublish: an app is published
// against a profile version. After the profile is edited and published,
// the app needs republishing and its devices keep the old version; once
// the app is published, they get the new one.
func TestDevicesKeepTheAppsProfileVersionUntilRepublish(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(t), platform.Options{})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
			testenv.Must(t, err)
			sys := platform.System()
			profiles := apps.New(p)
			srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{})}))
			defer srv.Close()
			tok, err := p.IssueToken(ctx, sys, env.Technicians[0].ID, "device")
			testenv.Must(t, err)
			dev, err := client.Open(ctx, client.Options{Dir: t.TempDir(), Server: srv.URL, Token: tok, AppID: env.ModelDrivenApp})
			testenv.Must(t, err)
			defer dev.Close()
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if !slices.Contains(dev.Tables(), "product") {
				t.Fatalf("first sync: tables %v lack product", dev.Tables())
			}
			before, err := profiles.GetApp(ctx, sys, env.ModelDrivenApp)
			testenv.Must(t, err)

			_, err = profiles.RemoveItem(ctx, sys, env.ProfileID, "product")
			testenv.Must(t, err)
			_, _, err = profiles.Publish(ctx, sys, env.ProfileID)
			testenv.Must(t, err)
			app, err := profiles.GetApp(ctx, sys, env.ModelDrivenApp)
			testenv.Must(t, err)
			if !app.NeedsRepublish || app.ProfileVersion != before.ProfileVersion || app.NewestProfileVersion <= app.ProfileVersion {
				t.Fatalf("after the profile's publish: needsRepublish %t, version %d (was %d), newest %d", app.NeedsRepublish, app.ProfileVersion, before.ProfileVersion, app.NewestProfileVersion)
			}
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if !slices.Contains(dev.Tables(), "product") {
				t.Fatalf("before the app is republished the device must keep its version; tables %v", dev.Tables())
			}

			app, err = profiles.PublishApp(ctx, sys, env.ModelDrivenApp)
			testenv.Must(t, err)
			if app.NeedsRepublish || app.ProfileVersion != app.NewestProfileVersion {
				t.Fatalf("after the app's publish: needsRepublish %t, version %d, newest %d", app.NeedsRepublish, app.ProfileVersion, app.NewestProfileVersion)
			}
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if slices.Contains(dev.Tables(), "product") {
				t.Fatalf("after the app is republished the device gets the new version; tables %v", dev.Tables())
			}
		})
	}
}
