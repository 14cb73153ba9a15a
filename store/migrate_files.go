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
