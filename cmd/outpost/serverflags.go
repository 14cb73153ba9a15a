package main

import (
	"flag"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store"
)

// Server settings of outpost serve and outpost demo: HTTP timeouts, the
// shutdown grace, the database pool sizes and the sign-in credential
// lifetimes (docs/production.md, "Flags and environment variables").
// The defaults are the values these had before they were flags.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 5 * time.Minute
	defaultWriteTimeout      = 5 * time.Minute
	defaultIdleTimeout       = 2 * time.Minute
	defaultShutdownGrace     = 15 * time.Second
	defaultPostgresConns     = 32
)

// defaultSQLiteReaders is the embedded store's reader pool size.
func defaultSQLiteReaders() int { return max(4, runtime.NumCPU()*2) }

// serverFlags are the server settings (see the constants above).
type serverFlags struct {
	readHeaderTimeout, readTimeout, writeTimeout, idleTimeout time.Duration
	shutdownGrace                                             time.Duration
	dbMaxConns, sqliteReaders                                 int
	accessTTL, refreshTTL, sessionTTL                         time.Duration
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.readHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "how long a client may take to send a request's headers")
	fs.DurationVar(&f.readTimeout, "read-timeout", defaultReadTimeout, "how long a client may take to send a whole request, file uploads included")
	fs.DurationVar(&f.writeTimeout, "write-timeout", defaultWriteTimeout, "how long writing an ordinary reply may take (snapshot and change streams use --stream-write-timeout per write instead)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", defaultIdleTimeout, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", defaultShutdownGrace, "how long requests in flight may finish after SIGTERM")
	fs.IntVar(&f.dbMaxConns, "db-max-conns", defaultPostgresConns, "PostgreSQL connections this server opens at most (size max_connections for all servers)")
	fs.IntVar(&f.sqliteReaders, "sqlite-readers", defaultSQLiteReaders(), "reader connections of the embedded SQLite store (it has one writer)")
	fs.DurationVar(&f.accessTTL, "access-token-lifetime", 15*time.Minute, "lifetime of a signed-in device's access token")
	fs.DurationVar(&f.refreshTTL, "refresh-token-lifetime", 30*24*time.Hour, "lifetime of a signed-in device's refresh token (how long a device may stay offline and still refresh)")
	fs.DurationVar(&f.sessionTTL, "session-lifetime", 12*time.Hour, "lifetime of a browser session (portal, player)")
}

// check refuses settings that cannot work.
func (f *serverFlags) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read-header-timeout", f.readHeaderTimeout}, {"read-timeout", f.readTimeout}, {"write-timeout", f.writeTimeout}, {"idle-timeout", f.idleTimeout},
		{"access-token-lifetime", f.accessTTL}, {"refresh-token-lifetime", f.refreshTTL}, {"session-lifetime", f.sessionTTL}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s takes a positive duration such as 30s or 5m, got %s", d.name, d.v)
		}
	}
	if f.shutdownGrace < 0 {
		return fmt.Errorf("--shutdown-grace takes a duration of 0s or more, got %s", f.shutdownGrace)
	}
	if f.dbMaxConns < 2 || f.sqliteReaders < 1 {
		return fmt.Errorf("--db-max-conns takes 2 or more (got %d) and --sqlite-readers 1 or more (got %d)", f.dbMaxConns, f.sqliteReaders)
	}
	if f.refreshTTL < f.accessTTL {
		return fmt.Errorf("--refresh-token-lifetime (%s) must not be shorter than --access-token-lifetime (%s)", f.refreshTTL, f.accessTTL)
	}
	return nil
}

// applyPool sizes db's connection pools.
func (f *serverFlags) applyPool(db *store.DB) {
	if db.Dialect.IsPostgres() {
		db.Write.SetMaxOpenConns(f.dbMaxConns)
		db.Write.SetMaxIdleConns(f.dbMaxConns)
		return
	}
	db.Read.SetMaxOpenConns(f.sqliteReaders)
	db.Read.SetMaxIdleConns(f.sqliteReaders)
}

// platformOptions sets the credential lifetimes.
func (f *serverFlags) platformOptions(po platform.Options) platform.Options {
	po.AccessTokenLifetime, po.RefreshTokenLifetime, po.SessionLifetime = f.accessTTL, f.refreshTTL, f.sessionTTL
	return po
}

// httpServer returns the HTTP server with the timeouts.
func (f *serverFlags) httpServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: f.readHeaderTimeout, ReadTimeout: f.readTimeout, WriteTimeout: f.writeTimeout, IdleTimeout: f.idleTimeout}
}

// envName is the environment variable of flag name: OUTPOST_ and the name
// in capitals with '_' for '-' (max-body-mib: OUTPOST_MAX_BODY_MIB).
func envName(name string) string {
	return "OUTPOST_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets every flag of fs not given on the command line from its
// environment variable (envName), when that is set: a flag wins over the
// environment, the environment over the default. Call it after Parse.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q (for --%s): %w", envName(f.Name), v, f.Name, serr)
		}
	})
	return err
}

// envUsage ends the help of a command whose flags read the environment.
const envUsage = "\nEvery flag may also be set by an environment variable: OUTPOST_ and the\nflag's name in capitals with _ for - (--max-body-mib: OUTPOST_MAX_BODY_MIB).\nA flag given on the command line wins over the environment.\n"
