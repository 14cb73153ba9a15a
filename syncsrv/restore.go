package syncsrv

import (
	"context"
	"slices"
	"sync"

	"github.com/outposthq/outpost/store"
)

// restores are the database's recorded restores from backups
// (store.RecordRestore), read once: a restore happens while no server
// serves the database.
type restores struct {
	mu     sync.Mutex
	loaded bool
	list   []store.Restore
}

// loadRestores reads the recorded restores if they are not read yet.
func (e *Engine) loadRestores(ctx context.Context) error {
	e.restores.mu.Lock()
	defer e.restores.mu.Unlock()
	if e.restores.loaded {
		return nil
	}
	db := e.p.DB()
	list, err := store.Restores(ctx, db.Read, db.Dialect)
	if err != nil {
		return err
	}
	e.restores.list, e.restores.loaded = list, true
	return nil
}

// lostHistory reports whether tok was issued by history a restore lost:
// after the backup was taken and before the database was restored from
// it. Its version may be one the restored database has reached again with
// other changes, so only checksums tell what the device holds.
func (e *Engine) lostHistory(tok token) bool {
	e.restores.mu.Lock()
	defer e.restores.mu.Unlock()
	return slices.ContainsFunc(e.restores.list, func(r store.Restore) bool { return r.Lost(tok.Issued) })
}
