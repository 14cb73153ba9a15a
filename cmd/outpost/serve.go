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
	"time"

	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
	"github.com/outposthq/outpost/store/sqlite"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/ui"
)

// dbFlags are the flags that choose the database.
type dbFlags struct {
	data string
	db   string
}

func (f *dbFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	def := getenv("OUTPOST_DATA")
	if def == "" {
		def = "outpost-data"
	}
	fs.StringVar(&f.data, "data", def, "data directory of the embedded SQLite store ($OUTPOST_DATA)")
	fs.StringVar(&f.db, "db", getenv("OUTPOST_DB"), "PostgreSQL URL, postgres://user@host/db; overrides --data ($OUTPOST_DB)")
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

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dbf dbFlags
	dbf.register(fs, getenv)
	addr := fs.String("addr", envOr(getenv, "OUTPOST_ADDR", ":8080"), "address to listen on ($OUTPOST_ADDR)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	var lim limitFlags
	lim.register(fs)
	lim.metrics.register(fs, getenv)
	var oidcf oidcFlags
	oidcf.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := lim.metrics.check(); err != nil {
		return err
	}
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
	p, err := platform.Open(ctx, db, lim.platformOptions(platform.Options{Logger: logger}))
	if err != nil {
		return err
	}
	oidc, err := oidcf.options(ctx, p)
	if err != nil {
		return err
	}
	return serve(ctx, p, *addr, logger, lim, oidc, func(a net.Addr) {
		logger.Info("serving", "addr", a.String(), "store", dbf.describe())
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
	profiles := profile.New(p, profile.Options{})
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
	srv := &http.Server{Handler: api, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(engine.CloseStreams) // event streams never end by themselves
	errc := make(chan error, 1)
	go func() { errc <- lim.web.serve(srv, ln) }()
	// Tombstones and the scope log are pruned past the token lifetime.
	go engine.RunJanitor(ctx, 10*time.Minute)
	// Other servers on the same PostgreSQL database announce their commits;
	// relay them to this server's devices and caches.
	go func() {
		if err := p.Listen(ctx, nil); err != nil && ctx.Err() == nil {
			logger.Warn("commit notifications stopped", "err", err)
		}
	}()
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
