// Package agent is the device agent's local HTTP API: the player (a web
// app in the user's browser) signs in, picks an offline app, reads and
// edits the local store and watches the sync status through it. All sync
// logic stays in package client; the agent holds one open client, runs its
// scheduler and translates between HTTP and the library.
//
// The API listens on the loopback interface only and is guarded like a
// desktop sync tool's GUI: a Host-header check against DNS rebinding, a
// per-launch secret handed over in the URL the agent prints and then kept
// in an HttpOnly cookie, and a CSRF token on every write. The types of the
// API are described once, in openapi.json; the player's TypeScript types
// are generated from it and a test checks the Go types against it.
package agent

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/outposthq/outpost/client"
)

// OpenAPI is the description of the local API.
//
//go:embed openapi.json
var OpenAPI []byte

// Cookie names: the session cookie carries the per-launch secret (HttpOnly,
// so page scripts never see it); the CSRF cookie is readable by the page,
// which echoes it in the X-Outpost-CSRF header of every write. Both names
// differ from the server's (outpost_session, outpost_csrf): cookies are
// shared by every port of a host, so a player and a portal on 127.0.0.1
// in one browser must not overwrite each other's.
const (
	SessionCookie = "outpost_agent"
	CSRFCookie    = "outpost_agent_csrf"
	CSRFHeader    = "X-Outpost-CSRF"
)

// Options configures an agent. Home is required.
type Options struct {
	// Home is the device directory: config.json, stores/ and apps/.
	Home string
	// UI is the player's static files (index.html at the root); nil serves
	// a page saying the binary was built without the UI.
	UI fs.FS
	// HTTPClient reaches the server; default http.DefaultClient.
	HTTPClient *http.Client
	// RetryAfter is the scheduler's wait after a failed sync; default 30 s.
	RetryAfter time.Duration
	// SearchCountCap is how far a quick search counts its matches for the
	// pager before it answers "at least": default 5,000 (as Dataverse's
	// "5000+"); the count goes on in steps of it as the pages pass it.
	SearchCountCap int
	Logger         *slog.Logger
}

// DefaultSearchCountCap is the default of Options.SearchCountCap.
const DefaultSearchCountCap = 5000

func (a *Agent) searchCountCap() int {
	if a.opts.SearchCountCap > 0 {
		return a.opts.SearchCountCap
	}
	return DefaultSearchCountCap
}

// Agent serves the local API for one device directory.
type Agent struct {
	opts   Options
	secret string
	csrf   string
	logger *slog.Logger

	// life ends when Close begins: it cuts what holds mu for long (an app
	// being opened over a slow link) so that Close gets it promptly.
	life context.Context
	quit context.CancelFunc

	mu     sync.Mutex
	cfg    config
	dev    *client.Client
	app    *AppDefinition
	run    context.Context // the open app's, ended by stop
	stop   context.CancelFunc
	done   chan struct{}
	bg     sync.WaitGroup  // syncs started beside the scheduler (Refresh)
	addrs  map[string]bool // Host values accepted
	closed bool

	// sso is the single sign-on in progress, signInError why the last one
	// failed.
	sso         *ssoPending
	signInError string
}

// config is what the agent (and the device CLI) keep in Home/config.json.
type config struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	App    string `json:"app"`
	// User is the display name the server gave at sign-in.
	User string `json:"user,omitempty"`
	// sess is the device credential of a password sign-in (no Token):
	// it lives in credential.json, not here.
	sess *client.Session
}

// signedIn reports whether c holds a sign-in.
func (c config) signedIn() bool { return c.Token != "" || c.sess != nil }

// credentials is the password sign-in's device credential file (0600),
// the one the device command line uses.
func (a *Agent) credentials() client.FileCredentials {
	return client.FileCredentials{Path: filepath.Join(a.opts.Home, "credential.json")}
}

