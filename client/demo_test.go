package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// TestDemoProfileEndToEnd syncs a technician's device with the demo's
// real published "Field Technician" profile (profile.Service plans it):
// first sync, offline edits while the server reassigns a work order and
// takes the technician out of the team, reconnect, equal to the plan.
func TestDemoProfileEndToEnd(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(t), platform.Options{})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 4})
			testenv.Must(t, err)
			profiles := apps.New(p)
			eng := syncsrv.New(p, profiles, syncsrv.Options{})
			srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng}))
			defer srv.Close()
			nora := env.Technicians[0]
			tok, err := p.IssueToken(ctx, platform.System(), nora.ID, "device")
			testenv.Must(t, err)
			f := &faults{}
			dev, err := client.Open(ctx, client.Options{Dir: t.TempDir(), Server: srv.URL, Token: tok, AppID: env.ModelDrivenApp, HTTPClient: &http.Client{Transport: f}})
			testenv.Must(t, err)
			defer dev.Close()
			_, err = dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			check := func() {
				t.Helper()
				pr, err := p.Principal(ctx, nora.ID)
				testenv.Must(t, err)
				want, err := eng.Expected(ctx, pr, dev.DeviceID())
				testenv.Must(t, err)
				if len(want["workorder"]) == 0 {
					t.Fatal("the plan holds no work orders")
				}
				for table, rows := range want {
					got, err := dev.Rows(ctx, table)
					testenv.Must(t, err)
					if len(got) != len(rows) {
						t.Fatalf("table %s: device holds %d rows, plan %d", table, len(got), len(rows))
					}
					for id, r := range rows {
						if got[id]["versionnumber"] != r["versionnumber"] {
							t.Fatalf("table %s row %s: device version %v, plan %v", table, id, got[id]["versionnumber"], r["versionnumber"])
						}
					}
				}
			}
			check()

			f.set(func(f *faults) { f.down = true })
			own, err := dev.Query(ctx, "workorder", client.Query{Filter: "ownerid eq '" + nora.ID + "'", Top: 2})
			testenv.Must(t, err)
			testenv.Must(t, dev.Update(ctx, "workorder", own[0]["workorderid"].(string), map[string]any{"description": "done offline", "completed": true}))
			sys := platform.System()
			_, err = p.Assign(ctx, sys, "workorder", own[1]["workorderid"].(string), env.Technicians[2].ID)
			testenv.Must(t, err)
			testenv.Must(t, p.RemoveTeamMember(ctx, sys, env.NorthTeam, nora.ID))
			f.set(func(f *faults) { f.down = false })
			res, err := dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if res.Uploaded != 1 || res.Removed == 0 {
				t.Fatalf("reconnect: %+v", res)
			}
			check()
		})
	}
}
