package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"modernc.org/sqlite"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// lockName is the file in the data directory a serving process holds an
// exclusive advisory lock on, so that restore can refuse to replace a
// database under a running server.
const lockName = "outpost.lock"

// ErrHeld is returned when another process holds the data directory.
var ErrHeld = errors.New("data directory is held by a running server")

// Hold takes the data directory's lock for as long as a server serves from
// it; release gives it back. A second Hold on the same directory fails with
// ErrHeld.
func Hold(dir string) (release func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w; stop it first", dir, ErrHeld)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	return f.Close, nil
}

// Backup writes a consistent copy of the database in dir to out while
// servers keep reading and writing it. VACUUM INTO copies the database as
// of one read transaction, so the copy holds every commit made before it
// started and none made after; file content lives in the database and is
// copied with the rows. out must not exist; the copy is written next to it
// and renamed into place only when complete.
func Backup(ctx context.Context, dir, out string) error {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database to back up in %s: %w", dir, err)
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup file %s already exists: name a new file", out)
	}
	db := sql.OpenDB(&connector{dsn: "file:" + path + "?_pragma=busy_timeout(10000)", drv: &sqlite.Driver{}})
	defer db.Close()
	tmp := out + ".partial"
	os.Remove(tmp)
	// Every commit before taken is in the copy.
	taken := time.Now()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("back up %s: %w", path, err)
	}
	// The copy holds token hashes and every row: readable by its owner only.
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("back up: %w", err)
	}
	if err := setTaken(ctx, tmp, taken); err != nil {
		os.Remove(tmp)
		return err
	}
	if _, err := Check(ctx, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("back up %s: %w", path, err)
	}
	return nil
}

// settingTaken is the outpost_setting a backup copy holds: when it was
// taken, in unix milliseconds.
const settingTaken = "backup-taken"

func setTaken(ctx context.Context, file string, taken time.Time) error {
	db := sql.OpenDB(&connector{dsn: "file:" + file, drv: &sqlite.Driver{}})
	defer db.Close()
	_, err := db.ExecContext(ctx, `INSERT INTO outpost_setting (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
		settingTaken, strconv.FormatInt(taken.UnixMilli(), 10))
	if err != nil {
		return fmt.Errorf("back up: note the time in the copy: %w", err)
	}
	return nil
}

// Check reports whether file is an intact Outpost backup and returns
// when it was taken.
func Check(ctx context.Context, file string) (taken time.Time, err error) {
	if _, err := os.Stat(file); err != nil {
		return time.Time{}, fmt.Errorf("backup file: %w", err)
	}
	db := sql.OpenDB(&connector{dsn: "file:" + file + "?mode=ro", drv: &sqlite.Driver{}})
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return time.Time{}, fmt.Errorf("%s is not a SQLite database: %w", file, err)
	}
	if res != "ok" {
		return time.Time{}, fmt.Errorf("%s is damaged: %s", file, res)
	}
	var ms int64
	if err := db.QueryRowContext(ctx, `SELECT value FROM outpost_setting WHERE name = ?`, settingTaken).Scan(&ms); err != nil {
		return time.Time{}, fmt.Errorf("%s is not a backup written by outpost backup (no time of the copy in it)", file)
	}
	return time.UnixMilli(ms), nil
}

// Restore replaces the database in dir with the backup from. It refuses a
// directory a running server holds, and an existing database unless force
// is set. The copy is written next to the database and renamed into place;
// the old database's write-ahead log goes with it. The restore is recorded
// in the database (store.RecordRestore).
func Restore(ctx context.Context, from, dir string, force bool) error {
	taken, err := Check(ctx, from)
	if err != nil {
		return err
	}
	release, err := Hold(dir)
	if err != nil {
		return err
	}
	defer release()
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s already holds a database: pass --force to replace it", dir)
	}
	tmp := path + ".restore"
	if err := copyFile(from, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore %s: %w", from, err)
	}
	if err := recordRestore(ctx, tmp, taken); err != nil {
		os.Remove(tmp)
		return err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return fmt.Errorf("restore: remove %s: %w", path+suffix, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore %s: %w", from, err)
	}
	return nil
}

// recordRestore notes the restore in the copy, so that the sync engine
// sends devices whose tokens came from the lost history (issued after the
// backup was taken) through a reconcile.
func recordRestore(ctx context.Context, file string, taken time.Time) error {
	db := sql.OpenDB(&connector{dsn: "file:" + file, drv: &sqlite.Driver{}})
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM outpost_setting WHERE name = ?`, settingTaken); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return store.RecordRestore(ctx, db, sqlgen.SQLite, taken, time.Now())
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ObjectKeys returns the file store keys that the database file (a backup
// or a data directory's database) records for content kept in a file store
// of kind (filestore.Store.Kind).
func ObjectKeys(ctx context.Context, file, kind string) ([]string, error) {
	db := sql.OpenDB(&connector{dsn: "file:" + file + "?mode=ro", drv: &sqlite.Driver{}})
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT contentkey FROM outpost_file WHERE contentstore = ? ORDER BY contentkey`, kind)
	if err != nil {
		return nil, fmt.Errorf("list the files of %s: %w", file, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("list the files of %s: %w", file, err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
