package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
	"github.com/outposthq/outpost/store/sqlite"
)

// runBackup copies an embedded server's database while it serves.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := commandFlags("backup", stderr, "Usage: outpost backup --data DIR --out FILE [--files dir:PATH]\n\nWrites a consistent copy of the embedded (SQLite) database in DIR to FILE,\nwhile a server keeps serving from DIR. FILE must not exist. Files kept in a\ndirectory store (the default, DIR/files) are copied into FILE.files.\nFor PostgreSQL use pg_dump or point-in-time recovery, and for an S3 bucket\nthe bucket's versioning or replication (docs/production.md).\n\nFlags:\n", "")
	data := fs.String("data", envOr(getenv, "OUTPOST_DATA", "outpost-data"), "data directory of the embedded SQLite store ($OUTPOST_DATA)")
	out := fs.String("out", "", "backup file to write (must not exist)")
	files := fs.String("files", getenv("OUTPOST_FILES"), "the server's file store, when not the default dir:DATA/files ($OUTPOST_FILES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("backup: name the file to write with --out FILE")
	}
	spec, err := (&dbFlags{data: *data, files: *files}).fileSpec()
	if err != nil {
		return fmt.Errorf("backup: --files: %w", err)
	}
	if spec.Kind != "dir" {
		if err := sqlite.Backup(ctx, *data, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backed up %s to %s (files in %s are not copied: back them up with the store's own means)\n", *data, *out, spec.Kind)
		return nil
	}
	n, err := backupFiles(ctx, spec.Path, *out, func() error { return sqlite.Backup(ctx, *data, *out) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s and its %d stored files to %s\n", *data, *out, n, filesDirOf(*out))
	return nil
}

// runRestore puts a backup in place of an embedded server's database.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := commandFlags("restore", stderr, "Usage: outpost restore --from FILE --data DIR [--force]\n\nReplaces the embedded database in DIR with the backup FILE, and copies the\nbackup's files (FILE.files) into the directory store. Stop the server\nfirst: a directory a running server holds is refused, and so is an existing\ndatabase without --force.\n\n       outpost restore --db postgres://... --taken TIME\n\nRecords that a PostgreSQL database was restored (pg_restore, point-in-time\nrecovery) from a backup taken at TIME, before servers start on it, so that\ndevices which synced after TIME reconcile.\n\nFlags:\n", "")
	from := fs.String("from", "", "backup file written by outpost backup")
	data := fs.String("data", envOr(getenv, "OUTPOST_DATA", "outpost-data"), "data directory to restore into ($OUTPOST_DATA)")
	force := fs.Bool("force", false, "replace a database already in the data directory")
	files := fs.String("files", getenv("OUTPOST_FILES"), "the server's file store, when not the default dir:DATA/files: a backup's files (FILE.files) are copied into it ($OUTPOST_FILES)")
	pg := fs.String("db", "", "PostgreSQL URL of a database just restored with pg_restore or point-in-time recovery: only record the restore (with --taken)")
	taken := fs.String("taken", "", "with --db: when the PostgreSQL backup was taken (RFC 3339, e.g. 2026-12-01T23:00:00Z)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pg != "" {
		return recordPostgresRestore(ctx, *pg, *taken, stdout)
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("restore: name the backup file with --from FILE")
	}
	spec, err := (&dbFlags{data: *data, files: *files}).fileSpec()
	if err != nil {
		return fmt.Errorf("restore: --files: %w", err)
	}
	if err := sqlite.Restore(ctx, *from, *data, *force); err != nil {
		return err
	}
	n := 0
	if spec.Kind == "dir" {
		if n, err = restoreFiles(ctx, *from, spec.Path, filepath.Join(*data, sqlite.FileName)); err != nil {
			return err
		}
	}
	if n == 0 {
		fmt.Fprintf(stdout, "restored %s into %s\n", *from, *data)
		return nil
	}
	fmt.Fprintf(stdout, "restored %s and %d stored files into %s\n", *from, n, *data)
	return nil
}

func recordPostgresRestore(ctx context.Context, url, taken string, stdout io.Writer) error {
	t, err := time.Parse(time.RFC3339, taken)
	if err != nil {
		return fmt.Errorf("restore --db: --taken %q is not an RFC 3339 time such as 2026-12-01T23:00:00Z", taken)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.RecordRestore(ctx, db.Write, db.Dialect, t, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recorded the restore from a backup taken at %s\n", t.Format(time.RFC3339))
	return nil
}
