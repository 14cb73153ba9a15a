package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/syncsrv"
)

// deviceFixture is a demo server and one technician's device home.
type deviceFixture struct {
	p   *platform.Platform
	env *demo.Env
	srv *httptest.Server
	tok string // the first technician's token
	// home is the device directory.
	home string
	// dev runs "outpost device --home HOME args..." and returns its output.
	dev func(args ...string) string
}

func newDeviceFixture(t *testing.T, accounts int) *deviceFixture {
	t.Helper()
	ctx := context.Background()
	// The cheapest hash cost: these tests are about the CLI, and bcrypt's
	// default cost takes seconds a hash under the race detector.
	p, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: accounts})
	if err != nil {
		t.Fatal(err)
	}
	profiles := profile.New(p)
	srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{})}))
	t.Cleanup(srv.Close)
	tok, err := p.IssueToken(ctx, platform.System(), env.Technicians[0].ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	f := &deviceFixture{p: p, env: env, srv: srv, tok: tok, home: home}
	f.dev = func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, append([]string{"device", "--home", home}, args...), func(string) string { return "" }, &out, &errb); err != nil {
			t.Fatalf("device %v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String()
	}
	return f
}
