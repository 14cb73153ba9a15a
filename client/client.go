// Package client is the Outpost device library: a local SQLite store per
// (server, user, profile, app kind) that apps sharing a profile share, the
// first sync and delta sync against /api/sync/v1, a durable upload queue
// for offline creates, updates and deletes, the scheduler (per-table
// intervals, server-sent change hints, sync now) and the device status
// with its Connection.Sync state.
package client

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// Options configures a device. Dir, Server, AppID and Token or
// Credentials are required.
type Options struct {
	// Dir holds the device's stores and its app index.
	Dir string
	// Server is the base URL, such as http://127.0.0.1:8080.
	Server string
	// Token is a bearer token (an integration token); or else
	// Credentials holds the device credential from SignIn, which the
	// library refreshes as it expires.
	Token       string
	Credentials CredentialStore
	// Session, instead of Credentials, shares one device credential with
	// the app's other requests to the server (see Session).
	Session *Session
	// AppID is the offline app to open; it selects the profile and store.
	AppID string
	// HTTPClient; default http.DefaultClient.
	HTTPClient *http.Client
	// PageSize is rows per first-sync page; default 2000.
	PageSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
}

// Client is one open device store.
type Client struct {
	opts   Options
	r      *remote
	db     *sql.DB
	path   string
	logger *slog.Logger
	now    func() time.Time

	syncMu sync.Mutex // one sync at a time

	mu      sync.Mutex // guards the fields below and tables
	tables  map[string]*localTable
	info    storeInfo
	state   runState
	kick    chan struct{}
	hintsOK bool

	watchers watcherSet // the channels of Watch

	searchBuild searchBuild // tests tune search index builds
}

// storeInfo identifies the store.
type storeInfo struct {
	DeviceID       string `json:"deviceId"`
	UserID         string `json:"userId"`
	ProfileID      string `json:"profileId"`
	Kind           string `json:"kind"`
	ProfileVersion int64  `json:"profileVersion"`
}

// indexEntry maps (server, token or user, app) to a store, so apps open
// offline.
type indexEntry struct {
	Server, TokenHash, AppID string
	Store                    string
	Info                     storeInfo
	// UserID is the store's user, so that a revocation wipes every store
	// of the user.
	UserID string `json:",omitempty"`
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

func readIndex(dir string) ([]indexEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read device index: %w", err)
	}
	var idx []indexEntry
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("read device index: %w", err)
	}
	return idx, nil
}

func writeIndex(dir string, idx []indexEntry) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "index.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write device index: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "index.json"))
}

// Open opens the store of opts.AppID. The first open of an app needs the
// server: it registers the device and learns the app's profile; later
// opens work offline. Apps on the same profile (and of the same kind)
// share one store.
func Open(ctx context.Context, opts Options) (*Client, error) {
	if opts.Dir == "" || opts.Server == "" || (opts.Token == "" && opts.Credentials == nil && opts.Session == nil) || opts.AppID == "" {
		return nil, outpost.Invalidf("client options need Dir, Server, AppID and Token or Credentials")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create device directory: %w", err)
	}
	a := &auth{token: opts.Token, now: opts.Now}
	tokHash := hashOf(opts.Token)
	switch {
	case opts.Token != "":
	case opts.Session != nil:
		a = opts.Session.a
		if opts.Credentials == nil {
			opts.Credentials = a.store // a revocation deletes it
		}
		tokHash = hashOf("user", opts.Session.Credential().UserID)
	default:
		cred, err := opts.Credentials.Load(ctx)
		if err != nil {
			return nil, err
		}
		if cred == nil || !sameServer(cred.Server, opts.Server) {
			return nil, outpost.Unauthorizedf("this device is not signed in to %s: sign in first", opts.Server)
		}
		a.store, a.cred = opts.Credentials, cred
		tokHash = hashOf("user", cred.UserID)
	}
	c := &Client{opts: opts, r: &remote{base: opts.Server, auth: a, hc: opts.HTTPClient}, logger: logger, now: opts.Now,
		tables: map[string]*localTable{}, kick: make(chan struct{}, 1)}
	c.r.pending.Store(-1)
	idx, err := readIndex(opts.Dir)
	if err != nil {
		return nil, err
	}
	for _, e := range idx {
		if e.Server == opts.Server && e.TokenHash == tokHash && e.AppID == opts.AppID {
			c.path = filepath.Join(opts.Dir, e.Store)
		}
	}
	registered := c.path == ""
	if registered {
		if err := c.register(ctx, idx, tokHash); err != nil {
			if outpost.ErrorCode(err) == outpost.CodeDeviceRevoked {
				if c.db != nil {
					c.db.Close()
				}
				return nil, c.wipeRevoked(ctx, a.userID(), err)
			}
			return nil, err
		}
	}
	if c.db == nil {
		if c.db, err = openDB(ctx, c.path); err != nil {
			return nil, err
		}
	}
	if err := c.load(ctx); err != nil {
		return nil, errors.Join(err, c.db.Close())
	}
	if err := c.loadState(ctx); err != nil {
		return nil, errors.Join(err, c.db.Close())
	}
	if registered {
		// The server just answered the open.
		c.mu.Lock()
		c.contact(true)
		c.saveState()
		c.mu.Unlock()
	}
	return c, nil
}

