package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/outposthq/outpost/store/sqlite"
)

// checkAdminData refuses to let `outpost admin` create an environment
// implicitly: when neither --data nor --db (nor $OUTPOST_DATA, $OUTPOST_DB)
// names one, the default data directory must already hold a database.
func checkAdminData(flags *flag.FlagSet, getenv func(string) string, dbf *dbFlags) error {
	explicit := getenv("OUTPOST_DATA") != "" || getenv("OUTPOST_DB") != ""
	flags.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "data" || f.Name == "db" })
	if explicit {
		return nil
	}
	path := filepath.Join(dbf.data, sqlite.FileName)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	hint := "point it at a server's data with --data DIR (or $OUTPOST_DATA), or at PostgreSQL with --db URL (or $OUTPOST_DB)"
	if _, err := os.Stat(filepath.Join("outpost-demo", sqlite.FileName)); err == nil {
		hint = "the demo's data is in ./outpost-demo: use --data outpost-demo; or " + hint
	} else {
		hint += "; the demo (outpost demo) keeps its data in ./outpost-demo"
	}
	return fmt.Errorf("no Outpost environment in %s (looked for %s): outpost admin does not create one; %s", dbf.data, path, hint)
}
