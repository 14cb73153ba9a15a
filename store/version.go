package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/outposthq/outpost/sqlgen"
)

// Versions order changes. Every write transaction stamps what it writes
// with one version (NextVersion); a reader takes a token (CurrentVersion)
// in the same snapshot as its data and later asks for versions above it.
// The invariant both engines keep: once a reader's snapshot has given it
// token t, no transaction that commits later (or that the snapshot could
// not see) ever carries a version <= t. So "versionnumber > token" never
// skips a row that committed late, without any writer waiting for another.
//
//   - SQLite has one writer at a time: the version is a counter row,
//     incremented inside the write transaction; the token is its value.
//   - PostgreSQL: the version is the writer's transaction id plus a fixed
//     offset (outpost_clock.xidoffset, migration 16), taken after the
//     writer holds the environment's advisory lock in shared session mode
//     (the lock only marks its connection as this environment's writer,
//     from then until it closes; nobody waits on it). The
//     token is one below the smallest transaction id the reader's snapshot
//     sees in flight, plus the offset, ignoring transactions proven to be
//     someone else's (running on a connection without the lock); with none
//     in flight, one below the snapshot's xmax; never below a token the
//     handle handed out before (Floor). Transaction ids are handed out in order,
//     so a transaction the snapshot cannot see has an id of at least that
//     bound. Writers never touch a shared row, so they scale with cores.
//
// Transaction ids are the cluster's, so a restore into a new cluster can
// start them lower than before: Migrate raises the offset, before other
// migrations run, when the next version would not be above every version
// stored (rebaseVersions).

// NextVersion takes the version of write transaction tx; it must be the
// transaction's first statement on PostgreSQL.
func (db *DB) NextVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, db.nextVersionSQL("")).Scan(&v); err != nil {
		return 0, fmt.Errorf("next version: %w", err)
	}
	return v, nil
}

