package client_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/sqlite"
	"github.com/outposthq/outpost/syncsrv"
)

// swappable serves through whichever handler was set last, so that a
// restored server answers at the address devices already know.
type swappable struct{ h atomic.Pointer[http.Handler] }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

func (s *swappable) set(h http.Handler) { s.h.Store(&h) }

// TestSyncAfterRestore: an embedded server is backed up, keeps changing
// (a device syncs those changes, so its tokens are newer than the backup),
// and is restored from the backup. New rows written on the restored server
// get versions the device's tokens already passed; its next sync must
// reconcile to the restored server's data (the new rows in, the lost ones
// out) and still upload the change it queued offline.
func TestSyncAfterRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := newWorld(t, testenv.Engine{Name: "sqlite", Open: func(t testing.TB) *store.DB {
		db, err := sqlite.Open(ctx, dir)
		testenv.Must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}}, 2)
	front := &swappable{}
	front.set(w.srv.Config.Handler)
	w.srv.Config.Handler = front
	w.seed([]string{w.users[0]}, 3, 2)
	dev := w.device(0, t.TempDir(), nil)
	_, err := dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)

	backup := filepath.Join(t.TempDir(), "outpost.backup")
	testenv.Must(t, sqlite.Backup(ctx, dir, backup))

	// History the restore loses: the device syncs it.
	w.seed([]string{w.users[0]}, 4, 3)
	_, err = dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	w.checkEqual(t, 0, dev)

	// The server is restored into a new directory and serves there.
	restored := t.TempDir()
	testenv.Must(t, sqlite.Restore(ctx, backup, restored, false))
	db, err := sqlite.Open(ctx, restored)
	testenv.Must(t, err)
	t.Cleanup(func() { db.Close() })
	p, err := platform.Open(ctx, db, platform.Options{})
	testenv.Must(t, err)
	w.p = p
	w.planner = &fakePlanner{p: p}
	w.eng = syncsrv.New(p, w.planner, syncsrv.Options{})
	front.set(httpapi.New(p, httpapi.Options{Sync: w.eng}))

	// The restored server gets a few new rows; their versions are below
	// the device's tokens.
	w.seed([]string{w.users[0]}, 1, 2)
	accs, err := p.List(ctx, platform.System(), "account", platform.Query{Filter: "ownerid eq '" + w.users[0] + "'", Top: 1})
	testenv.Must(t, err)
	queued, err := dev.Create(ctx, "workorder", map[string]any{"name": "Queued offline", "customerid": accs.Rows[0]["accountid"], "priority": 2})
	testenv.Must(t, err)

	res, err := dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	t.Logf("sync after restore: %+v", res)
	w.checkEqual(t, 0, dev)
	if _, err := p.Get(ctx, platform.System(), "workorder", queued, nil); err != nil {
		t.Fatalf("the change queued on the device did not reach the restored server: %v", err)
	}
	if len(res.Reconciled) != 4 {
		t.Fatalf("reconciled %v after the restore, want every table", res.Reconciled)
	}
	// Tokens the restored server issued are trusted again.
	w.seed([]string{w.users[0]}, 1, 1)
	res, err = dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	for _, r := range res.Reconciled {
		if strings.Contains(r, "restored") {
			t.Fatalf("second sync after the restore reconciled again: %v", res.Reconciled)
		}
	}
	if res.Upserted == 0 {
		t.Fatalf("second sync after the restore = %+v, want the new rows", res)
	}
	w.checkEqual(t, 0, dev)
}
