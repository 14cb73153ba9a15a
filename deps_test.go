package outpost_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the layering of docs/design.md: domain packages in
// the middle, adapters around them, and the device library free of server
// code. It reads the import graph with go list.
func TestDependencies(t *testing.T) {
	const mod = "github.com/outposthq/outpost"
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"", []string{"schema", "filter", "sqlgen", "security", "store", "platform", "net/http"}},
		{"schema", []string{"filter", "sqlgen", "store", "platform", "net/http", "database/sql"}},
		{"filter", []string{"sqlgen", "store", "platform", "net/http", "database/sql"}},
		{"security", []string{"sqlgen", "store", "platform", "net/http", "database/sql"}},
		{"sqlgen", []string{"store", "platform", "net/http"}},
		{"wire", []string{"store", "platform", "syncsrv", "net/http", "database/sql"}},
		// A canvas bundle's check is shared by the server and the device agent.
		{"bundle", []string{"store", "platform", "profile", "security", "net/http", "database/sql"}},
		{"client", []string{"platform", "profile", "syncsrv", "httpapi", "store", "security"}},
		// The device agent, like the library it serves, holds no server code.
		{"agent", []string{"platform", "profile", "syncsrv", "httpapi", "store", "security"}},
		// platform imports net/http only for http.DetectContentType (image sniffing).
		{"platform", []string{"httpapi", "syncsrv", "profile", "store/sqlite", "store/postgres"}},
		{"profile", []string{"httpapi", "syncsrv", "store/sqlite", "store/postgres"}},
		{"syncsrv", []string{"httpapi", "store/sqlite", "store/postgres"}},
		{"httpapi", []string{"store/sqlite", "store/postgres"}},
	}
	for _, r := range rules {
		path := mod
		if r.pkg != "" {
			path += "/" + r.pkg
		}
		out, err := exec.Command("go", "list", "-deps", path).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", path, err)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, f := range r.forbidden {
			full := f
			if !strings.Contains(f, ".") && f != "net/http" && f != "database/sql" {
				full = mod + "/" + f
			}
			if deps[full] {
				t.Errorf("%s depends on %s", path, full)
			}
		}
	}
}
