package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
)

// columnPlanner is fakePlanner with some columns left out of the plan, as
// a profile that selects image columns one by one.
type columnPlanner struct {
	*fakePlanner
	drop map[string][]string
}

func (c columnPlanner) Plan(ctx context.Context, pr *security.Principal, profileID string) (*profile.Plan, error) {
	plan, err := c.fakePlanner.Plan(ctx, pr, profileID)
	if err != nil {
		return nil, err
	}
	for i := range plan.Items {
		it := &plan.Items[i]
		it.Columns = slices.DeleteFunc(it.Columns, func(col string) bool { return slices.Contains(c.drop[it.Table], col) })
	}
	return plan, nil
}

// fileTransport counts the bytes of file downloads and can cut the next
// one after a number of bytes.
type fileTransport struct {
	faults
	cut  atomic.Int64
	read atomic.Int64
}

func (f *fileTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.faults.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/files/") {
		return resp, err
	}
	resp.Body = &countBody{ReadCloser: resp.Body, n: &f.read}
	if n := f.cut.Swap(0); n > 0 {
		resp.Body = &cutBody{r: resp.Body, left: n}
	}
	return resp, nil
}

type countBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func pngOf(n int, fill byte) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{fill}, n-8)...)
}

// fileWorld is a world whose work orders have two image columns (the plan
// selects "photo", not "signature") and a file column, and whose products
// have an image the technicians may read but not write.
func fileWorld(t *testing.T, e testenv.Engine) *world {
	return fileWorldWith(t, e, platform.Options{})
}

// fileWorldWith is fileWorld over a platform with opts.
func fileWorldWith(t *testing.T, e testenv.Engine, opts platform.Options) *world {
	ctx := context.Background()
	w := newWorldWith(t, e, 2, opts)
	sys := platform.System()
	for _, c := range []struct {
		table string
		col   schema.Column
	}{{"workorder", schema.Column{Name: "photo", Type: schema.Image}}, {"workorder", schema.Column{Name: "signature", Type: schema.Image}},
		{"workorder", schema.Column{Name: "manual", Type: schema.File}}, {"product", schema.Column{Name: "picture", Type: schema.Image}}} {
		_, err := w.p.AddColumn(ctx, sys, c.table, c.col)
		testenv.Must(t, err)
	}
	w.eng = syncsrv.New(w.p, columnPlanner{fakePlanner: w.planner, drop: map[string][]string{"workorder": {"signature"}}}, syncsrv.Options{})
	w.srv = httptest.NewServer(httpapi.New(w.p, httpapi.Options{Sync: w.eng}))
	t.Cleanup(w.srv.Close)
	w.seed([]string{w.users[0]}, 1, 3)
	return w
}

func (w *world) putFile(t *testing.T, table, id, column, name string, content []byte) string {
	t.Helper()
	info, err := w.p.PutFile(context.Background(), platform.System(), table, id, column, platform.FileInput{Name: name, Content: content})
	testenv.Must(t, err)
	return info.ID
}

func wantFile(t *testing.T, dev *client.Client, table, id, column string, content []byte) {
	t.Helper()
	f, err := dev.GetFile(context.Background(), table, id, column)
	if err != nil {
		t.Fatalf("GetFile(%s, %s, %s): %v", table, id, column, err)
	}
	if !bytes.Equal(f.Content, content) {
		t.Fatalf("GetFile(%s, %s, %s): %d bytes differ from the %d wanted", table, id, column, len(f.Content), len(content))
	}
}

func fileStatus(t *testing.T, dev *client.Client) client.FileStatus {
	t.Helper()
	st, err := dev.Status(context.Background())
	testenv.Must(t, err)
	return st.Files
}

