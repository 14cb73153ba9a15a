package store

// writerVersionMigration (16) lets PostgreSQL writers stop queueing on the
// counter row (docs/design.md, "Change tracking that never skips a row"):
//
//   - xidoffset: a PostgreSQL writer's version is its transaction id
//     (pg_current_xact_id) plus this offset, chosen here so that every
//     version handed out from now on is above every counter value handed
//     out before;
//   - lockkey: the key of the advisory lock every PostgreSQL writer holds
//     in shared mode while it is in flight, which tells this environment's
//     writers apart from other transactions of the same database.
//
// Both stay 0 (the counter row) until Migrate switches writer versions on:
// at once for a new database, on request (OUTPOST_PG_XID_VERSIONS=1 at
// start-up, every server of the database stopped) for one that already
// holds a store; see XIDVersionsWanted and SwitchToXIDVersions. SQLite
// keeps the counter row: it has one writer anyway.
var writerVersionMigration = migration{16, "writerversions", []string{
	`{postgres}ALTER TABLE outpost_clock ADD COLUMN IF NOT EXISTS xidoffset BIGINT NOT NULL DEFAULT 0`,
	`{postgres}ALTER TABLE outpost_clock ADD COLUMN IF NOT EXISTS lockkey BIGINT NOT NULL DEFAULT 0`,
}}
