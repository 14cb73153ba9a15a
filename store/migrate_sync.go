package store

// syncMigration holds the tables of device sync.
var syncMigration = migration{3, "sync", []string{}}