// TestDeviceDownloadsFiles: the first sync brings the selected file and
// image columns' content, with progress; a replaced image brings the new
// one and drops the old; a removed row drops its files; a download cut
// half way resumes where it stopped.
func TestDeviceDownloadsFiles(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := fileWorld(t, e)
		wos, err := w.p.List(ctx, w.principal(0), "workorder", platform.Query{OrderBy: []platform.Order{{Column: "workorderid"}}})
		testenv.Must(t, err)
		wo1, wo2 := wos.Rows[0]["workorderid"].(string), wos.Rows[1]["workorderid"].(string)
		photo, manual := pngOf(3000, 1), []byte("%PDF-1.7 the manual")
		w.putFile(t, "workorder", wo1, "photo", "photo.png", photo)
		w.putFile(t, "workorder", wo1, "signature", "sig.png", pngOf(100, 2))
		w.putFile(t, "workorder", wo2, "manual", "manual.pdf", manual)
		w.putFile(t, "product", w.prods[0], "picture", "part.png", pngOf(200, 3))

		tr := &fileTransport{}
		dev := w.device(0, t.TempDir(), tr)
		var last client.Progress
		res, err := dev.Sync(ctx, client.SyncOptions{OnProgress: func(p client.Progress) {
			if p.Phase == "files" {
				last = p
			}
		}})
		testenv.Must(t, err)
		w.checkEqual(t, 0, dev)
		want := client.Progress{Phase: "files", Table: last.Table, Bytes: last.Bytes, Files: 3, FilesTotal: 3, FileBytes: 3219, FileBytesTotal: 3219}
		if diff := cmp.Diff(want, last); diff != "" || res.Files != 3 {
			t.Fatalf("first sync downloaded %d files; last progress (-want +got):\n%s", res.Files, diff)
		}
		wantFile(t, dev, "workorder", wo1, "photo", photo)
		wantFile(t, dev, "workorder", wo2, "manual", manual)
		if _, err := dev.GetFile(ctx, "workorder", wo1, "signature"); err == nil {
			t.Fatal("the device holds the signature, which the profile does not select")
		}
		if got := fileStatus(t, dev); got != (client.FileStatus{Stored: 3, StoredBytes: 3219}) {
			t.Fatalf("file status after first sync = %+v", got)
		}

		// Replaced on the server: the new image arrives, the old goes.
		photo2 := pngOf(5000, 4)
		w.putFile(t, "workorder", wo1, "photo", "photo2.png", photo2)
		res, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		wantFile(t, dev, "workorder", wo1, "photo", photo2)
		if got := fileStatus(t, dev); res.Files != 1 || got != (client.FileStatus{Stored: 3, StoredBytes: 5219}) {
			t.Fatalf("after a replaced image: %d downloaded, status %+v", res.Files, got)
		}

		// A removed row takes its files along.
		testenv.Must(t, w.p.Delete(ctx, platform.System(), "workorder", wo2))
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if got := fileStatus(t, dev); got != (client.FileStatus{Stored: 2, StoredBytes: 5200}) {
			t.Fatalf("after a removed row, file status = %+v", got)
		}

		// Cut half way, the download resumes instead of starting over.
		big := pngOf(200_000, 5)
		w.putFile(t, "workorder", wo1, "photo", "big.png", big)
		tr.cut.Store(120_000)
		tr.read.Store(0)
		if _, err := dev.Sync(ctx, client.SyncOptions{}); !errors.Is(err, client.ErrUnreachable) {
			t.Fatalf("sync with a cut download: %v, want ErrUnreachable", err)
		}
		if got := fileStatus(t, dev); got.Missing != 1 {
			t.Fatalf("after a cut download, file status = %+v, want 1 missing", got)
		}
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		wantFile(t, dev, "workorder", wo1, "photo", big)
		if n := tr.read.Load(); n != int64(len(big)) {
			t.Fatalf("downloading %d bytes took %d bytes with a cut", len(big), n)
		}
	})
}