// AdvanceVersion sets the version counter to v, the last of the versions
// a SQLite group transaction handed its writes after its first, which it
// took from the counter (NextVersion): a transaction holding the one
// writer may count them in memory, as long as the counter has the last
// one when it commits. Counter mode only (never with transaction-id
// versions).
func (db *DB) AdvanceVersion(ctx context.Context, tx *sql.Tx, v int64) error {
	if db.SparseVersions() {
		return fmt.Errorf("advance version: versions are transaction ids")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outpost_clock SET version = `+db.Dialect.Placeholders(1, 1)+` WHERE id = 1`, v); err != nil {
		return fmt.Errorf("advance version: %w", err)
	}
	return nil
}

// WriteTx runs fn in a write transaction, as Tx does, that begins by
// taking its version (NextVersion) and reading sub, a subquery of one
// integer value (NULL reads as 0), in the same statement: fn gets both.
// On PostgreSQL that statement travels with the BEGIN, and the statements
// fn runs under AtCommit travel with the COMMIT, each in one round trip
// (the driver sends them as one pipeline): a one-row write makes three
// round trips instead of five.
func (db *DB) WriteTx(ctx context.Context, sub string, fn func(tx *sql.Tx, version, also int64) error) error {
	var v int64
	var x sql.NullInt64
	first := &FirstStatement{Query: db.nextVersionSQL(", (" + sub + ")"), Dest: []any{&v, &x}}
	return db.Tx(context.WithValue(ctx, firstKey{}, first), func(tx *sql.Tx) error {
		if !first.Done {
			// A driver that does not pipeline (SQLite's): run it now.
			if err := tx.QueryRowContext(ctx, first.Query).Scan(first.Dest...); err != nil {
				return fmt.Errorf("next version: %w", err)
			}
		}
		return fn(tx, v, x.Int64)
	})
}

// FirstStatement is the statement a transaction of WriteTx begins with. A
// driver that sends it with the BEGIN scans its one row into Dest and sets
// Done.
type FirstStatement struct {
	Query string
	Dest  []any
	Done  bool
}

type firstKey struct{}

// FirstStatementOf returns the statement the transaction beginning under
// ctx is to begin with, nil when none.
func FirstStatementOf(ctx context.Context) *FirstStatement {
	f, _ := ctx.Value(firstKey{}).(*FirstStatement)
	return f
}

type atCommitKey struct{}

// AtCommit returns ctx under which an Exec in a write transaction may be
// sent with the transaction's COMMIT instead of at once, when the driver
// can (PostgreSQL's): the Exec then reports no rows affected and no error,
// and an error of the statement fails the commit instead. Use it for
// statements whose result nothing reads before the commit.
func AtCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, atCommitKey{}, true)
}

// IsAtCommit reports whether an Exec under ctx may wait for the COMMIT.
func IsAtCommit(ctx context.Context) bool {
	b, _ := ctx.Value(atCommitKey{}).(bool)
	return b
}

// VersionSQL is the statement that takes a write transaction's version,
// with more (an SQL select list) selected beside it: the first statement
// of a write transaction (WriteTx), or part of a statement that is a
// transaction of its own.
func (db *DB) VersionSQL(more string) string { return db.nextVersionSQL(", " + more) }

// nextVersionSQL is the statement that takes a write transaction's
// version, with more to select after it.
func (db *DB) nextVersionSQL(more string) string {
	if db.SparseVersions() {
		// The subquery (kept apart by OFFSET 0) takes the lock before the
		// outer select list assigns the transaction id: a reader that sees
		// the id running always sees the lock with it. The lock is the
		// session's: a transaction's own advisory locks are released before
		// its transaction id stops running, and in that gap a committing
		// writer would look like someone else's.
		return `SELECT pg_current_xact_id()::text::bigint + c.xidoffset` + more + ` FROM (SELECT xidoffset, pg_advisory_lock_shared(lockkey) AS l FROM outpost_clock WHERE id = 1 OFFSET 0) c`
	}
	return "UPDATE outpost_clock SET version = version + 1 WHERE id = 1 RETURNING version" + more
}

// CurrentVersion returns the token of q's snapshot: every change with a
// version at or below it is visible in the snapshot, and every change not
// visible in it has a greater version.
//
// q's snapshot must be taken by this statement (the first of a read
// transaction, or a statement of its own).
func (db *DB) CurrentVersion(ctx context.Context, q Querier) (int64, error) {
	floor := db.Floor()
	var v int64
	if err := q.QueryRowContext(ctx, "SELECT "+CurrentVersionSQL(db.Dialect, "c")+" FROM outpost_clock c WHERE c.id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("read version: %w", err)
	}
	return db.Raise(floor, v), nil
}

// Floor returns the highest token this handle has handed out. Read it
// before the statement that takes a snapshot and pass it to Raise with the
// token that statement computed.
//
// On PostgreSQL a transaction of someone else's that ends between a
// snapshot and the read of pg_locks counts as in flight (it might have
// been one of ours), so a later snapshot can compute a lower token than an
// earlier one. Every version at or below a token handed out for an earlier
// snapshot is visible in every later one, so the higher of the two is
// safe, and tokens never go backwards.
func (db *DB) Floor() int64 { return db.floor.Load() }

// SparseVersions reports whether versions are PostgreSQL transaction ids
// (migration 16, OUTPOST_PG_XID_VERSIONS): they move with every transaction
// of the cluster, not only with this environment's writes, so a reader's
// token moves even when nothing it reads changed.
func (db *DB) SparseVersions() bool { return db.Dialect.IsPostgres() && db.xidVersions.Load() }

// Raise returns the token of a snapshot taken after floor was read: the
// greater of floor and v, which it records as the new floor.
func (db *DB) Raise(floor, v int64) int64 {
	if v <= floor {
		return floor
	}
	for {
		cur := db.floor.Load()
		if cur >= v || db.floor.CompareAndSwap(cur, v) {
			return v
		}
	}
}

// CurrentVersionSQL is the token of the statement's snapshot as an SQL
// expression over the outpost_clock row aliased clock.
func CurrentVersionSQL(d sqlgen.Dialect, clock string) string {
	if !d.IsPostgres() {
		return clock + ".version"
	}
	return "CASE WHEN " + clock + ".lockkey = 0 THEN " + clock + ".version ELSE " + strings.ReplaceAll(pgToken, "$c", clock) + " END"
}

// pgToken: running transaction ids of the snapshot, minus those pg_locks
// shows running without this environment's lock. An id that is no longer
// running when pg_locks is read (it ended after the snapshot) counts as in
// flight: it may be one of ours that committed late.
const pgToken = `(WITH running AS MATERIALIZED (
  SELECT t.transactionid::text::bigint AS xid FROM pg_locks t
  WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
    AND NOT EXISTS (SELECT 1 FROM pg_locks a WHERE a.locktype = 'advisory' AND a.pid = t.pid AND a.granted
      AND a.objsubid = 1 AND (a.classid::text::bigint << 32 | a.objid::text::bigint) = $c.lockkey
      AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())))
SELECT coalesce(min(x.id), pg_snapshot_xmax(pg_current_snapshot())::text::bigint) - 1 + $c.xidoffset
FROM (SELECT s::text::bigint AS id FROM pg_snapshot_xip(pg_current_snapshot()) AS s) x
WHERE NOT EXISTS (SELECT 1 FROM running r WHERE r.xid = x.id % 4294967296))`

// SwitchToXIDVersions turns PostgreSQL writer versions on for the
// database (every server of it must be stopped: one still taking versions
// from the counter row would break the ordering): the offset is chosen so
// that every version from now on is above every counter value.
func SwitchToXIDVersions(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE outpost_clock SET xidoffset = version + 1 - pg_current_xact_id()::text::bigint,
		lockkey = 1 + floor(random() * 4611686018427387903)::bigint WHERE id = 1 AND lockkey = 0`)
	return err
}

