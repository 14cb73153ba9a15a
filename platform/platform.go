// Package platform is the Outpost server core: metadata (tables, columns,
// relationships) kept in step with the physical SQL tables, the data
// operations with their type checks, ownership and privilege checks, change
// tracking with tombstones, and identity (users, teams, business units,
// roles, tokens). It runs on either engine through store.DB.
package platform

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// Options tunes a Platform. The zero value is ready to use.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default discards.
	Logger *slog.Logger
	// MaxFileBytes limits one file of a file column; default 32 MiB.
	MaxFileBytes int64
	// MaxImageBytes limits one image of an image column; default 10 MiB.
	MaxImageBytes int64
	// PasswordCost is the bcrypt cost of new password hashes; default 12.
	PasswordCost int
	// AccessTokenLifetime and RefreshTokenLifetime bound device
	// credentials; defaults 15 minutes and 30 days.
	AccessTokenLifetime, RefreshTokenLifetime time.Duration
	// SessionLifetime bounds a browser session; default 12 hours.
	SessionLifetime time.Duration
	// Files keeps the content of new files and images outside the
	// database; nil keeps it in the database (outpost_file.content).
	// Content stored before (in the database, or in a store of another
	// kind) stays readable where it is: the database records where each
	// file's content lives.
	Files filestore.Store
}

// Platform is the server core over one database.
type Platform struct {
	db *store.DB
	// oneStatementCreates counts the creates that ran as one statement
	// (createone.go).
	oneStatementCreates atomic.Uint64
	now                 func() time.Time
	logger              *slog.Logger
	// maxFile and maxImage are the per-file size limits (Options).
	maxFile, maxImage int64
	// files is the file store (Options.Files); nil for the database.
	files filestore.Store
	// passwordCost and the lifetimes are the sign-in settings (Options).
	passwordCost                      int
	accessTTL, refreshTTL, sessionTTL time.Duration
	// contacts remembers when each signed-in device's contact was last
	// written (devices.go).
	contacts sync.Map

	// metaMu serialises metadata changes; mu guards the schema pointer.
	metaMu sync.Mutex
	mu     sync.RWMutex
	schema *schema.Schema
	// tokens caches the user of a valid token by token hash (identity.go);
	// tokenEpoch moves when tokens are revoked.
	tokens     sync.Map
	tokenEpoch atomic.Uint64
	// byUser caches principals by user id, tagged with the security log
	// version they were loaded at (principal.go).
	byUser sync.Map
	// origin identifies this server in commit notices to the others.
	origin string
	// hooks run after a write transaction commits, with the tables it touched.
	hooksMu sync.RWMutex
	hooks   []func(tables []string)
	// announcer sends data commits' notices after they commit (notify.go).
	announcer announcer
	// group queues concurrent writes on SQLite for one transaction
	// (group.go).
	group writeGroup
}

// RootBusinessUnitName is the name of the business unit at the top of the tree.
const RootBusinessUnitName = "Root"

