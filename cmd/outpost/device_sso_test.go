package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/oidctest"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// TestDeviceLoginWithSSO: device login --sso prints the address to open,
// takes the browser's return on its loopback port and keeps the device
// credential; the device then opens and syncs an app.
func TestDeviceLoginWithSSO(t *testing.T) {
	ctx := context.Background()
	op := oidctest.Start(t)
	p, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 2})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p)
	srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{}),
		OIDC: &httpapi.OIDCOptions{Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret()}}))
	t.Cleanup(srv.Close)
	nora := env.Technicians[0]
	home := t.TempDir()

	login := func() (string, error) {
		pr, pw := io.Pipe()
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, []string{"device", "--home", home, "login", "--server", srv.URL, "--sso"}, noEnv, pw, io.Discard)
			pw.Close()
		}()
		var out strings.Builder
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			out.WriteString(line)
			if u := strings.TrimSpace(line); strings.HasPrefix(u, srv.URL+"/api/auth/oidc/device/start?") {
				resp, err := http.Get(u) // the browser: provider, server, then the command's loopback
				if err != nil {
					t.Fatal(err)
				}
				page, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !strings.Contains(string(page), "igned in") {
					t.Fatalf("the browser's page from the command: %q, %v; want the whole sign-in reply", page, err)
				}
			}
			if err != nil {
				break
			}
		}
		return out.String(), <-errc
	}

	op.QueueUser("x", "stranger@example.com")
	if out, err := login(); err == nil || !strings.Contains(err.Error(), "single sign-on was refused") || !strings.Contains(err.Error(), "no Outpost user") {
		t.Fatalf("a login Outpost does not know: %v\n%s", err, out)
	}
	op.QueueUser("n", nora.DomainName)
	out, err := login()
	if err != nil || !strings.Contains(out, "Open this address in a browser") || !strings.Contains(out, "Signed in to "+srv.URL+" as user "+nora.ID) {
		t.Fatalf("login --sso: %v\n%s", err, out)
	}
	var o strings.Builder
	if err := run(ctx, []string{"device", "--home", home, "open", env.ModelDrivenApp}, noEnv, &o, io.Discard); err != nil {
		t.Fatalf("open after login --sso: %v %s", err, o.String())
	}
	if err := run(ctx, []string{"device", "--home", home, "sync"}, noEnv, &o, io.Discard); err != nil {
		t.Fatalf("sync after login --sso: %v %s", err, o.String())
	}
	devs, err := p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: nora.ID})
	if err != nil || len(devs) != 1 || len(devs[0].Stores) != 1 {
		t.Fatalf("registered devices: %+v %v", devs, err)
	}
}
