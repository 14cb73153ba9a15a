package outpost_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layering is the import graph of docs/design.md, package by package: the
// imports each package may never reach (directly or through others), each
// with the reason. Every package of the module must be listed, so that a
// new one is placed in the layering when it is added, not after it has
// grown the wrong imports. Names without a dot are the module's packages.
var layering = map[string][]never{
	"": {
		{[]string{"schema", "filter", "sqlgen", "security", "store", "platform"}, "the domain vocabulary (ids, versions, errors) is what every layer shares; it knows none of them"},
		{[]string{"net/http"}, "errors carry codes; HTTP statuses are the adapter's business"},
	},
	"schema": {
		{[]string{"filter"}, "tables and columns come before the filters written over them"},
		{[]string{"sqlgen", "store", "platform"}, "a schema is validated without knowing any SQL dialect"},
		{[]string{"net/http"}, "no transport in the domain"},
		{[]string{"database/sql"}, "no storage in the domain"},
	},
	"filter": {
		{[]string{"sqlgen", "store", "platform"}, "filters are parsed, checked and evaluated in memory; SQL is written from them elsewhere"},
		{[]string{"net/http"}, "no transport in the domain"},
		{[]string{"database/sql"}, "no storage in the domain"},
	},
	"security": {
		{[]string{"sqlgen", "store", "platform"}, "security answers with filter trees, so that one compiler writes the SQL of lists, sync and checks"},
		{[]string{"net/http"}, "no transport in the domain"},
		{[]string{"database/sql"}, "no storage in the domain"},
	},
	"sqlgen": {
		{[]string{"store", "platform"}, "SQL text is written without a connection, so that preview shows what sync runs"},
		{[]string{"net/http"}, "no transport in SQL generation"},
	},
	"sqlgen/sqlitefold": {
		{[]string{"store", "platform"}, "a pure function registered by the SQLite driver"},
	},
	"store": {
		{[]string{"platform"}, "the database handle and migrations hold no product rules"},
		{[]string{"store/sqlite", "store/postgres"}, "drivers register themselves with store; store does not pick one"},
		{[]string{"net/http"}, "no transport in storage"},
	},
	"store/sqlite": {
		{[]string{"platform"}, "a driver adapter holds no product rules"},
		{[]string{"store/postgres"}, "one engine per adapter"},
	},
	"store/postgres": {
		{[]string{"platform"}, "a driver adapter holds no product rules"},
		{[]string{"store/sqlite"}, "one engine per adapter"},
	},
	"wire": {
		{[]string{"store", "platform", "syncsrv"}, "the protocol's types are shared by the server and the device, which holds no server code"},
		{[]string{"net/http"}, "types only; each side brings its transport"},
		{[]string{"database/sql"}, "types only"},
	},
	"bundle": {
		{[]string{"store", "platform", "profile", "apps", "security"}, "a canvas bundle's check is shared by the server and the device agent, which holds no server code"},
		{[]string{"net/http", "database/sql"}, "a check on bytes, neither a handler nor storage"},
	},
	"client": {
		{[]string{"platform", "profile", "apps", "syncsrv", "httpapi", "store"}, "the device library holds no server code: a device trusts only the protocol (wire) and has its own store"},
		{[]string{"security"}, "privileges are decided on the server, never on the device"},
	},
	"agent": {
		{[]string{"platform", "profile", "apps", "syncsrv", "httpapi", "store"}, "the device agent, like the library it serves, holds no server code"},
		{[]string{"security"}, "privileges are decided on the server, never on the device"},
	},
	"mobile": {
		{[]string{"platform", "syncsrv", "httpapi", "store"}, "the phone facade runs the device agent only"},
	},
	"platform": {
		// platform imports net/http only for http.DetectContentType (image sniffing).
		{[]string{"httpapi"}, "the core knows no adapter above it"},
		{[]string{"syncsrv", "profile", "apps"}, "sync, profiles and apps build on the core, not the reverse"},
		{[]string{"store/sqlite", "store/postgres"}, "the core runs on either engine through store"},
	},
	"profile": {
		{[]string{"httpapi"}, "profiles are a domain service; routes call them"},
		{[]string{"syncsrv"}, "the sync engine reads plans, not the reverse"},
		{[]string{"apps"}, "apps use profiles and solutions ship them; a profile knows an app only as the row that binds it"},
		{[]string{"store/sqlite", "store/postgres"}, "either engine through store"},
	},
	"apps": {
		{[]string{"httpapi"}, "apps and solutions are a domain service; routes call them"},
		{[]string{"syncsrv"}, "the sync engine asks apps for an app's plan, not the reverse"},
		{[]string{"agent", "client"}, "the maker's side of apps is server code; the device runs what it downloads"},
		{[]string{"store/sqlite", "store/postgres"}, "either engine through store"},
	},
	"syncsrv": {
		{[]string{"httpapi"}, "the sync engine is transport-free; httpapi streams what it returns"},
		{[]string{"store/sqlite", "store/postgres"}, "either engine through store"},
	},
	"httpapi": {
		{[]string{"store/sqlite", "store/postgres"}, "the server runs on the engine the binary opens"},
	},
	"demo": {
		{[]string{"httpapi", "syncsrv"}, "the demo seeds data through the core's API, not over HTTP"},
		{[]string{"store/sqlite", "store/postgres"}, "the binary chooses the engine"},
	},
	"filestore": {
		{[]string{"platform", "store", "schema", "security"}, "a file store keeps bytes under keys; the database keeps what they belong to, and who may read them"},
		{[]string{"httpapi"}, "stores are called by the platform, not by handlers"},
	},
	"internal/fakes3": {
		{[]string{"platform", "store", "httpapi"}, "an S3 server for tests knows Outpost's file store at most"},
	},
	"internal/testenv": {
		{[]string{"platform", "httpapi"}, "test engines only; the packages under test build on them"},
	},
	"internal/oidctest": {
		{[]string{"platform", "store", "httpapi", "agent", "client"}, "a test OpenID provider speaks the protocol only; the packages under test sign in against it, and only their tests import it"},
	},
	// The binary, the benchmark and the test drivers wire everything together.
	"cmd/outpost": nil, "bench": nil, "loadtest": nil, "ui": nil, "ui/e2e": nil,
}

// never is a set of imports a package may not reach, and why.
type never struct {
	imports []string
	why     string
}

// TestDependencies reads the import graph with go list and holds every
// package of the module to its place in layering.
func TestDependencies(t *testing.T) {
	const mod = "github.com/outposthq/outpost"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], mod), "/")
		forbidden, ok := layering[pkg]
		if !ok {
			t.Errorf("package %q is not in the layering of deps_test.go: add it with the imports it must never reach, and why", fields[0])
			continue
		}
		deps := map[string]bool{}
		for _, d := range fields[1:] {
			deps[d] = true
		}
		for _, n := range forbidden {
			for _, f := range n.imports {
				full := f
				if !strings.Contains(f, ".") && f != "net/http" && f != "database/sql" {
					full = mod + "/" + f
				}
				if deps[full] {
					t.Errorf("%s depends on %s: %s", fields[0], full, n.why)
				}
			}
		}
	}
}
