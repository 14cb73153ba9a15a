package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

func TestDeviceLoginWithPassword(t *testing.T) {
	f := newDeviceFixture(t, 2)
	ctx := context.Background()
	nora := f.env.Technicians[0]
	if err := f.p.SetPassword(ctx, platform.System(), nora.ID, "nora's own password", ""); err != nil {
		t.Fatal(err)
	}
	stdinReader = strings.NewReader(nora.DomainName + "\nnora's own password\n")
	t.Cleanup(func() { stdinReader = os.Stdin })
	if out := f.dev("login", "--server", f.srv.URL); !strings.Contains(out, "Signed in to "+f.srv.URL+" as "+nora.DomainName) {
		t.Fatalf("login printed %q", out)
	}
	fi, err := os.Stat(filepath.Join(f.home, "credential.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential file: %v %v", fi, err)
	}
	f.dev("open", f.env.ModelDrivenApp)
	if out := f.dev("sync"); !strings.Contains(strings.ToLower(out), "sync") {
		t.Fatalf("sync printed %q", out)
	}
	devs, err := f.p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: nora.ID})
	if err != nil || len(devs) != 1 || len(devs[0].Stores) != 1 {
		t.Fatalf("registered devices: %+v %v", devs, err)
	}
	// A wrong password is refused.
	stdinReader = strings.NewReader("wrong password!\n")
	var out, errb bytes.Buffer
	err = run(ctx, []string{"device", "--home", t.TempDir(), "login", "--server", f.srv.URL, "--user", nora.DomainName}, noEnv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "not right") {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestAdminTokenAndDeviceCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	admin := adminIn(t, dir)
	admin("user", "create", "--name", "Kim Lee", "--domain", "kim@example.com", "--role", "Basic User")
	admin("token", "create", "--user", "kim@example.com", "--name", "etl")
	list := admin("token", "list", "--user", "kim@example.com")
	m := regexp.MustCompile(`(?m)^([0-9a-f]{16})\s+\S+\s+etl\s`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("token list:\n%s", list)
	}
	if got := admin("token", "revoke", m[1]); !strings.Contains(got, "revoked token "+m[1]) {
		t.Fatalf("token revoke printed %q", got)
	}
	if list := admin("token", "list"); strings.Contains(list, m[1]) {
		t.Fatalf("revoked token still listed:\n%s", list)
	}
	var errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "--data", dir, "token", "revoke", m[1]}, noEnv, &bytes.Buffer{}, &errOut); err == nil {
		t.Fatal("revoking a revoked token succeeded")
	}
	stdinReader = strings.NewReader("kim's new password\n")
	t.Cleanup(func() { stdinReader = os.Stdin })
	if got := admin("user", "set-password", "--user", "kim@example.com"); !strings.Contains(got, "password set") {
		t.Fatalf("set-password printed %q", got)
	}
	if list := admin("device", "list"); !strings.HasPrefix(list, "DEVICE") {
		t.Fatalf("device list:\n%s", list)
	}
}

func TestServeOIDCFlags(t *testing.T) {
	ctx := context.Background()
	p, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OUTPOST_OIDC_ISSUER": "https://id.example.com", "OUTPOST_OIDC_CLIENT_ID": "outpost", "OUTPOST_OIDC_CLIENT_SECRET": "s3cret",
		"OUTPOST_OIDC_CREATE_USERS": "root", "OUTPOST_OIDC_ROLES": "Basic User"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f oidcFlags
	f.register(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"--oidc-claim", "preferred_username"}); err != nil {
		t.Fatal(err)
	}
	o, err := f.options(ctx, p)
	if err != nil || o == nil || o.Issuer != "https://id.example.com" || o.ClientID != "outpost" || o.ClientSecret != "s3cret" || o.Claim != "preferred_username" ||
		!o.Provisioning.Create || len(o.Provisioning.RoleIDs) != 1 {
		t.Fatalf("options = %+v, %v", o, err)
	}
	var g oidcFlags
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	g.register(fs, func(string) string { return "" })
	if err := fs.Parse([]string{"--oidc-client-id", "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.options(ctx, p); err == nil || !strings.Contains(err.Error(), "--oidc-issuer") {
		t.Fatalf("a client id without an issuer: %v", err)
	}
}