// loadVersionMode reads whether writers take transaction ids as versions.
func (db *DB) loadVersionMode(ctx context.Context, tx *sql.Tx) error {
	if !db.Dialect.IsPostgres() {
		return nil
	}
	var key int64
	if err := tx.QueryRowContext(ctx, `SELECT lockkey FROM outpost_clock WHERE id = 1`).Scan(&key); err != nil {
		return fmt.Errorf("read version mode: %w", err)
	}
	db.xidVersions.Store(key != 0)
	return nil
}

// rebaseVersions raises the PostgreSQL offset when the next version would
// not be above every version stored: after a restore into another cluster,
// whose transaction ids may be lower.
func rebaseVersions(ctx context.Context, db *DB, tx *sql.Tx) error {
	if !db.Dialect.IsPostgres() {
		return nil
	}
	var migrated bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('outpost_clock') AND attname = 'xidoffset' AND NOT attisdropped)`).Scan(&migrated); err != nil || !migrated {
		return err // a new database
	}
	var key int64
	if err := tx.QueryRowContext(ctx, `SELECT lockkey FROM outpost_clock WHERE id = 1`).Scan(&key); err != nil || key == 0 {
		return err // the counter row
	}
	rows, err := tx.QueryContext(ctx, `SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attname IN ('versionnumber', 'version')
		AND a.atttypid = 'int8'::regtype AND NOT a.attisdropped AND c.relname <> 'outpost_clock'`)
	if err != nil {
		return err
	}
	var cols [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var high int64
	for _, tc := range cols {
		var m sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(`+db.Dialect.Quote(tc[1])+`) FROM `+db.Dialect.Quote(tc[0])).Scan(&m); err != nil {
			return fmt.Errorf("newest version of %s: %w", tc[0], err)
		}
		high = max(high, m.Int64)
	}
	_, err = tx.ExecContext(ctx, `UPDATE outpost_clock SET xidoffset = xidoffset + ($1 + 1 - (pg_current_xact_id()::text::bigint + xidoffset))
		WHERE id = 1 AND pg_current_xact_id()::text::bigint + xidoffset <= $1`, high)
	return err
}

// WholeVersions is the one reader of changes by version: it returns what
// read finds with a version in (after, upto], in version order, at most
// limit items, cut so that no version is split: a page ends at a whole
// version, so "version > upper" resumes exactly, and a version written
// by one transaction with more than limit items comes whole. upto must be
// a token (CurrentVersion) of the snapshot read runs in, so that nothing at
// or below it can commit later.
//
// read(hi, n) returns the items with a version in (after, hi] in version
// order, at most n of them (all when n is 0); version gives an item's
// version. upper is the version read up to; more is set when upper < upto.
func WholeVersions[T any](after, upto int64, limit int, read func(hi int64, n int) ([]T, error), version func(T) int64) (items []T, upper int64, more bool, err error) {
	if upto <= after {
		return nil, upto, false, nil
	}
	items, err = read(upto, limit+1)
	if err != nil || len(items) <= limit {
		return items, upto, false, err
	}
	last := version(items[limit])
	upper = last - 1
	if version(items[0]) == last {
		// One transaction wrote more than limit items: take it whole.
		upper = last
		if items, err = read(upper, 0); err != nil {
			return nil, 0, false, err
		}
	} else {
		for len(items) > 0 && version(items[len(items)-1]) > upper {
			items = items[:len(items)-1]
		}
	}
	return items, upper, upper < upto, nil
}