// Open loads (or, on a new database, creates) the environment: built-in
// tables, predefined roles and the root business unit.
func Open(ctx context.Context, db *store.DB, opts Options) (*Platform, error) {
	p := &Platform{db: db, now: opts.Now, logger: opts.Logger, origin: outpost.NewID(), maxFile: opts.MaxFileBytes, maxImage: opts.MaxImageBytes, files: opts.Files}
	if p.maxFile <= 0 {
		p.maxFile = DefaultMaxFileBytes
	}
	if p.maxImage <= 0 {
		p.maxImage = DefaultMaxImageBytes
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.passwordCost, p.accessTTL, p.refreshTTL, p.sessionTTL = opts.PasswordCost, opts.AccessTokenLifetime, opts.RefreshTokenLifetime, opts.SessionLifetime
	if p.passwordCost == 0 {
		p.passwordCost = 12
	}
	if p.accessTTL <= 0 {
		p.accessTTL = 15 * time.Minute
	}
	if p.refreshTTL <= 0 {
		p.refreshTTL = 30 * 24 * time.Hour
	}
	if p.sessionTTL <= 0 {
		p.sessionTTL = 12 * time.Hour
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if err := p.bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("bootstrap environment: %w", err)
	}
	return p, nil
}

// Files returns the file store new content goes to; nil for the database.
func (p *Platform) Files() filestore.Store { return p.files }

// DB returns the underlying database handle.
func (p *Platform) DB() *store.DB { return p.db }

// Now returns the platform clock's time.
func (p *Platform) Now() time.Time { return p.now().UTC().Truncate(time.Millisecond) }

// Schema returns the current metadata.
func (p *Platform) Schema() *schema.Schema {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.schema
}

// OnCommit registers fn to run after every committed write, with the names
// of the tables the write touched. fn must not block.
func (p *Platform) OnCommit(fn func(tables []string)) {
	p.hooksMu.Lock()
	defer p.hooksMu.Unlock()
	p.hooks = append(p.hooks, fn)
}

func (p *Platform) notify(tables []string) {
	p.hooksMu.RLock()
	defer p.hooksMu.RUnlock()
	for _, h := range p.hooks {
		h(tables)
	}
}

func (p *Platform) bootstrap(ctx context.Context) error {
	sch, err := p.loadSchema(ctx)
	if err != nil {
		return err
	}
	if sch != nil {
		p.schema = sch
		return nil
	}
	// A new environment: create the built-in tables and seed the predefined
	// rows, once, under the start-up lock (several servers may start
	// together on one new database).
	builtin := schema.BuiltIn()
	bootstrapped := false
	err = p.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := store.LockStartup(ctx, p.db, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outpost_meta`).Scan(&n); err != nil {
			return fmt.Errorf("look for metadata: %w", err)
		}
		if n > 0 {
			bootstrapped = true // another server did it while this one waited
			return nil
		}
		for _, t := range builtin.Tables() {
			if err := p.saveTable(ctx, tx, t, true); err != nil {
				return err
			}
		}
		for _, d := range builtin.ManyToMany() {
			if err := saveMeta(ctx, p.db, tx, "nn", d.Name, d); err != nil {
				return err
			}
		}
		p.schema = builtin
		v, err := p.db.NextVersion(ctx, tx)
		if err != nil {
			return err
		}
		now := p.Now()
		root := outpost.NewID()
		bu := builtin.MustTable("businessunit")
		if _, err := p.insertRow(ctx, tx, bu, outpost.Row{"businessunitid": root, "name": RootBusinessUnitName}, v, "", now); err != nil {
			return err
		}
		for _, r := range security.PredefinedRoles() {
			row := outpost.Row{"roleid": r.ID, "name": r.Name, "description": r.Description, "businessunitid": root, schema.ColOwningBusinessUnit: root}
			if _, err := p.insertRow(ctx, tx, builtin.MustTable("role"), row, v, "", now); err != nil {
				return err
			}
			if err := p.setRolePrivileges(ctx, tx, r.ID, r.Grants); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !bootstrapped {
		return err
	}
	if sch, err = p.loadSchema(ctx); err != nil {
		return err
	}
	p.schema = sch
	return nil
}

func (p *Platform) loadSchema(ctx context.Context) (*schema.Schema, error) {
	rows, err := p.db.Read.QueryContext(ctx, `SELECT kind, definition FROM outpost_meta ORDER BY kind, name`)
	if err != nil {
		return nil, fmt.Errorf("load metadata: %w", err)
	}
	defer rows.Close()
	var tables []*schema.Table
	var nn []schema.ManyToManyDef
	for rows.Next() {
		var kind, def string
		if err := rows.Scan(&kind, &def); err != nil {
			return nil, fmt.Errorf("load metadata: %w", err)
		}
		switch kind {
		case "table":
			var t schema.Table
			if err := json.Unmarshal([]byte(def), &t); err != nil {
				return nil, fmt.Errorf("load metadata: decode table: %w", err)
			}
			tables = append(tables, &t)
		case "nn":
			var d schema.ManyToManyDef
			if err := json.Unmarshal([]byte(def), &d); err != nil {
				return nil, fmt.Errorf("load metadata: decode relationship: %w", err)
			}
			nn = append(nn, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load metadata: %w", err)
	}
	if len(tables) == 0 {
		return nil, nil
	}
	s, err := schema.New(tables, nn)
	if err != nil {
		return nil, fmt.Errorf("load metadata: %w", err)
	}
	return s, nil
}

// Reload rereads the metadata from the database; other servers sharing a
// PostgreSQL database call it to pick up changes.
func (p *Platform) Reload(ctx context.Context) error {
	s, err := p.loadSchema(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		return errors.New("reload metadata: the database holds no environment")
	}
	p.mu.Lock()
	p.schema = s
	p.mu.Unlock()
	return nil
}

func saveMeta(ctx context.Context, db *store.DB, tx *sql.Tx, kind, name string, v any) error {
	def, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, name, err)
	}
	d := db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`INSERT INTO outpost_meta (kind, name, definition) VALUES (`).Args(kind, name, string(def)).
		SQL(`) ON CONFLICT (kind, name) DO UPDATE SET definition = excluded.definition`).Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("save %s %s: %w", kind, name, err)
	}
	return nil
}

// saveTable records t's metadata and, when create is set, creates its
// physical table and indexes.
func (p *Platform) saveTable(ctx context.Context, tx *sql.Tx, t *schema.Table, create bool) error {
	if create {
		// The DDL says IF NOT EXISTS; a table the metadata does not know
		// must not be taken over silently.
		if err := p.checkNoPhysicalTable(ctx, tx, t.Name); err != nil {
			return err
		}
		for _, stmt := range p.db.Dialect.CreateTable(t) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create table %s: %w", t.Name, err)
			}
		}
	}
	return saveMeta(ctx, p.db, tx, "table", t.Name, t)
}

// checkNoPhysicalTable refuses to create a table whose name a table or view
// of the database already has.
func (p *Platform) checkNoPhysicalTable(ctx context.Context, tx *sql.Tx, name string) error {
	q := `SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?`
	if p.db.Dialect.IsPostgres() {
		q = `SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = $1`
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return fmt.Errorf("look for table %s: %w", name, err)
	}
	if n > 0 {
		return outpost.Conflictf("a table %q already exists in the database outside Outpost's metadata: choose another name", name).WithTarget("name")
	}
	return nil
}
