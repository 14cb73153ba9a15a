package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outposthq/outpost/platform"
)

// outpost admin import loads CSV and NDJSON through the bulk write path:
// rows are written as the --as user with their privileges, refused rows are
// reported with their line and column while the others load, a dry run
// writes nothing, and --upsert updates rows that exist.
func TestAdminImport(t *testing.T) {
	ctx := context.Background()
	env, dir, admin := seededAdmin(t, 1)
	nora := env.Technicians[0]
	// count returns the accounts named with prefix, and how many Nora owns.
	count := func(prefix string) (n, owned int) {
		t.Helper()
		onPlatform(t, dir, func(p *platform.Platform) {
			page, err := p.List(ctx, platform.System(), "account", platform.Query{Filter: "startswith(name,'" + prefix + "')", PageSize: platform.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rows {
				if r["ownerid"] == nora.ID {
					owned++
				}
			}
			n = len(page.Rows)
		})
		return n, owned
	}
	write := func(name, text string) string {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	csvFile := write("accounts.csv", "name,telephone1,revenue\nImp 1,555,10\nImp 2,,20.5\nImp 3,556,lots\nImp 4,557,\n")

	out, _, err := admin("import", "--table", "account", "--as", nora.DomainName, "--dry-run", csvFile)
	if err != nil || !strings.Contains(out, "checked (dry run, nothing written) 3 rows") || !strings.Contains(out, "1 refused") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if n, _ := count("Imp "); n != 0 {
		t.Fatalf("a dry run wrote %d rows", n)
	}

	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	out, _, err = admin("import", "--table", "account", "--as", nora.DomainName, "--batch", "2", "--rejects", rejects, csvFile)
	if err != nil || !strings.Contains(out, "imported 3 rows into account") || !strings.Contains(out, "1 refused (listed in "+rejects+")") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if n, owned := count("Imp "); n != 3 || owned != 3 {
		t.Fatalf("after import: %d rows, %d owned by the --as user; want 3 and 3", n, owned)
	}
	rep, _ := os.ReadFile(rejects)
	if lines := strings.Split(strings.TrimSpace(string(rep)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "4,revenue,invalid,") {
		t.Fatalf("rejects file:\n%s", rep)
	}

	// NDJSON, upsert: an existing row by key is updated, a new one created;
	// refused rows go to standard error without --rejects.
	nd := write("rows.ndjson", `{"name":"Nd 1"}`+"\n\n"+`{"name":"Nd 2","parentaccountid":"5b0e8e9a-0c1f-4a52-9d5e-2f3c4b5a6d7e"}`+"\n")
	out, stderr, err := admin("import", "--table", "account", "--as", nora.DomainName, "--upsert", nd)
	if err != nil || !strings.Contains(out, "imported 1 rows") || !strings.Contains(stderr, "refused line 3, column parentaccountid:") {
		t.Fatalf("ndjson upsert: %v\n%s\n%s", err, out, stderr)
	}

	// Clear errors before anything is written.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", csvFile}, "--table is required"},
		{[]string{"import", "--table", "nosuch", csvFile}, `"nosuch"`},
		{[]string{"import", "--table", "account", write("bad.csv", "name,nosuch\nx,y\n")}, `"nosuch", is not a column of table "account"`},
		{[]string{"import", "--table", "account", write("rows.txt", "x")}, "say --format csv or --format ndjson"},
		{[]string{"import", "--table", "account", "--batch", "0", csvFile}, "--batch 0"},
		{[]string{"import", "--table", "account", write("broken.ndjson", "{\"name\":\n")}, "line 1 is not a JSON object"},
	} {
		if _, _, err := admin(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("admin %v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}
