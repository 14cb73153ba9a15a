package store

// offlineMigration holds the tables of offline profiles, apps and solutions.
var offlineMigration = migration{2, "offline", []string{}}
