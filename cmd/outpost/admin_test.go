package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store/sqlite"
)

// Every admin command has its own flags, usage and examples; flags of
// another command are errors.
func TestAdminCommandsHaveTheirOwnFlags(t *testing.T) {
	ctx := context.Background()
	for _, c := range adminCommands {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"admin", "--data", t.TempDir()}, append(strings.Fields(c.name), "-h")...), noEnv, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("admin %s -h: %v", c.name, err)
		}
		usage := errOut.String()
		if !strings.HasPrefix(usage, "Usage: outpost admin "+c.name) {
			t.Errorf("admin %s -h prints:\n%s", c.name, usage)
		}
		if strings.Contains(usage, "  -publish\n") && !strings.Contains(c.name, "generate-profile") && !strings.Contains(c.name, "import") {
			t.Errorf("admin %s -h lists another command's flags:\n%s", c.name, usage)
		}
	}
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"admin", "--data", t.TempDir(), "user", "list", "--publish", "--bind", "--out", "x"}, noEnv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -publish") {
		t.Errorf("user list --publish: %v", err)
	}
}

// --role repeats; role unassign takes a role back; table show lists the
// table's relationships; a profile's Restricted users are set after
// creation; app update changes an app's tables.
func TestAdminMakerCommands(t *testing.T) {
	ctx := context.Background()
	env, dir, admin3 := seededAdmin(t, 1)
	admin, ok := adminRunners(t, admin3)
	ok("role", "create", "--name", "R1")
	ok("role", "create", "--name", "R2")
	uid := ok("user", "create", "--name", "Ann", "--domain", "ann@contoso.example", "--role", "R1", "--role", "R2")
	roles := func() (n int) {
		t.Helper()
		onPlatform(t, dir, func(p *platform.Platform) {
			pr, err := p.Principal(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			n = len(pr.RoleIDs)
		})
		return n
	}
	if got := roles(); got != 2 {
		t.Fatalf("user create --role R1 --role R2: %d roles, want 2", got)
	}
	ok("role", "unassign", "--role", "R1", "--user", "ann@contoso.example")
	if got := roles(); got != 1 {
		t.Fatalf("after role unassign: %d roles, want 1", got)
	}
	if got := ok("table", "show", "account"); !strings.Contains(got, `"relationships": [`) || !strings.Contains(got, `"name": "referenced_account_parentaccountid"`) {
		t.Errorf("table show lacks relationships:\n%s", got)
	}
	got := ok("profile", "assign", demo.ProfileName, "--mode", "restricted", "--user", "nora@contoso.example")
	if !strings.Contains(got, `"mode": "restricted"`) || !strings.Contains(got, env.Technicians[0].ID) {
		t.Errorf("profile assign:\n%s", got)
	}
	def := filepath.Join(t.TempDir(), "def.json")
	if err := os.WriteFile(def, []byte(`{"tables":["workorder","account"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ok("app", "update", env.ModelDrivenApp, "--file", def); !strings.Contains(got, `"account"`) {
		t.Errorf("app update:\n%s", got)
	}
	ok("profile", "remove-item", demo.ProfileName, "--table", "product")
	if got := ok("profile", "show", demo.ProfileName, "--published"); !strings.Contains(got, `"table": "product"`) {
		t.Errorf("profile show --published lacks the published product item:\n%s", got)
	}
	if got := ok("profile", "discard", demo.ProfileName); !strings.Contains(got, `"table": "product"`) || !strings.Contains(got, `"draft": false`) {
		t.Errorf("profile discard:\n%s", got)
	}
	if _, err := admin("profile", "show", demo.ProfileName, "extra"); err == nil || !strings.Contains(err.Error(), `unexpected arguments ["extra"]`) {
		t.Errorf("extra argument: %v", err)
	}
}

// seededAdmin seeds the demo, with accountsPerTechnician accounts for each
// technician, into a new SQLite data directory, and returns its
// environment, the directory, and a runner of outpost admin --data dir that
// returns the trimmed output, the error output and the error.
func seededAdmin(t *testing.T, accountsPerTechnician int) (*demo.Env, string, func(args ...string) (string, string, error)) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: accountsPerTechnician})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	return env, dir, func(args ...string) (string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"admin", "--data", dir}, args...), noEnv, &out, &errOut)
		return strings.TrimSpace(out.String()), errOut.String(), err
	}
}

// adminRunners makes of admin3 (seededAdmin's) the two forms most tests
// use: admin, without standard error, and ok, which fails the test on an
// error.
func adminRunners(t *testing.T, admin3 func(args ...string) (string, string, error)) (admin func(args ...string) (string, error), ok func(args ...string) string) {
	admin = func(args ...string) (string, error) {
		t.Helper()
		out, _, err := admin3(args...)
		return out, err
	}
	ok = func(args ...string) string {
		t.Helper()
		out, err := admin(args...)
		if err != nil {
			t.Fatalf("admin %v: %v", args, err)
		}
		return out
	}
	return admin, ok
}

// onPlatform opens the environment in dir, runs fn on it and closes it
// again, so that the commands the test runs next find it as they left it.
func onPlatform(t *testing.T, dir string, fn func(p *platform.Platform)) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fn(p)
}

// adminIn runs admin commands on the environment in dir (made by the
// first one) and returns their output; an error fails the test.
func adminIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"admin", "--data", dir}, args...), noEnv, &out, &errOut); err != nil {
			t.Fatalf("admin %v: %v\n%s", args, err, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
}
