package client_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/internal/fakes3"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// objectOf returns the file store key of file fid, and the kind of store
// the database records for it.
func (w *world) objectOf(t *testing.T, fid string) (kind, key string) {
	t.Helper()
	d := w.p.DB().Dialect
	testenv.Must(t, w.p.DB().Read.QueryRow(`SELECT contentstore, contentkey FROM outpost_file WHERE fileid = `+d.Placeholder(1), fid).Scan(&kind, &key))
	return kind, key
}

// TestDeviceFilesInFileStore: through sync (/api/sync/v1/files and the
// upload of staged content), files live in the server's file store: a
// device downloads content the server put there, its own upload lands
// there, and its removal of the file removes the object; damaged content
// is refused, never delivered.
func TestDeviceFilesInFileStore(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		stores := map[string]func() filestore.Store{
			"dir": func() filestore.Store {
				d, err := filestore.NewDir(t.TempDir())
				testenv.Must(t, err)
				return d
			},
			"s3": func() filestore.Store { return fakes3.Store(t) },
		}
		for kind, open := range stores {
			t.Run(e.Name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st := open()
				w := fileWorldWith(t, e, platform.Options{Files: st})
				wos, err := w.p.List(ctx, w.principal(0), "workorder", platform.Query{OrderBy: []platform.Order{{Column: "workorderid"}}})
				testenv.Must(t, err)
				wo1, wo2 := wos.Rows[0]["workorderid"].(string), wos.Rows[1]["workorderid"].(string)

				// Down: content the server put in the store.
				manual := []byte("%PDF-1.7 the manual")
				mid := w.putFile(t, "workorder", wo1, "manual", "manual.pdf", manual)
				if k, _ := w.objectOf(t, mid); k != kind {
					t.Fatalf("the server stored the manual in %q, want %s", k, kind)
				}
				dev := w.device(0, t.TempDir(), &fileTransport{})
				_, err = dev.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				wantFile(t, dev, "workorder", wo1, "manual", manual)

				// Up: the device's photo lands in the store.
				img := pngOf(4000, 6)
				fid, err := dev.PutFile(ctx, "workorder", wo2, "photo", "site.png", "", img)
				testenv.Must(t, err)
				res, err := dev.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				if res.Uploaded != 1 {
					t.Fatalf("uploaded %d changes, want 1", res.Uploaded)
				}
				k, key := w.objectOf(t, fid)
				if b, err := st.Get(ctx, key); k != kind || err != nil || !bytes.Equal(b, img) {
					t.Fatalf("the uploaded photo is in %q (%d bytes, %v), want %s with the device's bytes", k, len(b), err, kind)
				}

				// A second device gets the uploaded photo; damaged, it is
				// refused instead.
				_, mkey := w.objectOf(t, mid)
				testenv.Must(t, st.Put(ctx, mkey, bytes.ToUpper(manual)))
				dev2 := w.device(0, t.TempDir(), &fileTransport{})
				if _, err := dev2.Sync(ctx, client.SyncOptions{}); err == nil || !strings.Contains(err.Error(), "is damaged") {
					t.Fatalf("sync with a damaged file on the server: %v, want the damage reported", err)
				}
				if f, err := dev2.GetFile(ctx, "workorder", wo1, "manual"); err == nil && !bytes.Equal(f.Content, manual) {
					t.Fatalf("the device got damaged bytes %q", f.Content)
				}
				testenv.Must(t, st.Put(ctx, mkey, manual))
				_, err = dev2.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				wantFile(t, dev2, "workorder", wo1, "manual", manual)
				wantFile(t, dev2, "workorder", wo2, "photo", img)

				// The device removes the photo: the object goes.
				testenv.Must(t, dev.RemoveFile(ctx, "workorder", wo2, "photo"))
				_, err = dev.Sync(ctx, client.SyncOptions{})
				testenv.Must(t, err)
				if _, err := st.Get(ctx, key); !errors.Is(err, filestore.ErrNotExist) {
					t.Fatalf("the removed photo's object is left: %v", err)
				}
			})
		}
	}
}
