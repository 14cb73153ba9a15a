package store

// syncMigration holds the tables of device sync.
//
//   - outpost_device: one row per registered device (one local store):
//     its user, app and profile, and lastseq, the last upload sequence
//     applied; it is updated in the same transaction as the changes, so a
//     replayed upload is recognised and never applied twice.
//   - outpost_syncresult: the outcome of every applied sequence, so a
//     replayed upload gets the same answer as the first send.
var syncMigration = migration{3, "sync", []string{
	`CREATE TABLE IF NOT EXISTS outpost_device (deviceid TEXT PRIMARY KEY, userid TEXT NOT NULL, appid TEXT NOT NULL, profileid TEXT NOT NULL, kind TEXT NOT NULL, createdon {ts} NOT NULL, lastseen {ts} NOT NULL, lastseq {bigint} NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_device_user ON outpost_device (userid)`,
	`CREATE TABLE IF NOT EXISTS outpost_syncresult (deviceid TEXT NOT NULL, seq {bigint} NOT NULL, status TEXT NOT NULL, version {bigint} NOT NULL, errortype INTEGER, errorcode TEXT, message TEXT, syncerrorid TEXT, PRIMARY KEY (deviceid, seq))`,
}}

// resultRunMigration lets one outpost_syncresult row stand for a run of
// applied changes: seq is the run's first sequence and lastseq its last
// (NULL: the row is seq's alone). An upload's applied changes share one
// status and one version, so storing them as runs writes one row where it
// wrote one per change.
var resultRunMigration = migration{18, "resultrun", []string{
	`ALTER TABLE outpost_syncresult ADD COLUMN lastseq {bigint}`,
}}
