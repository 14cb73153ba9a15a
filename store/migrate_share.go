package store

// shareRightsMigration moves share masks to Dataverse's AccessRights
// values. Before it a share's mask held 1 read, 2 write and 4 delete, and
// any share reached the row for every privilege; now each right reaches
// one privilege (Delete is 65536, 4 is Append) and every share includes
// Read. Old masks keep read and write, and their delete bit becomes the
// delete right.
var shareRightsMigration = migration{8, "sharerights", []string{
	`UPDATE outpost_share SET accessmask = 1 + (accessmask & 2) + (CASE WHEN (accessmask & 4) <> 0 THEN 65536 ELSE 0 END) WHERE accessmask <> 0 AND (accessmask & ~7) = 0`,
}}
