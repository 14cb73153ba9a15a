package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
	"github.com/outposthq/outpost/store/sqlite"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/ui"
)

// dbFlags are the flags that choose the database and the file store.
type dbFlags struct {
	data  string
	db    string
	files string
}

func (f *dbFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	def := getenv("OUTPOST_DATA")
	if def == "" {
		def = "outpost-data"
	}
	fs.StringVar(&f.data, "data", def, "data directory of the embedded SQLite store ($OUTPOST_DATA)")
	fs.StringVar(&f.db, "db", getenv("OUTPOST_DB"), "PostgreSQL URL, postgres://user@host/db; overrides --data ($OUTPOST_DB)")
	fs.StringVar(&f.files, "files", getenv("OUTPOST_FILES"), "where file and image content is kept: dir:PATH, s3://BUCKET[/PREFIX]?endpoint=URL&region=R (credentials from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY) or db (in the database); default dir:DATA/files with --data, db with --db ($OUTPOST_FILES)")
}

// fileSpec returns the file store setting, with its default.
func (f *dbFlags) fileSpec() (filestore.Spec, error) {
	switch {
	case f.files != "":
		return filestore.ParseSpec(f.files)
	case f.db != "":
		return filestore.Spec{Kind: "db"}, nil
	}
	return filestore.Spec{Kind: "dir", Path: filepath.Join(f.data, "files")}, nil
}

// fileStore opens the file store; nil when content stays in the database.
func (f *dbFlags) fileStore(ctx context.Context, getenv func(string) string) (filestore.Store, error) {
	spec, err := f.fileSpec()
	if err != nil {
		return nil, fmt.Errorf("--files: %w", err)
	}
	return filestore.Open(ctx, spec, getenv)
}

// describeFiles names the file store for the start-up log.
func describeFiles(st filestore.Store) string {
	if st == nil {
		return "db"
	}
	return st.String()
}

func (f *dbFlags) open(ctx context.Context) (*store.DB, error) {
	if f.db != "" {
		return postgres.Open(ctx, f.db)
	}
	return sqlite.Open(ctx, f.data)
}

func (f *dbFlags) describe() string {
	if f.db != "" {
		return "postgres"
	}
	return "sqlite:" + f.data
}

// serveConfig is outpost serve's parsed command line.
type serveConfig struct {
	dbf         dbFlags
	addr, level string
	lim         limitFlags
	oidcf       oidcFlags
}

// parseServe parses serve's flags, each one also read from its
// environment variable (applyEnv) when not on the command line.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	fs := commandFlags("serve", stderr, "Usage: outpost serve [flags]\n\nServes the Outpost API, the maker portal and the sync protocol.\n\nFlags:\n", envUsage)
	c.dbf.register(fs, getenv)
	fs.StringVar(&c.addr, "addr", envOr(getenv, "OUTPOST_ADDR", ":8080"), "address to listen on ($OUTPOST_ADDR)")
	fs.StringVar(&c.level, "log-level", "info", "log level: debug, info, warn or error")
	c.lim.register(fs)
	c.lim.metrics.register(fs, getenv)
	c.oidcf.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := applyEnv(fs, getenv); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("outpost serve: unexpected argument %q", fs.Arg(0))
	}
	if err := c.lim.srv.check(); err != nil {
		return nil, err
	}
	if err := c.lim.metrics.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	dbf, lim, oidcf, addr, level := c.dbf, c.lim, c.oidcf, &c.addr, &c.level
	logger, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	if dbf.db == "" {
		release, err := sqlite.Hold(dbf.data)
		if err != nil {
			return err
		}
		defer release()
	}
	db, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	lim.srv.applyPool(db)
	files, err := dbf.fileStore(ctx, getenv)
	if err != nil {
		return err
	}
	p, err := platform.Open(ctx, db, lim.platformOptions(platform.Options{Logger: logger, Files: files}))
	if err != nil {
		return err
	}
	oidc, err := oidcf.options(ctx, p)
	if err != nil {
		return err
	}
	return serve(ctx, p, *addr, logger, lim, oidc, func(a net.Addr) {
		logger.Info("serving", "addr", a.String(), "store", dbf.describe(), "files", describeFiles(files))
	})
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// serve runs the HTTP API on addr until ctx is done, then shuts down
// gracefully. ready is called with the bound address.
// oidc, when not nil, turns on single sign-on.
func serve(ctx context.Context, p *platform.Platform, addr string, logger *slog.Logger, lim limitFlags, oidc *httpapi.OIDCOptions, ready func(net.Addr)) error {
	profiles := apps.New(p)
	so := syncsrv.Options{Logger: logger}
	ho := httpapi.Options{Logger: logger, Profiles: profiles, OIDC: oidc, Portal: ui.Portal}
	lim.apply(&so, &ho)
	engine := syncsrv.New(p, profiles, so)
	ho.Sync = engine
	hs := httpapi.New(p, ho)
	api, err := lim.web.wrap(hs)
	if err != nil {
		return err
	}
	stopMetrics, err := lim.metrics.serveMetrics(ctx, hs, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := lim.srv.httpServer(api)
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv.RegisterOnShutdown(engine.CloseStreams) // event streams never end by themselves
	errc := make(chan error, 1)
	go func() { errc <- lim.web.serve(srv, ln) }()
	// The janitor and the commit listener run until the server has shut
	// down (requests in flight still get notices), and runServe waits for
	// both before the database closes.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	defer func() { stopBG(); background.Wait() }()
	// Tombstones and the scope log are pruned past the token lifetime.
	background.Go(func() { engine.RunJanitor(bg, 10*time.Minute) })
	// Other servers on the same PostgreSQL database announce their commits;
	// relay them to this server's devices and caches.
	background.Go(func() {
		followCommits(bg, func(ctx context.Context) error { return p.Listen(ctx, nil) }, logger, time.Second)
	})
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lim.srv.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// followCommits runs listen until ctx ends, starting it again after a
// failure (a dropped database connection) with a growing pause, so that a
// server never silently stops hearing the commits of the others.
func followCommits(ctx context.Context, listen func(context.Context) error, logger *slog.Logger, pause time.Duration) {
	for {
		err := listen(ctx)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("commit notifications stopped; listening again", "err", err, "in", pause.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}
