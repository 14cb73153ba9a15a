package store

// filesMigration holds what file and image storage adds to outpost_file
// (created by the core migration):
//
//   - an index to find a row's files, used when the row is deleted;
//   - outpost_fileupload: content a device staged before uploading the
//     queued change that sets a file column to it (the change names the
//     file id). The change's apply moves it into outpost_file in the
//     upload's transaction; refused is the reason when the server refused
//     the content (too large), so the change becomes a Sync Error that
//     says why.
var filesMigration = migration{4, "files", []string{
	`CREATE INDEX IF NOT EXISTS ix_outpost_file_object ON outpost_file (tablename, objectid)`,
	`CREATE TABLE IF NOT EXISTS outpost_fileupload (fileid TEXT PRIMARY KEY, deviceid TEXT NOT NULL, userid TEXT NOT NULL, filename TEXT NOT NULL, mimetype TEXT NOT NULL, size {bigint} NOT NULL, content {blob} NOT NULL, refused TEXT NOT NULL, createdon {ts} NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_fileupload_created ON outpost_fileupload (createdon)`,
}}

// fileStoreMigration lets a file's content live outside the database (the
// filestore package): contentstore is the kind of store holding it ("" for
// the database itself, where content keeps it, as every file stored before
// this migration), contentkey its object key there, and sha256 the
// checksum of the content, checked on every read ("" for files stored
// before this migration). Content kept outside leaves content empty.
var fileStoreMigration = migration{13, "filestore", []string{
	`ALTER TABLE outpost_file ADD COLUMN contentstore TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE outpost_file ADD COLUMN contentkey TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE outpost_file ADD COLUMN sha256 TEXT NOT NULL DEFAULT ''`,
}}