// TestDeviceUploadsFiles: a file put offline is uploaded once, even when
// the upload's reply is lost and it is sent again; an image over the limit
// (the server's, lower than the device's) and a file on a row the user may
// not write become Sync Errors and the rows revert; an image over the
// device's own limit is refused at once.
func TestDeviceUploadsFiles(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		const serverLimit = 1 << 20
		w := fileWorldWith(t, e, platform.Options{MaxImageBytes: serverLimit})
		part := pngOf(200, 3)
		w.putFile(t, "product", w.prods[0], "picture", "part.png", part)
		tr := &fileTransport{}
		dev := w.device(0, t.TempDir(), tr)
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		wos, err := dev.Query(ctx, "workorder", client.Query{OrderBy: "workorderid"})
		testenv.Must(t, err)
		wo1, wo2 := wos[0]["workorderid"].(string), wos[1]["workorderid"].(string)

		// Offline: the file is on the device at once and queued.
		tr.set(func(f *faults) { f.down = true })
		img := pngOf(4000, 6)
		fid, err := dev.PutFile(ctx, "workorder", wo1, "photo", "site.png", "", img)
		testenv.Must(t, err)
		wantFile(t, dev, "workorder", wo1, "photo", img)
		if got := fileStatus(t, dev); got.Pending != 1 {
			t.Fatalf("offline file status = %+v, want 1 pending", got)
		}
		var tl *outpost.Error
		if _, err := dev.PutFile(ctx, "workorder", wo2, "photo", "huge.png", "image/png", pngOf(client.MaxImageBytes+1, 7)); !errors.As(err, &tl) || tl.Code != outpost.CodeTooLarge {
			t.Fatalf("an image over the device's limit: %v, want too_large", err)
		}
		tooBig := pngOf(serverLimit+1, 7)
		_, err = dev.PutFile(ctx, "workorder", wo2, "photo", "huge.png", "image/png", tooBig)
		testenv.Must(t, err)
		_, err = dev.PutFile(ctx, "product", w.prods[0], "picture", "mine.png", "image/png", pngOf(300, 8))
		testenv.Must(t, err)

		// Back online, the first upload's reply is lost: the resend is
		// answered from the server's record.
		tr.set(func(f *faults) { f.down, f.loseReply = false, true })
		if _, err := dev.Sync(ctx, client.SyncOptions{}); !errors.Is(err, client.ErrUnreachable) {
			t.Fatalf("sync with a lost reply: %v, want ErrUnreachable", err)
		}
		res, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if res.Uploaded != 1 || res.Rejected != 2 {
			t.Fatalf("upload after the lost reply: %d applied, %d rejected; want 1 and 2", res.Uploaded, res.Rejected)
		}
		w.checkEqual(t, 0, dev)
		got, err := w.p.GetFile(ctx, platform.System(), "workorder", wo1, "photo", true)
		testenv.Must(t, err)
		if got.ID != fid || got.Name != "site.png" || got.MimeType != "image/png" || !bytes.Equal(got.Content, img) {
			t.Fatalf("server file = %s %s %s (%d bytes), want %s site.png image/png", got.ID, got.Name, got.MimeType, len(got.Content), fid)
		}
		row, err := w.p.Get(ctx, platform.System(), "workorder", wo1, nil)
		testenv.Must(t, err)
		if row["versionnumber"].(int64) != got.Version {
			t.Fatalf("row version %v, want the file's %d: applied more than once?", row["versionnumber"], got.Version)
		}
		var staged int
		testenv.Must(t, w.p.DB().Read.QueryRow(`SELECT count(*) FROM outpost_fileupload WHERE refused = ''`).Scan(&staged))
		if staged != 2 { // the rejected ones, kept for a retry of their Sync Errors
			t.Fatalf("%d staged uploads are left, want 2", staged)
		}

		// The rejections are Sync Errors; the rows are the server's again.
		errs, err := dev.LocalErrors(ctx)
		testenv.Must(t, err)
		codes := map[string]string{}
		for _, e := range errs {
			codes[e.Table+" "+e.ID] = e.Code + ": " + e.Message
		}
		wantCodes := map[string]string{
			"workorder " + wo2:      fmt.Sprintf(`too_large: image column "photo" of table "workorder" takes at most %d bytes, got %d`, serverLimit, len(tooBig)),
			"product " + w.prods[0]: `forbidden: you lack the write privilege on this row of table "product"`,
		}
		if diff := cmp.Diff(wantCodes, codes); diff != "" {
			t.Fatalf("sync errors (-want +got):\n%s", diff)
		}
		server, err := w.eng.ListErrors(ctx, w.principal(0), syncsrv.ErrorFilter{State: new(int64)})
		testenv.Must(t, err)
		if len(server) != 2 {
			t.Fatalf("the server holds %d active sync errors, want 2", len(server))
		}
		wantFile(t, dev, "product", w.prods[0], "picture", part)
		if _, err := dev.GetFile(ctx, "workorder", wo2, "photo"); err == nil {
			t.Fatal("the rejected image is still on the device")
		}
		if st := fileStatus(t, dev); st != (client.FileStatus{Stored: 2, StoredBytes: int64(len(img) + len(part))}) {
			t.Fatalf("file status after the upload = %+v", st)
		}
	})
}

// TestStagingAfterApplyIsIgnored: content sent again for a file that was
// applied already (a late duplicate) is not kept.
func TestStagingAfterApplyIsIgnored(t *testing.T) {
	ctx := context.Background()
	w := fileWorld(t, testenv.Engines(t)[0])
	dev := w.device(0, t.TempDir(), &faults{})
	_, err := dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	wos, err := dev.Query(ctx, "workorder", client.Query{Top: 1})
	testenv.Must(t, err)
	fid, err := dev.PutFile(ctx, "workorder", wos[0]["workorderid"].(string), "photo", "a.png", "", pngOf(100, 1))
	testenv.Must(t, err)
	_, err = dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	req, err := http.NewRequest(http.MethodPut, w.srv.URL+"/api/sync/v1/files/"+fid+"?deviceId="+dev.DeviceID(), bytes.NewReader(pngOf(50, 2)))
	testenv.Must(t, err)
	req.Header.Set("Authorization", "Bearer "+w.tokens[0])
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(t, err)
	resp.Body.Close()
	var n int
	testenv.Must(t, w.p.DB().Read.QueryRow(`SELECT count(*) FROM outpost_fileupload`).Scan(&n))
	if resp.StatusCode != http.StatusNoContent || n != 0 {
		t.Fatalf("late duplicate staging: status %d, %d staged rows; want 204 and 0", resp.StatusCode, n)
	}
}
