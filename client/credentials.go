package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/wire"
)

// Credential is a device credential as the device keeps it: a short-lived
// access token and the refresh token that renews both, bound to the
// device id the server gave at sign-in.
type Credential struct {
	Server           string    `json:"server"`
	UserID           string    `json:"userid"`
	DeviceID         string    `json:"deviceid"`
	AccessToken      string    `json:"access_token"`
	AccessExpiresOn  time.Time `json:"access_expires_on"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresOn time.Time `json:"refresh_expires_on"`
}

// CredentialStore keeps a device's credential. Mobile apps that embed the
// library supply one backed by the platform's keychain; FileCredentials is
// the default. Save must be durable before it returns: the server forgets
// the previous refresh token once a new one is handed out.
type CredentialStore interface {
	// Load returns the stored credential, nil when there is none.
	Load(ctx context.Context) (*Credential, error)
	Save(ctx context.Context, c *Credential) error
	Delete(ctx context.Context) error
}

// FileCredentials keeps the credential in a JSON file readable only by its
// owner (0600), written atomically.
type FileCredentials struct{ Path string }

// Load implements CredentialStore.
func (f FileCredentials) Load(ctx context.Context) (*Credential, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read credential: %w", err)
	}
	var c Credential
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read credential %s: %w", f.Path, err)
	}
	return &c, nil
}

// Save implements CredentialStore.
func (f FileCredentials) Save(ctx context.Context, c *Credential) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".credential-*")
	if err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save credential: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save credential: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save credential: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	return os.Rename(tmp.Name(), f.Path)
}

// Delete implements CredentialStore.
func (f FileCredentials) Delete(ctx context.Context) error {
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete credential: %w", err)
	}
	return nil
}

// DeviceInfo names a device at sign-in.
type DeviceInfo struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
}

// SignIn signs a device in to server with a user name and password and
// saves the credential in store. A device that signed in before (the
// store holds its credential, say after a password change) keeps its
// device id, and with it its local data and upload queue.
func SignIn(ctx context.Context, hc *http.Client, server, username, password string, dev DeviceInfo, store CredentialStore) (*Credential, error) {
	return obtainCredential(ctx, hc, server, "/api/auth/login", dev, store, func(device deviceRef) any {
		return struct {
			Username string    `json:"username"`
			Password string    `json:"password"`
			Mode     string    `json:"mode"`
			Device   deviceRef `json:"device"`
		}{username, password, "device", device}
	})
}

// deviceRef is the device part of a sign-in request: its id when it
// signed in to the server before, and its name and platform.
type deviceRef struct {
	DeviceID string `json:"deviceid,omitempty"`
	DeviceInfo
}

// obtainCredential posts the sign-in request body(device) to path of
// server and saves the device credential it answers in store. The device
// keeps the id of its earlier credential for the same server, and with it
// its local data and upload queue.
func obtainCredential(ctx context.Context, hc *http.Client, server, path string, dev DeviceInfo, store CredentialStore, body func(deviceRef) any) (*Credential, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	device := deviceRef{DeviceInfo: dev}
	if old, err := store.Load(ctx); err != nil {
		return nil, err
	} else if old != nil && sameServer(old.Server, server) {
		device.DeviceID = old.DeviceID
	}
	r := &remote{base: server, hc: hc}
	var out wire.DeviceCredential
	if err := r.call(ctx, http.MethodPost, path, body(device), &out); err != nil {
		return nil, err
	}
	c := credentialOf(server, out)
	if err := store.Save(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

func sameServer(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

// credentialOf is the credential to keep for server's reply w to a sign-in
// or refresh.
func credentialOf(server string, w wire.DeviceCredential) *Credential {
	return &Credential{Server: server, UserID: w.UserID, DeviceID: w.DeviceID, AccessToken: w.AccessToken, AccessExpiresOn: w.AccessExpiresOn,
		RefreshToken: w.RefreshToken, RefreshExpiresOn: w.RefreshExpiresOn}
}

// ErrDeviceRevoked is returned (wrapped with the server's error) when the
// server revoked this device: the library has deleted the user's local
// data and the credential, and the user must sign in again.
var ErrDeviceRevoked = errors.New("this device was revoked: its local data for the user was deleted; sign in again")

// auth supplies the access token of each request: a fixed bearer token, or
// a device credential that it refreshes when it expires.
type auth struct {
	token string // a fixed token (Options.Token)

	store CredentialStore
	mu    sync.Mutex
	cred  *Credential
	now   func() time.Time
}

// refreshMargin: a credential this close to expiry is refreshed before
// the request rather than after a refusal.
const refreshMargin = 30 * time.Second

// access returns the token for the next request, refreshing a credential
// about to expire first.
func (a *auth) access(ctx context.Context, r *remote) (string, error) {
	if a.store == nil {
		return a.token, nil
	}
	a.mu.Lock()
	cred := a.cred
	a.mu.Unlock()
	if cred == nil {
		return "", outpost.Unauthorizedf("this device is not signed in: sign in first")
	}
	if !cred.AccessExpiresOn.IsZero() && a.now().Add(refreshMargin).After(cred.AccessExpiresOn) {
		if err := a.refresh(ctx, r, cred.AccessToken); err != nil {
			return "", err
		}
		a.mu.Lock()
		cred = a.cred
		a.mu.Unlock()
	}
	return cred.AccessToken, nil
}

// refresh exchanges the refresh token for a new credential, unless
// another request already did since used was current. The new credential
// is saved before it is used.
func (a *auth) refresh(ctx context.Context, r *remote, used string) error {
	if a.store == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cred == nil || a.cred.AccessToken != used {
		return nil
	}
	var out wire.DeviceCredential
	in := map[string]string{"refresh_token": a.cred.RefreshToken}
	if err := r.callWith(ctx, http.MethodPost, "/api/auth/refresh", in, &out, false); err != nil {
		return err
	}
	c := credentialOf(a.cred.Server, out)
	if err := a.store.Save(ctx, c); err != nil {
		return fmt.Errorf("keep the refreshed credential: %w", err)
	}
	a.cred = c
	return nil
}

func (a *auth) userID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cred == nil {
		return ""
	}
	return a.cred.UserID
}

// reportPending counts the upload queue, which the next requests report
// to the server (the device list shows it).
func (c *Client) reportPending(ctx context.Context) {
	var n int64
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM outpost_queue`).Scan(&n); err == nil {
		c.r.pending.Store(n)
	}
}

