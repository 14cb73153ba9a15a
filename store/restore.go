package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/outposthq/outpost/sqlgen"
)

// RestorePrefix begins the outpost_setting names that record a restore:
// "restore:<unix ms of the restore>" holds the unix ms of the moment the
// backup was taken. Sync tokens issued between the two came from history
// the database no longer has.
const RestorePrefix = "restore:"

// Restore is one recorded restore from a backup.
type Restore struct {
	Taken, Restored time.Time
}

// Lost reports whether a sync token issued at t came from history the
// restore lost: after the backup was taken and before the restore.
func (r Restore) Lost(t time.Time) bool { return t.After(r.Taken) && !t.After(r.Restored) }

// RecordRestore notes in db (in dialect d) that it was restored at
// restored from a backup taken at taken.
func RecordRestore(ctx context.Context, db *sql.DB, d sqlgen.Dialect, taken, restored time.Time) error {
	if !taken.Before(restored) {
		return fmt.Errorf("the backup was taken at %s, not before the restore at %s", taken.Format(time.RFC3339), restored.Format(time.RFC3339))
	}
	query, args := sqlgen.NewBuilder(d).
		SQL(`INSERT INTO outpost_setting (name, value) VALUES (`).Arg(RestorePrefix + strconv.FormatInt(restored.UnixMilli(), 10)).
		SQL(`, `).Arg(strconv.FormatInt(taken.UnixMilli(), 10)).SQL(`)`).Build()
	_, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("record the restore: %w", err)
	}
	return nil
}

// Restores reads the recorded restores.
func Restores(ctx context.Context, q *sql.DB, d sqlgen.Dialect) ([]Restore, error) {
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT name, value FROM outpost_setting WHERE name LIKE `).Arg(RestorePrefix + "%").Build()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read restores: %w", err)
	}
	defer rows.Close()
	var out []Restore
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, fmt.Errorf("read restores: %w", err)
		}
		restored, err1 := strconv.ParseInt(strings.TrimPrefix(name, RestorePrefix), 10, 64)
		taken, err2 := strconv.ParseInt(value, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("read restores: setting %q = %q is not two unix millisecond times", name, value)
		}
		out = append(out, Restore{Taken: time.UnixMilli(taken).UTC(), Restored: time.UnixMilli(restored).UTC()})
	}
	return out, rows.Err()
}
