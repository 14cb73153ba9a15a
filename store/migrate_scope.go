package store

// scopeMigration adds outpost_scopelog: per write transaction and table,
// the columns it changed ("*" for creates, deletes, assignments, shares and
// anything else). Sync reads it to tell whether a change to a table that
// another table's download scope links to can have moved rows in or out
// of that scope: an update of a work order's description cannot move its
// account, an update of its customer can. Without it every change to a
// parent table made its related tables reconcile by checksums, which costs
// O(scope) per delta (docs/benchmarks.md).
var scopeMigration = migration{5, "scopelog", []string{
	`CREATE TABLE IF NOT EXISTS outpost_scopelog (version {bigint} NOT NULL, tablename TEXT NOT NULL, columns TEXT NOT NULL, PRIMARY KEY (tablename, version))`,
}}

// scopeEnvMigration adds outpost_scopeenv: per scope fingerprint a sync
// token may carry, the user's filter environment (teams, business unit,
// hierarchy) it was computed with. After a scope change the server
// evaluates the old and the new scope on the same rows and sends the
// device exactly what left and entered, instead of checksums.
var scopeEnvMigration = migration{6, "scopeenv", []string{
	`CREATE TABLE IF NOT EXISTS outpost_scopeenv (fingerprint TEXT PRIMARY KEY, userid TEXT NOT NULL, env TEXT NOT NULL)`,
}}

// versionMarkMigration adds outpost_versionmark: now and then, the version
// that was current at a time. Pruning drops tombstones and scope log
// entries at or below the newest version marked longer ago than sync
// tokens live (platform.Prune).
var versionMarkMigration = migration{7, "versionmark", []string{
	`CREATE TABLE IF NOT EXISTS outpost_versionmark (version {bigint} PRIMARY KEY, markedon {ts} NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_versionmark_markedon ON outpost_versionmark (markedon)`,
}}

// syncKeyMigration adds outpost_synckey: the secrets sync tokens are
// signed with (HMAC-SHA256), numbered, with when each was made (Unix
// milliseconds). Servers on one database share them; the newest signs, the
// others verify tokens issued before it until they expire.
var syncKeyMigration = migration{11, "synckey", []string{
	`CREATE TABLE IF NOT EXISTS outpost_synckey (id {bigint} PRIMARY KEY, secret TEXT NOT NULL, createdms {bigint} NOT NULL)`,
}}
