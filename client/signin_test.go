package client_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

const techPassword = "long day in the field"

// skewClock is the server's clock: real time plus an offset the test
// moves, so that access tokens expire on the server at a chosen request.
type skewClock struct{ offset atomic.Int64 }

func (c *skewClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *skewClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// expiring is a transport that moves the server's clock past the access
// token's lifetime just before the request for which expireOn says so, and
// can lose the reply of the next refresh (the server applied it).
type expiring struct {
	clock     *skewClock
	mu        sync.Mutex
	expireOn  func(req *http.Request) bool
	loseNext  bool
	refreshes atomic.Int64
	requests  []string
}

func (x *expiring) RoundTrip(req *http.Request) (*http.Response, error) {
	x.mu.Lock()
	x.requests = append(x.requests, req.URL.Path)
	if x.expireOn != nil && x.expireOn(req) {
		x.expireOn = nil
		x.clock.advance(16 * time.Minute)
	}
	lose := false
	if strings.HasSuffix(req.URL.Path, "/api/auth/refresh") {
		x.refreshes.Add(1)
		lose, x.loseNext = x.loseNext, false
	}
	x.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && lose {
		resp.Body.Close()
		return nil, errNetwork
	}
	return resp, err
}

// signinWorld is a world whose users have passwords, on a skewed clock.
func signinWorld(t *testing.T, e testenv.Engine) (*world, *skewClock) {
	clock := &skewClock{}
	w := newWorldWith(t, e, 2, platform.Options{Now: clock.now, PasswordCost: bcrypt.MinCost})
	for _, u := range w.users {
		testenv.Must(t, w.p.SetPassword(context.Background(), platform.System(), u, techPassword, ""))
	}
	return w, clock
}

// signedInDevice signs user "ua" in through tr and opens the app.
func signedInDevice(t *testing.T, w *world, dir string, tr http.RoundTripper) (*client.Client, client.FileCredentials) {
	t.Helper()
	store := client.FileCredentials{Path: filepath.Join(dir, "credential.json")}
	hc := &http.Client{Transport: tr}
	if _, err := client.SignIn(context.Background(), hc, w.srv.URL, "ua", techPassword, client.DeviceInfo{Name: "test phone", Platform: "linux"}, store); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	c, err := client.Open(context.Background(), client.Options{Dir: dir, Server: w.srv.URL, Credentials: store, AppID: "fieldapp", HTTPClient: hc, PageSize: 5})
	testenv.Must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, store
}

func TestRefreshMidFirstSyncLosesNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		w, clock := signinWorld(t, e)
		w.seed(w.users[:1], 6, 3)
		snapshots := 0
		tr := &expiring{clock: clock}
		tr.expireOn = func(req *http.Request) bool {
			if strings.HasSuffix(req.URL.Path, "/snapshot") {
				snapshots++
			}
			return snapshots == 3 // in the middle of the first sync
		}
		dir := t.TempDir()
		c, store := signedInDevice(t, w, dir, tr)
		before, err := store.Load(context.Background())
		testenv.Must(t, err)
		if _, err := c.Sync(context.Background(), client.SyncOptions{}); err != nil {
			t.Fatalf("first sync across a refresh: %v", err)
		}
		w.checkEqual(t, 0, c)
		if n := tr.refreshes.Load(); n != 1 {
			t.Fatalf("%d refreshes, want 1", n)
		}
		after, err := store.Load(context.Background())
		testenv.Must(t, err)
		if after.RefreshToken == before.RefreshToken || after.DeviceID != before.DeviceID {
			t.Fatalf("the stored credential was not rotated: %+v", after)
		}
		fi, err := os.Stat(store.Path)
		testenv.Must(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("credential file mode %v, want 0600", fi.Mode().Perm())
		}
	})
}

