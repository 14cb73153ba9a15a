package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/store/sqlite"
)

// A backup of an embedded server whose files are in a directory store is
// two things side by side: the database copy FILE and the directory
// FILE.files holding a copy of every object the copy references (laid out
// as a directory store). Objects are immutable and only deleted once the
// delete has committed, so copying every object before the database copy
// is taken, then the ones it references that were added meanwhile, gives
// every file of the copy (unless one was added and deleted again during
// the backup: that is reported).

// filesDirOf is the directory of a backup's files.
func filesDirOf(backup string) string { return backup + ".files" }

// backupFiles copies the objects of the directory store at root into the
// backup's files directory; db runs the database copy in between. It
// returns how many objects the backup holds.
func backupFiles(ctx context.Context, root, out string, db func() error) (int, error) {
	dst := filesDirOf(out)
	if _, err := os.Stat(dst); err == nil {
		return 0, fmt.Errorf("backup files directory %s already exists: name a new backup file", dst)
	}
	tmp := dst + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return 0, err
	}
	src, err := filestore.NewDir(root)
	if err != nil {
		return 0, err
	}
	before, err := src.Keys()
	if err != nil {
		return 0, err
	}
	for _, k := range before {
		if err := filestore.CopyObject(root, tmp, k); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(tmp)
			return 0, fmt.Errorf("back up file %s: %w", k, err)
		}
	}
	if err := db(); err != nil {
		os.RemoveAll(tmp)
		return 0, err
	}
	keys, err := sqlite.ObjectKeys(ctx, out, "dir")
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	var missing []string
	for _, k := range keys {
		want[k] = true
		if err := filestore.CopyObject(root, tmp, k); err != nil {
			missing = append(missing, k)
		}
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return 0, err
	}
	// Objects deleted before the database copy was taken are not part of it.
	for _, k := range before {
		if !want[k] {
			os.Remove(filepath.Join(tmp, filestore.Path(k)))
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, fmt.Errorf("back up files: %w", err)
	}
	if len(missing) > 0 {
		return len(keys) - len(missing), fmt.Errorf("backup: %d of the %d files the database copy references are missing from %s (first: %s): they were deleted during the backup or are lost; the backup lacks them, take another", len(missing), len(keys), root, missing[0])
	}
	return len(keys), nil
}

// restoreFiles copies a backup's files into the directory store at root
// and checks that every file the restored database references is there.
func restoreFiles(ctx context.Context, from, root, restored string) (int, error) {
	keys, err := sqlite.ObjectKeys(ctx, restored, "dir")
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	src := filesDirOf(from)
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("restore: the backup references %d files kept in a directory store, but %s is missing: put the backup's files directory next to it", len(keys), src)
	}
	var missing []string
	for _, k := range keys {
		if err := filestore.CopyObject(src, root, k); err != nil {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return len(keys) - len(missing), fmt.Errorf("restore: %d of the %d files the backup references could not be copied from %s into %s (first: %s)", len(missing), len(keys), src, root, missing[0])
	}
	return len(keys), nil
}