// New prepares an agent over opts.Home; it opens the remembered app, if
// any, and starts its scheduler.
func New(ctx context.Context, opts Options) (*Agent, error) {
	if opts.Home == "" {
		return nil, errors.New("agent: Options.Home is required")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Agent{opts: opts, secret: randomToken(), csrf: randomToken(), logger: opts.Logger, addrs: map[string]bool{}}
	a.life, a.quit = context.WithCancel(context.Background())
	if err := a.loadConfig(); err != nil {
		return nil, err
	}
	if a.cfg.Server != "" && a.cfg.Token == "" {
		// A password sign-in: its credential, when there is one.
		if sess, err := client.NewSession(ctx, a.cfg.Server, opts.HTTPClient, a.credentials(), nil); err == nil {
			a.cfg.sess = sess
		}
	}
	if a.cfg.signedIn() && a.cfg.App != "" {
		if err := a.openApp(ctx, a.cfg.App); err != nil {
			// The app stays closed; the player shows the app picker.
			a.logger.WarnContext(ctx, "reopen app", "app", a.cfg.App, "err", err)
			a.cfg.App = ""
		}
	}
	return a, nil
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Listen opens the loopback listener at addr ("127.0.0.1:0" picks a
// port). Any other interface is refused: the agent is for this machine's
// browser only.
func (a *Agent) Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("agent address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("agent address %q: the agent listens on the loopback interface only (127.0.0.1)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	a.Allow(ln.Addr())
	return ln, nil
}

// Allow accepts Host headers naming addr (as 127.0.0.1:port and
// localhost:port); Listen calls it.
func (a *Agent) Allow(addr net.Addr) {
	_, port, _ := net.SplitHostPort(addr.String())
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		a.addrs[h+":"+port] = true
	}
}

// URL is the address to open in the browser: it carries the per-launch
// secret, which the agent swaps for a cookie at the first visit.
func (a *Agent) URL(addr net.Addr) string {
	return "http://" + addr.String() + "/?key=" + a.secret
}

// Close stops the scheduler and closes the store. A sync under way (a
// first sync too) is cancelled, not awaited; what it stored stays, and the
// next start resumes from there.
func (a *Agent) Close() error {
	a.quit()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	return a.closeApp()
}

// closeApp stops the scheduler and closes the store; a.mu is held.
func (a *Agent) closeApp() error {
	if a.dev == nil {
		return nil
	}
	a.stop()
	<-a.done
	a.bg.Wait()
	err := a.dev.Close()
	a.dev, a.app = nil, nil
	return err
}

func (a *Agent) loadConfig() error {
	b, err := os.ReadFile(filepath.Join(a.opts.Home, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read device settings: %w", err)
	}
	return json.Unmarshal(b, &a.cfg)
}

// saveConfig writes the settings; a.mu is held.
func (a *Agent) saveConfig() error {
	if err := os.MkdirAll(a.opts.Home, 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(a.cfg, "", "  ")
	tmp := filepath.Join(a.opts.Home, "config.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(a.opts.Home, "config.json"))
}

// Handler is the agent's whole HTTP surface: the player's files and the
// local API, behind the guards.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	a.routes(mux)
	mux.HandleFunc("GET "+canvasPrefix+"{key}/{path...}", a.canvasFile)
	mux.Handle("GET /", a.static())
	return a.guard(mux)
}

// guard applies the Host check, the secret handover and cookie, and the
// CSRF check, in that order.
func (a *Agent) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		hostOK := a.addrs[r.Host]
		a.mu.Unlock()
		if !hostOK {
			// A page on another name that resolves to 127.0.0.1 (DNS
			// rebinding) lands here.
			writeError(w, http.StatusMisdirectedRequest, "host", fmt.Sprintf("the device agent answers only to 127.0.0.1 and localhost, not %q", r.Host))
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		if key := r.URL.Query().Get("key"); key != "" && r.Method == http.MethodGet {
			if !equal(key, a.secret) {
				writeError(w, http.StatusForbidden, "key", "this link is from an earlier start of the device agent: open the link it printed last")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: a.secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: a.csrf, Path: "/", SameSite: http.SameSiteStrictMode})
			// Drop the key from the address bar and the history.
			u := *r.URL
			q := u.Query()
			q.Del("key")
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r) // the player's files hold no data
			return
		}
		if c, err := r.Cookie(SessionCookie); err != nil || !equal(c.Value, a.secret) {
			writeError(w, http.StatusUnauthorized, "session", "open the player with the link the device agent printed at start")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !equal(r.Header.Get(CSRFHeader), a.csrf) {
				writeError(w, http.StatusForbidden, CSRFHeader, "a write needs the "+CSRFHeader+" header with the value of the "+CSRFCookie+" cookie")
				return
			}
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
				writeError(w, http.StatusForbidden, "Origin", fmt.Sprintf("writes from %q are refused", o))
				return
			}
		}
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// static serves the player; every path that is not a file gets
// index.html, so the player's routes survive a reload.
func (a *Agent) static() http.Handler {
	if a.opts.UI == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "This outpost binary was built without the player (build tag no_ui). The local API is at /api/.")
		})
	}
	files := http.FileServerFS(a.opts.UI)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = "index.html"
		}
		if fi, err := fs.Stat(a.opts.UI, name); err != nil || fi.IsDir() {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
			name = "index.html"
		}
		if name == "index.html" {
			w.Header().Set("Cache-Control", "no-cache")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	})
}