func TestRefreshMidUploadLosesNothing(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w, clock := signinWorld(t, e)
		w.seed(w.users[:1], 2, 1)
		tr := &expiring{clock: clock}
		c, _ := signedInDevice(t, w, t.TempDir(), tr)
		_, err := c.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		var ids []string
		for i := range 7 {
			id, err := c.Create(ctx, "account", map[string]any{"name": "Offline " + string(rune('A'+i))})
			testenv.Must(t, err)
			ids = append(ids, id)
		}
		// The access token expires just before the upload, and the reply
		// of the refresh is lost once: the device refreshes again.
		tr.mu.Lock()
		tr.expireOn = func(req *http.Request) bool { return strings.HasSuffix(req.URL.Path, "/upload") }
		tr.loseNext = true
		tr.mu.Unlock()
		if _, err := c.Sync(ctx, client.SyncOptions{}); !errors.Is(err, client.ErrUnreachable) {
			t.Fatalf("sync with a lost refresh reply: %v, want unreachable", err)
		}
		if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
			t.Fatalf("sync after the lost reply: %v", err)
		}
		st, err := c.Status(ctx)
		testenv.Must(t, err)
		if st.PendingUploads != 0 {
			t.Fatalf("%d changes still queued", st.PendingUploads)
		}
		for _, id := range ids {
			if _, err := w.p.Get(ctx, platform.System(), "account", id, []string{"name"}); err != nil {
				t.Fatalf("account %s did not reach the server: %v", id, err)
			}
		}
		devs, err := w.p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: w.users[0]})
		testenv.Must(t, err)
		if len(devs) != 1 || len(devs[0].Stores) != 1 || devs[0].Stores[0].AppID != "fieldapp" || devs[0].Stores[0].LastSyncResult == "" {
			t.Fatalf("registered devices: %+v", devs)
		}
	})
}

func TestRevokedDeviceWipesLocalStore(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w, clock := signinWorld(t, e)
		w.seed(w.users[:1], 2, 1)
		dir := t.TempDir()
		c, store := signedInDevice(t, w, dir, &expiring{clock: clock})
		_, err := c.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		_, err = c.Create(ctx, "account", map[string]any{"name": "Not yet sent"})
		testenv.Must(t, err)
		path := c.Path()
		devs, err := w.p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: w.users[0]})
		testenv.Must(t, err)
		testenv.Must(t, w.p.RevokeDevice(ctx, platform.System(), devs[0].DeviceID))

		_, err = c.Sync(ctx, client.SyncOptions{})
		if !errors.Is(err, client.ErrDeviceRevoked) || outpost.ErrorCode(err) != outpost.CodeDeviceRevoked {
			t.Fatalf("sync of a revoked device: %v", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the local store is still there: %v", err)
		}
		if cred, err := store.Load(ctx); err != nil || cred != nil {
			t.Fatalf("the credential is still there: %+v %v", cred, err)
		}
		idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
		testenv.Must(t, err)
		if strings.Contains(string(idx), filepath.Base(path)) {
			t.Fatalf("the index still names the store: %s", idx)
		}
		// Opening again needs a new sign-in.
		_, err = client.Open(ctx, client.Options{Dir: dir, Server: w.srv.URL, Credentials: store, AppID: "fieldapp"})
		if outpost.ErrorCode(err) != outpost.CodeUnauthorized {
			t.Fatalf("open after the wipe: %v", err)
		}
	})
}

func TestPasswordChangeKeepsUploadQueue(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w, clock := signinWorld(t, e)
		w.seed(w.users[:1], 2, 1)
		dir := t.TempDir()
		tr := &expiring{clock: clock}
		c, store := signedInDevice(t, w, dir, tr)
		_, err := c.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		id, err := c.Create(ctx, "account", map[string]any{"name": "Queued across a password change"})
		testenv.Must(t, err)
		testenv.Must(t, w.p.SetPassword(ctx, platform.System(), w.users[0], "the new password", ""))
		if _, err := c.Sync(ctx, client.SyncOptions{}); outpost.ErrorCode(err) != outpost.CodeUnauthorized {
			t.Fatalf("sync after the password change: %v, want unauthorized", err)
		}
		testenv.Must(t, c.Close())
		hc := &http.Client{Transport: tr}
		if _, err := client.SignIn(ctx, hc, w.srv.URL, "ua", "the new password", client.DeviceInfo{Name: "test phone"}, store); err != nil {
			t.Fatal(err)
		}
		c, err = client.Open(ctx, client.Options{Dir: dir, Server: w.srv.URL, Credentials: store, AppID: "fieldapp", HTTPClient: hc})
		testenv.Must(t, err)
		defer c.Close()
		if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.p.Get(ctx, platform.System(), "account", id, []string{"name"}); err != nil {
			t.Fatalf("the queued change was lost: %v", err)
		}
		devs, err := w.p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: w.users[0], IncludeRevoked: true})
		testenv.Must(t, err)
		if len(devs) != 1 {
			t.Fatalf("the device signed in again as a new device: %+v", devs)
		}
	})
}