// wipeRevoked deletes what this device holds for userID on the server
// after the server revoked the device: every local store of the user
// (rows, files, upload queue, Sync Errors), their index entries and the
// credential. The store must be closed. It returns ErrDeviceRevoked with
// the server's error.
func (c *Client) wipeRevoked(ctx context.Context, userID string, cause error) error {
	dir := c.opts.Dir
	idx, err := readIndex(dir)
	if err != nil {
		return errors.Join(fmt.Errorf("%w: %w", ErrDeviceRevoked, cause), err)
	}
	var removed []string
	var errs []error
	keep := idx[:0]
	for _, e := range idx {
		path := filepath.Join(dir, e.Store)
		if sameServer(e.Server, c.opts.Server) && ((userID != "" && e.UserID == userID) || path == c.path) {
			removed = append(removed, path)
			continue
		}
		keep = append(keep, e)
	}
	if c.path != "" && !slices.Contains(removed, c.path) {
		removed = append(removed, c.path)
	}
	for _, path := range removed {
		stillUsed := false
		for _, e := range keep {
			stillUsed = stillUsed || filepath.Join(dir, e.Store) == path
		}
		if stillUsed {
			continue
		}
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := writeIndex(dir, keep); err != nil {
		errs = append(errs, err)
	}
	if c.opts.Credentials != nil {
		if err := c.opts.Credentials.Delete(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	c.logger.WarnContext(ctx, "device revoked by the server: local data of the user deleted", "user", userID, "stores", len(removed), "reason", outpost.ErrorMessage(cause))
	return errors.Join(append([]error{fmt.Errorf("%w: %w", ErrDeviceRevoked, cause)}, errs...)...)
}

// Session is a device credential shared by everything that talks to the
// server for one signed-in device: the stores opened with it
// (Options.Session) and the app's own requests (Token, Refused). There is
// one refresh token at a time (the server forgets the previous one when it
// hands out a new one), so every user of the credential must renew it
// through the same Session: it refreshes once for all of them.
type Session struct {
	a *auth
	r *remote
}

// NewSession loads the credential of server from store; it fails with
// CodeUnauthorized when the store holds none for that server. hc nil
// means http.DefaultClient, now nil time.Now.
func NewSession(ctx context.Context, server string, hc *http.Client, store CredentialStore, now func() time.Time) (*Session, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	cred, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	if cred == nil || !sameServer(cred.Server, server) {
		return nil, outpost.Unauthorizedf("this device is not signed in to %s: sign in first", server)
	}
	return &Session{a: &auth{store: store, cred: cred, now: now}, r: &remote{base: server, hc: hc}}, nil
}

// Token returns the access token for a request, refreshed first when it
// expires within half a minute.
func (s *Session) Token(ctx context.Context) (string, error) { return s.a.access(ctx, s.r) }

// Refused renews the credential after the server refused token (401):
// the token expired early, or the reply of an earlier refresh was lost.
// When another request already renewed it, it does nothing. Call Token
// again for the new token.
func (s *Session) Refused(ctx context.Context, token string) error {
	return s.a.refresh(ctx, s.r, token)
}

// Credential returns a copy of the current credential.
func (s *Session) Credential() Credential {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	return *s.a.cred
}