// register opens the app on the server for the first time on this device.
func (c *Client) register(ctx context.Context, idx []indexEntry, tokHash string) error {
	var resp wire.OpenResponse
	probe := outpost.NewID()
	if err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/open", wire.OpenRequest{DeviceID: probe, AppID: c.opts.AppID}, &resp); err != nil {
		if errors.Is(err, ErrUnreachable) {
			return fmt.Errorf("open app %s: the first open needs the server: %w", c.opts.AppID, err)
		}
		return err
	}
	name := "store-" + hashOf(c.opts.Server, resp.UserID, resp.ProfileID, resp.Kind) + ".db"
	c.path = filepath.Join(c.opts.Dir, name)
	db, err := openDB(ctx, c.path)
	if err != nil {
		return err
	}
	c.db = db
	dev, err := getMeta(ctx, db, "deviceid")
	if err != nil {
		return err
	}
	if dev == "" {
		// A new store: the probe registration is this device.
		info := storeInfo{DeviceID: probe, UserID: resp.UserID, ProfileID: resp.ProfileID, Kind: resp.Kind, ProfileVersion: resp.ProfileVersion}
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			for k, v := range map[string]string{"deviceid": info.DeviceID, "userid": info.UserID, "profileid": info.ProfileID, "kind": info.Kind,
				"profileversion": fmt.Sprint(info.ProfileVersion), "server": c.opts.Server} {
				if err := setMeta(ctx, tx, k, v); err != nil {
					return err
				}
			}
			return c.applyTables(ctx, tx, resp.Tables)
		})
		if err != nil {
			return err
		}
	} else if err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/open", wire.OpenRequest{DeviceID: dev, AppID: c.opts.AppID}, &resp); err != nil {
		return err
	}
	idx = append(idx, indexEntry{Server: c.opts.Server, TokenHash: tokHash, AppID: c.opts.AppID, Store: name, UserID: resp.UserID})
	return writeIndex(c.opts.Dir, idx)
}

// load reads the store's identity and table definitions.
func (c *Client) load(ctx context.Context) error {
	var info storeInfo
	for key, dst := range map[string]*string{"deviceid": &info.DeviceID, "userid": &info.UserID, "profileid": &info.ProfileID, "kind": &info.Kind} {
		v, err := getMeta(ctx, c.db, key)
		if err != nil {
			return err
		}
		*dst = v
	}
	pv, _ := getMeta(ctx, c.db, "profileversion")
	fmt.Sscan(pv, &info.ProfileVersion)
	rows, err := c.db.QueryContext(ctx, `SELECT def FROM outpost_table ORDER BY name`)
	if err != nil {
		return fmt.Errorf("load tables: %w", err)
	}
	defer rows.Close()
	tables := map[string]*localTable{}
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return err
		}
		var wt wire.Table
		if err := json.Unmarshal([]byte(def), &wt); err != nil {
			return fmt.Errorf("load tables: %w", err)
		}
		tables[wt.Name] = newLocalTable(wt)
	}
	c.mu.Lock()
	c.info, c.tables = info, tables
	c.mu.Unlock()
	return rows.Err()
}

// applyTables makes the local tables match defs: new tables are created
// for a first sync, tables whose columns changed are recreated, tables no
// longer in the plan are dropped; unchanged tables keep their rows.
func (c *Client) applyTables(ctx context.Context, tx *sql.Tx, defs []wire.Table) error {
	cur := map[string]wire.Table{}
	rows, err := tx.QueryContext(ctx, `SELECT def FROM outpost_table`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var def string
		var wt wire.Table
		if err := rows.Scan(&def); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(def), &wt); err != nil {
			rows.Close()
			return err
		}
		cur[wt.Name] = wt
	}
	rows.Close()
	keep := map[string]bool{}
	for _, d := range defs {
		keep[d.Name] = true
		b, _ := json.Marshal(d)
		if old, ok := cur[d.Name]; ok && sameShape(old, d) {
			if _, err := tx.ExecContext(ctx, `UPDATE outpost_table SET def = ? WHERE name = ?`, string(b), d.Name); err != nil {
				return err
			}
			continue
		}
		if err := dropTable(ctx, tx, d.Name); err != nil {
			return err
		}
		lt := newLocalTable(d)
		// The table only: indexes come after the first sync's bulk load.
		if _, err := tx.ExecContext(ctx, sqlgen.SQLite.CreateTable(lt.t)[0]); err != nil {
			return fmt.Errorf("create local table %s: %w", d.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_table (name, def) VALUES (?, ?)`, d.Name, string(b)); err != nil {
			return err
		}
	}
	for name := range cur {
		if !keep[name] {
			if err := dropTable(ctx, tx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

func dropTable(ctx context.Context, tx *sql.Tx, name string) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+sqlgen.SQLite.Quote(name)); err != nil {
		return fmt.Errorf("drop local table %s: %w", name, err)
	}
	if err := dropSearchIndex(ctx, tx, name); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM outpost_table WHERE name = ?`, name)
	return err
}

// Close closes the store.
func (c *Client) Close() error { return c.db.Close() }

// DeviceID returns the device id of the store.
func (c *Client) DeviceID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info.DeviceID
}

// UserID returns the id of the store's user.
func (c *Client) UserID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info.UserID
}

// Path returns the store's file.
func (c *Client) Path() string { return c.path }

// Traffic returns the body bytes sent to and received from the server
// since Open.
func (c *Client) Traffic() (sent, received int64) { return c.r.sent.Load(), c.r.received.Load() }

func (c *Client) table(name string) (*localTable, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, ok := c.tables[name]
	if !ok {
		return nil, outpost.NotFoundf("table %q is not in this app's offline profile", name).WithTarget("table")
	}
	return lt, nil
}

// Tables returns the names of the store's tables, sorted.
func (c *Client) Tables() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.tables))
	for n := range c.tables {
		out = append(out, n)
	}
	sortStrings(out)
	return out
}
