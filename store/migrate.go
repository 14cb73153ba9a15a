package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/outposthq/outpost/sqlgen"
)

// migration is one numbered step of Outpost's own schema. Statements use
// the placeholders {blob}, {bigint} and {ts}, replaced per dialect; a
// statement that starts with {postgres} runs on PostgreSQL only.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations are applied in order at Open; never edit one that has shipped:
// add a new one.
var migrations = []migration{coreMigration, offlineMigration, syncMigration, filesMigration, scopeMigration, scopeEnvMigration, versionMarkMigration, shareRightsMigration, appVersionMigration, signinMigration, syncKeyMigration, canvasBundleMigration, fileStoreMigration, appNeedsRepublishMigration, syncTelemetryMigration, writerVersionMigration, deviceSignInMigration, resultRunMigration}

var coreMigration = migration{1, "core", []string{
	`CREATE TABLE IF NOT EXISTS outpost_clock (id INTEGER PRIMARY KEY, version {bigint} NOT NULL)`,
	`INSERT INTO outpost_clock (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS outpost_meta (kind TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL, PRIMARY KEY (kind, name))`,
	`CREATE TABLE IF NOT EXISTS outpost_tombstone (tablename TEXT NOT NULL, id TEXT NOT NULL, version {bigint} NOT NULL, PRIMARY KEY (tablename, id))`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_tombstone_version ON outpost_tombstone (tablename, version)`,
	`CREATE TABLE IF NOT EXISTS outpost_share (objecttable TEXT NOT NULL, objectid TEXT NOT NULL, principalid TEXT NOT NULL, accessmask {bigint} NOT NULL, version {bigint} NOT NULL, PRIMARY KEY (objecttable, objectid, principalid))`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_share_principal ON outpost_share (principalid, objecttable)`,
	`CREATE TABLE IF NOT EXISTS outpost_roleprivilege (roleid TEXT NOT NULL, tablename TEXT NOT NULL, privilege TEXT NOT NULL, depth INTEGER NOT NULL, PRIMARY KEY (roleid, tablename, privilege))`,
	`CREATE TABLE IF NOT EXISTS outpost_token (hash TEXT PRIMARY KEY, userid TEXT NOT NULL, name TEXT NOT NULL, createdon {ts} NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_token_user ON outpost_token (userid)`,
	`CREATE TABLE IF NOT EXISTS outpost_file (fileid TEXT PRIMARY KEY, tablename TEXT NOT NULL, objectid TEXT NOT NULL, columnname TEXT NOT NULL, filename TEXT NOT NULL, mimetype TEXT NOT NULL, size {bigint} NOT NULL, content {blob} NOT NULL, version {bigint} NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS outpost_setting (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	// security_version moves whenever teams, roles, privileges, business
	// units or the manager hierarchy change: sync uses it to know when
	// scopes may have moved without any row's own version moving.
	`CREATE TABLE IF NOT EXISTS outpost_securitylog (version {bigint} PRIMARY KEY, kind TEXT NOT NULL, principalid TEXT NOT NULL)`,
}}

func (db *DB) expand(stmt string) string {
	blob, ts := "BLOB", "TEXT"
	if db.Dialect.IsPostgres() {
		blob, ts = "BYTEA", "TIMESTAMPTZ"
	}
	return strings.NewReplacer("{blob}", blob, "{bigint}", "BIGINT", "{ts}", ts).Replace(stmt)
}

// Migrate applies every migration not yet applied, each in its own
// transaction, and records it in outpost_migration. A new PostgreSQL
// database gets transaction-id writer versions (see XIDVersionsWanted).
func (db *DB) Migrate(ctx context.Context) error {
	fresh := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if err := LockStartup(ctx, db, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS outpost_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			return err
		}
		var applied int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outpost_migration`).Scan(&applied); err != nil {
			return err
		}
		fresh = applied == 0
		// In the same transaction, so start-up takes the start-up lock no
		// more often than before.
		if err := rebaseVersions(ctx, db, tx); err != nil {
			return fmt.Errorf("check version numbering: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create migration table: %w", err)
	}
	for _, m := range migrations {
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if err := LockStartup(ctx, db, tx); err != nil {
				return err
			}
			var n int
			query, args := sqlgen.NewBuilder(db.Dialect).
				SQL(`SELECT count(*) FROM outpost_migration WHERE version = `).Arg(m.version).Build()
			if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, s := range m.stmts {
				pgOnly, ok := strings.CutPrefix(s, "{postgres}")
				if ok && !db.Dialect.IsPostgres() {
					continue
				}
				s = pgOnly
				if _, err := tx.ExecContext(ctx, db.expand(s)); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			query, args = sqlgen.NewBuilder(db.Dialect).
				SQL(`INSERT INTO outpost_migration (version, name) VALUES (`).Arg(m.version).SQL(`, `).Arg(m.name).
				SQL(`)`).Build()
			_, err := tx.ExecContext(ctx, query, args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if db.Dialect.IsPostgres() && XIDVersionsWanted(fresh, os.Getenv("OUTPOST_PG_XID_VERSIONS")) {
			if err := LockStartup(ctx, db, tx); err != nil {
				return err
			}
			if err := SwitchToXIDVersions(ctx, tx); err != nil {
				return fmt.Errorf("switch to transaction-id versions: %w", err)
			}
		}
		return db.loadVersionMode(ctx, tx)
	})
}

// LockStartup serialises, until tx ends, the start-up work of several
// servers opening one PostgreSQL database at once: creating Outpost's own
// tables (CREATE TABLE IF NOT EXISTS races on the catalog) and
// bootstrapping a new environment. On SQLite the write transaction is
// already exclusive.
func LockStartup(ctx context.Context, db *DB, tx *sql.Tx) error {
	if !db.Dialect.IsPostgres() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7340032)`); err != nil {
		return fmt.Errorf("take the start-up lock: %w", err)
	}
	return nil
}

// MigrationDigest identifies the migrations of this build as they run on
// PostgreSQL (versions, names and statements): two builds with the same
// digest migrate a database to the same schema. Tests use it to name one
// migrated database they copy for each test.
func MigrationDigest() string {
	db := &DB{Dialect: sqlgen.Postgres}
	h := sha256.New()
	for _, m := range migrations {
		fmt.Fprintf(h, "%d %s\n", m.version, m.name)
		for _, s := range m.stmts {
			fmt.Fprintf(h, "%s\n", db.expand(s))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// XIDVersionsWanted reports whether Migrate switches a PostgreSQL
// database to transaction-id writer versions (docs/design.md, "Change
// tracking that never skips a row"), given whether the database had no
// migration applied before (fresh) and OUTPOST_PG_XID_VERSIONS (env): a
// new database switches unless env is "0"; one that already holds data
// keeps its counter row unless env is "1" (every server of it stopped
// first, since one still taking versions from the counter row would break
// the ordering). There is no way back: "0" leaves a switched database as
// it is.
func XIDVersionsWanted(fresh bool, env string) bool {
	if fresh {
		return env != "0"
	}
	return env == "1"
}
