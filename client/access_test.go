package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// TestAppAccessLostStopsTheDevice: a device keeps its app only while its
// user may open it. After the user loses the role that opens the canvas
// app, or leaves the team a restricted profile admits, every sync request
// of the device (delta, snapshot, reconcile, upload, files, staging) is
// refused with a forbidden error naming the app; the device library
// reports ErrAccessLost, says why in its status and no longer opens the
// app from its index.
func TestAppAccessLostStopsTheDevice(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		for _, c := range []struct {
			name string
			app  func(env *demo.Env) string
			// before runs before the device opens; lose takes access away.
			before, lose func(ctx context.Context, t *testing.T, p *platform.Platform, profiles *apps.Service, env *demo.Env)
		}{
			{
				name: "canvas role removed",
				app:  func(env *demo.Env) string { return env.CanvasApp },
				lose: func(ctx context.Context, t *testing.T, p *platform.Platform, _ *apps.Service, env *demo.Env) {
					testenv.Must(t, p.RemoveUserRole(ctx, platform.System(), env.Technicians[0].ID, env.FieldRole))
				},
			},
			{
				name: "left the restricted profile's team",
				app:  func(env *demo.Env) string { return env.ModelDrivenApp },
				before: func(ctx context.Context, t *testing.T, p *platform.Platform, profiles *apps.Service, env *demo.Env) {
					_, err := profiles.Update(ctx, platform.System(), env.ProfileID, profile.Patch{Assignment: &profile.Assignment{Mode: profile.AssignRestricted, Teams: []string{env.NorthTeam}}})
					testenv.Must(t, err)
				},
				lose: func(ctx context.Context, t *testing.T, p *platform.Platform, _ *apps.Service, env *demo.Env) {
					testenv.Must(t, p.RemoveTeamMember(ctx, platform.System(), env.NorthTeam, env.Technicians[0].ID))
				},
			},
		} {
			t.Run(e.Name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				p, err := platform.Open(ctx, e.Open(t), platform.Options{})
				testenv.Must(t, err)
				env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 2})
				testenv.Must(t, err)
				profiles := apps.New(p)
				eng := syncsrv.New(p, profiles, syncsrv.Options{})
				srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng}))
				defer srv.Close()
				if c.before != nil {
					c.before(ctx, t, p, profiles, env)
				}
				nora := env.Technicians[0]
				tok, err := p.IssueToken(ctx, platform.System(), nora.ID, "device")
				testenv.Must(t, err)
				dir := t.TempDir()
				opts := client.Options{Dir: dir, Server: srv.URL, Token: tok, AppID: c.app(env)}
				dev, err := client.Open(ctx, opts)
				testenv.Must(t, err)
				defer dev.Close()
				_, err = dev.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				_, err = dev.Sync(ctx, client.SyncOptions{}) // a delta, with the plan cached
				testenv.Must(t, err)

				c.lose(ctx, t, p, profiles, env)
				_, err = dev.Sync(ctx, client.SyncOptions{})
				if !errors.Is(err, client.ErrAccessLost) {
					t.Fatalf("sync after access was lost: %v, want ErrAccessLost", err)
				}
				st, err := dev.Status(ctx)
				testenv.Must(t, err)
				if st.AccessLost == "" || st.State != client.ConnectedError {
					t.Fatalf("status after access was lost: state %s, access lost %q", st.State, st.AccessLost)
				}

				pr, err := p.Principal(ctx, nora.ID)
				testenv.Must(t, err)
				id := dev.DeviceID()
				refused := func(what string, err error) {
					t.Helper()
					if outpost.ErrorCode(err) != outpost.CodeForbidden || outpost.ErrorTarget(err) != "appId" {
						t.Fatalf("%s after access was lost: %v, want forbidden on appId", what, err)
					}
				}
				refused("snapshot", eng.Snapshot(ctx, pr, wire.SnapshotRequest{DeviceID: id, Table: "workorder"}, func(*wire.SnapshotPage) error {
					t.Fatal("a page was sent")
					return nil
				}))
				_, err = eng.Delta(ctx, pr, wire.DeltaRequest{DeviceID: id})
				refused("delta", err)
				_, err = eng.Reconcile(ctx, pr, wire.ReconcileRequest{DeviceID: id, Table: "workorder", Buckets: 1, Diff: []int{0}})
				refused("reconcile", err)
				_, err = eng.Upload(ctx, pr, wire.UploadRequest{DeviceID: id, Changes: []wire.Change{{Seq: 1, MutationID: "m", Table: "workorder", Op: wire.OpUpdate, ID: outpost.NewID()}}})
				refused("upload", err)
				_, err = eng.Files(ctx, pr, wire.FilesRequest{DeviceID: id, IDs: []string{outpost.NewID()}})
				refused("files", err)
				_, err = eng.File(ctx, pr, id, outpost.NewID())
				refused("file", err)
				refused("stage file", eng.StageFile(ctx, pr, id, outpost.NewID(), "a.txt", "text/plain", strings.NewReader("x")))

				// The app is no longer offered offline: opening it asks the
				// server, which refuses.
				dev.Close()
				if _, err := client.Open(ctx, opts); outpost.ErrorCode(err) != outpost.CodeForbidden {
					t.Fatalf("open after access was lost: %v, want forbidden", err)
				}
			})
		}
	}
}
