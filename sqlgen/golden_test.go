package sqlgen_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/sqlgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenEnv is the fixed environment of the golden files: Friday
// 2024-03-15 15:30 at UTC-5.
func goldenEnv() *filter.Env {
	return &filter.Env{
		UserID:           "00000000-0000-0000-0000-0000000000a1",
		TeamIDs:          []string{"00000000-0000-0000-0000-0000000000b1", "00000000-0000-0000-0000-0000000000b2"},
		HierarchyUserIDs: []string{"00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2"},
		BusinessUnitID:   "00000000-0000-0000-0000-0000000000c1",
		Now:              func() time.Time { return time.Date(2024, 3, 15, 20, 30, 0, 0, time.UTC) },
		Location:         time.FixedZone("UTC-5", -5*3600),
	}
}

// TestGolden compiles each testdata/<case>.filter (OData text; an optional
// first line "# table: name", default workorder) for both dialects and
// compares the SQL and arguments with <case>.sqlite.sql and
// <case>.postgres.sql, or the error with <case>.err. Every SQL also runs on
// a real SQLite (and PostgreSQL when OUTPOST_TEST_POSTGRES is set).
func TestGolden(t *testing.T) {
	s := testSchema(t)
	dbs := openDBs(t, s)
	files, err := filepath.Glob(filepath.Join("testdata", "*.filter"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".filter")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			table, text := "workorder", string(src)
			if rest, ok := strings.CutPrefix(text, "# table:"); ok {
				line, body, _ := strings.Cut(rest, "\n")
				table, text = strings.TrimSpace(line), body
			}
			text = strings.TrimSpace(text)
			base := strings.TrimSuffix(file, ".filter")
			e, err := filter.ParseOData(text)
			if err == nil {
				e, err = filter.Check(s, table, e, filter.CheckOptions{Source: name})
			}
			if err != nil {
				var list filter.ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("error is %T, want filter.ErrorList", err)
				}
				golden(t, base+".err", err.Error()+"\n", base+".sqlite.sql", base+".postgres.sql")
				return
			}
			for _, d := range []sqlgen.Dialect{sqlgen.SQLite, sqlgen.Postgres} {
				query, args := selectQuery(t, d, s, table, e, goldenEnv(), false)
				golden(t, base+"."+d.Name()+".sql", query+"\n"+formatArgs(args), base+".err")
				for _, db := range dbs {
					if db.d == d {
						db.count(t, query, args)
					}
				}
			}
		})
	}
}

// golden compares got with the file path, or rewrites it (and removes the
// stale files) under -update.
func golden(t *testing.T, path, got string, stale ...string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range stale {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sqlgen -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
