package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// storedAt returns where the database says file fid's content lives.
func (f *fileFixture) storedAt(t *testing.T, fid string) (kind, key, sum string, inDB int) {
	t.Helper()
	d := f.p.DB().Dialect
	testenv.Must(t, f.p.DB().Read.QueryRow(`SELECT contentstore, contentkey, sha256, length(content) FROM outpost_file WHERE fileid = `+d.Placeholder(1), fid).Scan(&kind, &key, &sum, &inDB))
	return kind, key, sum, inDB
}

// objectCount counts the objects of a directory store.
func objectCount(t *testing.T, root string) int {
	t.Helper()
	n := 0
	testenv.Must(t, filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	}))
	return n
}

// TestFileStoreContent: with a file store, content goes to the store and
// the database keeps its metadata and checksum; a damaged or missing
// object is a clear error, never wrong bytes; deletes (of the file, of
// its row) remove the object, a rolled-back write leaves none; content
// stored in the database before keeps being served.
func TestFileStoreContent(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		for kind, open := range fileStores(t) {
			if kind == "db" {
				continue
			}
			t.Run(e.Name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st := open()
				f := newFileFixtureIn(t, e, st)
				report := "/api/files/job(" + f.row + ")/report"
				photo := "/api/files/job(" + f.row + ")/photo"

				doc := []byte("%PDF-1.7 the inspection report")
				code, _, body := f.send(t, http.MethodPut, report, f.admin, doc, map[string]string{"Content-Type": "application/pdf"})
				if code != http.StatusOK {
					t.Fatalf("PUT: %d %s", code, body)
				}
				got, err := f.p.GetFile(ctx, platform.System(), "job", f.row, "report", false)
				testenv.Must(t, err)
				sk, key, sum, inDB := f.storedAt(t, got.ID)
				want := sha256.Sum256(doc)
				if sk != kind || !strings.HasPrefix(key, got.ID+".") || sum != hex.EncodeToString(want[:]) || inDB != 0 {
					t.Fatalf("stored at %q key %q sha256 %s with %d bytes in the database; want %s, a key of the file id, %x, none", sk, key, sum, inDB, kind, want)
				}
				if b, err := st.Get(ctx, key); err != nil || !bytes.Equal(b, doc) {
					t.Fatalf("the store holds %q, %v", b, err)
				}
				if code, _, body := f.send(t, http.MethodGet, report, f.user, nil, nil); code != http.StatusOK || !bytes.Equal(body, doc) {
					t.Fatalf("GET: %d %q", code, body)
				}

				// Damaged content: same length, other bytes; then cut short.
				damaged := bytes.ToUpper(doc)
				if d, ok := st.(*filestore.Dir); ok {
					testenv.Must(t, os.WriteFile(filepath.Join(d.Root(), filestore.Path(key)), damaged, 0o600))
				} else {
					testenv.Must(t, st.Put(ctx, key, damaged))
				}
				for _, bad := range [][]byte{damaged, doc[:5]} {
					testenv.Must(t, st.Put(ctx, key, bad))
					code, _, body = f.send(t, http.MethodGet, report, f.user, nil, nil)
					if code != http.StatusInternalServerError || !strings.Contains(string(body), "is damaged") || !strings.Contains(string(body), got.ID) || bytes.Contains(body, bad) {
						t.Fatalf("GET of damaged content: %d %s", code, body)
					}
				}
				testenv.Must(t, st.Delete(ctx, key))
				code, _, body = f.send(t, http.MethodGet, report, f.user, nil, nil)
				if code != http.StatusInternalServerError || !strings.Contains(string(body), "missing from the file store") {
					t.Fatalf("GET of missing content: %d %s", code, body)
				}
				testenv.Must(t, st.Put(ctx, key, doc))

				// Deleting the file removes its object.
				if code, _, body := f.send(t, http.MethodDelete, report, f.admin, nil, nil); code != http.StatusNoContent {
					t.Fatalf("DELETE: %d %s", code, body)
				}
				if _, err := st.Get(ctx, key); !errors.Is(err, filestore.ErrNotExist) {
					t.Fatalf("the object is left after DELETE: %v", err)
				}

				// A write that rolls back leaves no object.
				var before int
				if d, ok := st.(*filestore.Dir); ok {
					before = objectCount(t, d.Root())
				}
				boom := errors.New("boom")
				err = f.p.Write(ctx, func(w *platform.Writer) error {
					if _, err := w.PutFile(ctx, platform.System(), "job", f.row, "report", platform.FileInput{Content: doc}); err != nil {
						return err
					}
					return boom
				})
				if !errors.Is(err, boom) {
					t.Fatalf("write: %v", err)
				}
				if d, ok := st.(*filestore.Dir); ok && objectCount(t, d.Root()) != before {
					t.Fatalf("a rolled-back write left %d objects", objectCount(t, d.Root())-before)
				}

				// Content stored in the database before is still served,
				// beside content in the store.
				legacy, err := platform.Open(ctx, f.p.DB(), platform.Options{})
				testenv.Must(t, err)
				img := pngBytes(300)
				old, err := legacy.PutFile(ctx, platform.System(), "job", f.row, "photo", platform.FileInput{Content: img})
				testenv.Must(t, err)
				if sk, _, _, inDB := f.storedAt(t, old.ID); sk != "" || inDB != len(img) {
					t.Fatalf("a server without a file store stored at %q with %d bytes in the database", sk, inDB)
				}
				if code, _, body := f.send(t, http.MethodGet, photo, f.user, nil, nil); code != http.StatusOK || !bytes.Equal(body, img) {
					t.Fatalf("GET of content kept in the database: %d (%d bytes)", code, len(body))
				}

				// Deleting the row removes the objects of its files.
				code, _, body = f.send(t, http.MethodPut, report, f.admin, doc, nil)
				if code != http.StatusOK {
					t.Fatalf("PUT: %d %s", code, body)
				}
				got, err = f.p.GetFile(ctx, platform.System(), "job", f.row, "report", false)
				testenv.Must(t, err)
				_, key, _, _ = f.storedAt(t, got.ID)
				testenv.Must(t, f.p.Delete(ctx, platform.System(), "job", f.row))
				if _, err := st.Get(ctx, key); !errors.Is(err, filestore.ErrNotExist) {
					t.Fatalf("the object is left after its row was deleted: %v", err)
				}
			})
		}
	}
}
