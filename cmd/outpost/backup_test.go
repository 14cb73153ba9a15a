package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/store/sqlite"
)

var reportTable = platform.TableInput{Name: "report", Ownership: schema.OwnedByOrganization, PrimaryName: "name",
	Columns: []schema.Column{{Name: "name", Type: schema.Text, Required: true, MaxLength: 100}, {Name: "attachment", Type: schema.File}}}

// openPlatformWith opens the platform of data directory dir, with the
// server's default file store (dir/files) when files is set.
func openPlatformWith(t *testing.T, dir string, files bool) *platform.Platform {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var opts platform.Options
	if files {
		if opts.Files, err = filestore.NewDir(filepath.Join(dir, "files")); err != nil {
			t.Fatal(err)
		}
	}
	p, err := platform.Open(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeReport creates report n with an attached file whose content names n.
func writeReport(ctx context.Context, p *platform.Platform, n int) error {
	sys := platform.System()
	return p.Write(ctx, func(w *platform.Writer) error {
		r, err := w.Create(ctx, sys, "report", map[string]any{"name": fmt.Sprintf("report %05d", n)})
		if err != nil {
			return err
		}
		_, err = w.PutFile(ctx, sys, "report", r["reportid"].(string), "attachment", platform.FileInput{Name: "r.txt", MimeType: "text/plain", Content: reportContent(n)})
		return err
	})
}

func reportContent(n int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "content of report %05d\n", n), 200)
}

func TestBackupDuringWritesAndRestore(t *testing.T) { testBackupDuringWrites(t, false) }

// TestBackupWithFileStore: with the files in the data directory's file
// store, the backup copies them beside the database copy, and a restore
// puts back every file the restored database references.
func TestBackupWithFileStore(t *testing.T) { testBackupDuringWrites(t, true) }

func testBackupDuringWrites(t *testing.T, files bool) {
	ctx := context.Background()
	dir := t.TempDir()
	p := openPlatformWith(t, dir, files)
	if _, err := p.CreateTable(ctx, platform.System(), reportTable); err != nil {
		t.Fatal(err)
	}
	for n := range 50 {
		if err := writeReport(ctx, p, n); err != nil {
			t.Fatal(err)
		}
	}
	// A writer keeps committing while the backup runs; every report it
	// finished before the backup started must be in the copy.
	var mu sync.Mutex
	committed := 50
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 50; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := writeReport(ctx, p, n); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			committed = n + 1
			mu.Unlock()
		}
	}()
	out := filepath.Join(t.TempDir(), "outpost.backup")
	mu.Lock()
	before := committed
	mu.Unlock()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "--data", dir, "--out", out}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr.String())
	}
	close(stop)
	wg.Wait()
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode %v, want 0600", fi.Mode().Perm())
	}
	mu.Lock()
	after := committed
	mu.Unlock()
	if err := run(ctx, []string{"backup", "--data", dir, "--out", out}, noEnv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v, want refused", err)
	}

	// Restore refuses a directory a server holds, and an existing database
	// without --force.
	release, err := sqlite.Hold(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"restore", "--from", out, "--data", dir, "--force"}, noEnv, io.Discard, io.Discard)
	if !errors.Is(err, sqlite.ErrHeld) {
		t.Fatalf("restore into a held directory: %v, want %v", err, sqlite.ErrHeld)
	}
	release()
	err = run(ctx, []string{"restore", "--from", out, "--data", dir}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over an existing database: %v, want refused without --force", err)
	}
	if err := run(ctx, []string{"restore", "--from", filepath.Join(dir, "outpost.lock"), "--data", t.TempDir()}, noEnv, io.Discard, io.Discard); err == nil {
		t.Fatal("restore of a file that is not a database succeeded")
	}

	into := t.TempDir()
	if files {
		// The backup's files directory holds exactly the referenced files.
		keys, err := sqlite.ObjectKeys(ctx, out, "dir")
		if err != nil {
			t.Fatal(err)
		}
		backed, err := filestore.NewDir(filesDirOf(out))
		if err != nil {
			t.Fatal(err)
		}
		have, err := backed.Keys()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) < before || len(have) != len(keys) {
			t.Fatalf("the backup references %d files and its files directory holds %d; %d reports were committed before it", len(keys), len(have), before)
		}
		// Without its files directory, a restore says what is missing.
		moved := out + ".elsewhere"
		if err := os.Rename(filesDirOf(out), moved); err != nil {
			t.Fatal(err)
		}
		err = run(ctx, []string{"restore", "--from", out, "--data", t.TempDir()}, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("restore without the backup's files: %v, want the files directory named as missing", err)
		}
		if err := os.Rename(moved, filesDirOf(out)); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	if err := run(ctx, []string{"restore", "--from", out, "--data", into}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("restore: %v\n%s", err, stderr.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))
	q := openPlatformWith(t, into, files)
	rows, err := q.List(ctx, platform.System(), "report", platform.Query{Select: []string{"reportid", "name"}, OrderBy: []platform.Order{{Column: "name"}}, PageSize: platform.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	got := len(rows.Rows)
	if got < before || got > after {
		t.Fatalf("backup holds %d reports; %d were committed before it started and %d when it ended", got, before, after)
	}
	for n, r := range rows.Rows {
		if want := fmt.Sprintf("report %05d", n); r["name"] != want {
			t.Fatalf("report %d is %v, want %s: the copy is not one consistent moment", n, r["name"], want)
		}
		f, err := q.GetFile(ctx, platform.System(), "report", r["reportid"].(string), "attachment", true)
		if err != nil {
			t.Fatalf("file of report %d: %v", n, err)
		}
		if !bytes.Equal(f.Content, reportContent(n)) {
			t.Fatalf("file of report %d differs after restore", n)
		}
	}
	t.Logf("backup during writes: %d reports committed before, %d in the copy, %d after", before, got, after)
}
