package store

// syncTelemetryMigration adds the per-sync telemetry events: one row per
// sync request (open, snapshot, delta, reconcile, upload), with what the
// device reported of its own side. The janitor prunes rows older than the
// telemetry retention.
var syncTelemetryMigration = migration{15, "synctelemetry", []string{
	`CREATE TABLE IF NOT EXISTS outpost_synctelemetry (eventid TEXT PRIMARY KEY, at {ts} NOT NULL, userid TEXT NOT NULL, deviceid TEXT NOT NULL, storeid TEXT NOT NULL,
		appid TEXT NOT NULL, profileversion {bigint} NOT NULL, kind TEXT NOT NULL, tables TEXT NOT NULL, rowsup {bigint} NOT NULL, rowsdown {bigint} NOT NULL,
		bytes {bigint} NOT NULL, durationus {bigint} NOT NULL, outcome TEXT NOT NULL, errorcode TEXT NOT NULL, clientapplyms {bigint}, clienterrors {bigint})`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_synctelemetry_at ON outpost_synctelemetry (at)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_synctelemetry_store ON outpost_synctelemetry (storeid, at)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_synctelemetry_user ON outpost_synctelemetry (userid, at)`,
}}
