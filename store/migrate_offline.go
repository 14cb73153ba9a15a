package store

// offlineMigration holds the tables of offline profiles, apps and solutions.
// The maker-visible rows live in the built-in tables mobileofflineprofile,
// canvasapp and appmodule; these tables hold what those rows cannot: the
// draft and published definitions, app definitions and solutions.
var offlineMigration = migration{2, "offline", []string{
	// One row per mobileofflineprofile row: the draft (JSON items), the
	// assignment (JSON), whether the draft differs from the published
	// version, and the app an auto-generated profile came from.
	`CREATE TABLE IF NOT EXISTS outpost_profile (profileid TEXT PRIMARY KEY, draft TEXT NOT NULL, assignment TEXT NOT NULL, dirty INTEGER NOT NULL, generatedfrom TEXT NOT NULL)`,
	// Published versions; devices only ever see the newest one.
	`CREATE TABLE IF NOT EXISTS outpost_profileversion (profileid TEXT NOT NULL, version {bigint} NOT NULL, definition TEXT NOT NULL, publishedon {ts} NOT NULL, PRIMARY KEY (profileid, version))`,
	// One row per canvasapp or appmodule row: the app's kind and definition
	// (tables, views, forms). (needsrepublish is dropped by migration 13.)
	`CREATE TABLE IF NOT EXISTS outpost_app (appid TEXT PRIMARY KEY, kind TEXT NOT NULL, definition TEXT NOT NULL, needsrepublish INTEGER NOT NULL, publishedon {ts})`,
	`CREATE TABLE IF NOT EXISTS outpost_solution (solutionid TEXT PRIMARY KEY, uniquename TEXT NOT NULL UNIQUE, name TEXT NOT NULL, version TEXT NOT NULL, createdon {ts} NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS outpost_solutioncomponent (solutionid TEXT NOT NULL, kind TEXT NOT NULL, objectid TEXT NOT NULL, PRIMARY KEY (solutionid, kind, objectid))`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_solutioncomponent_object ON outpost_solutioncomponent (kind, objectid)`,
}}

// appVersionMigration records the profile version each app is published
// against: devices of the app get that version until the app is published
// again (0: the app is not offline).
var appVersionMigration = migration{9, "appversion", []string{
	`ALTER TABLE outpost_app ADD COLUMN profileversion {bigint} NOT NULL DEFAULT 0`,
}}

// canvasBundleMigration holds each canvas app's web bundle: the maker's
// zip of static files (index.html at its root), kept as uploaded.
var canvasBundleMigration = migration{12, "canvasbundle", []string{
	`CREATE TABLE IF NOT EXISTS outpost_canvasbundle (appid TEXT PRIMARY KEY, content {blob} NOT NULL, size {bigint} NOT NULL, sha256 TEXT NOT NULL, modifiedon {ts} NOT NULL)`,
}}

// appNeedsRepublishMigration drops outpost_app.needsrepublish: whether an
// app needs republishing is its published-against version (profileversion)
// being older than its profile's newest published version, computed when
// the app is read; a stored flag beside it was a second answer that nothing
// read. (If another branch also takes 13, renumber this one on merge.)
var appNeedsRepublishMigration = migration{14, "appdropneedsrepublish", []string{
	`ALTER TABLE outpost_app DROP COLUMN needsrepublish`,
}}
