package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/outposthq/outpost/demo"
)

func TestAdminOfflineCommands(t *testing.T) {
	_, _, admin3 := seededAdmin(t, 2)
	admin, ok := adminRunners(t, admin3)
	if got := ok("profile", "list"); !strings.Contains(got, "Field Technician") {
		t.Fatalf("profile list:\n%s", got)
	}
	got := ok("profile", "preview", "Field Technician", "--user", "nora@contoso.example", "--published")
	for _, want := range []string{"workorder  20", "account    4", "contact    8", "product    50", "total      82",
		"chain: contact -[contact_parentcustomerid N:1]-> account -[workorder_customerid 1:N]-> workorder", "sql:   SELECT t0.\"accountid\""} {
		if !strings.Contains(got, want) {
			t.Errorf("preview lacks %q:\n%s", want, got)
		}
	}
	id := ok("profile", "create", "--name", "Scratch", "--description", "try")
	if _, err := admin("profile", "publish", id); err == nil || !strings.Contains(err.Error(), "the profile has no tables: add at least one") {
		t.Errorf("publish of an empty profile: %v", err)
	}
	ok("profile", "clone", "Field Technician", "--name", "Field Technician 2")
	if got := ok("profile", "apps", "Field Technician"); !strings.Contains(got, "Field Inspections") {
		t.Errorf("profile apps:\n%s", got)
	}
	ok("solution", "create", "--name", "extra")
	archive := filepath.Join(t.TempDir(), "fs.zip")
	if got := ok("solution", "export", demo.SolutionName, "--out", archive); !strings.Contains(got, "exported solution fieldservice") {
		t.Errorf("export: %s", got)
	}
	if got := ok("solution", "import", "--file", archive, "--publish"); !strings.Contains(got, `"published": [`) {
		t.Errorf("import: %s", got)
	}
	if _, err := admin("profile", "show", "No Such"); err == nil || !strings.Contains(err.Error(), `no offline profile is named "No Such"`) {
		t.Errorf("show of a missing profile: %v", err)
	}
}
