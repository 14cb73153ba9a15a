package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/store/postgres"
	"github.com/outposthq/outpost/store/sqlite"
	"github.com/outposthq/outpost/syncsrv"
)

// binary is the outpost binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(deviceHelper())
	}
	dir, err := os.MkdirTemp("", "outpost-loadtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "outpost")
	build := exec.Command("go", "build", "-o", binary, "github.com/outposthq/outpost/cmd/outpost")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build outpost:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is a seeded store — a data directory, or a PostgreSQL schema when
// db is set — and the users' tokens.
type world struct {
	dir    string
	db     string
	app    string
	tokens []string // the four technicians
	users  []string
}

// engines returns the engines the tests run on: SQLite, and PostgreSQL
// when OUTPOST_TEST_POSTGRES is set (CI requires it).
func engines(t *testing.T) []string {
	out := []string{}
	for _, e := range testenv.Engines(t) {
		out = append(out, e.Name)
	}
	return out
}

// forEngines runs fn as a subtest per engine.
func forEngines(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range engines(t) {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

// open opens the world's store.
func (w *world) open(ctx context.Context) (*store.DB, error) {
	if w.db != "" {
		return postgres.Open(ctx, w.db)
	}
	return sqlite.Open(ctx, w.dir)
}

// newWorld seeds the demo environment (accounts per technician) in a new
// store of engine and issues the technicians' tokens.
func newWorld(t testing.TB, engine string, accounts int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{dir: t.TempDir()}
	if engine == "postgres" {
		w.db = testenv.PostgresURL(t)
	}
	db, err := w.open(ctx)
	testenv.Must(t, err)
	defer db.Close()
	p, err := platform.Open(ctx, db, platform.Options{})
	testenv.Must(t, err)
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: accounts})
	testenv.Must(t, err)
	w.app = env.ModelDrivenApp
	for _, u := range env.Technicians {
		tok, err := p.IssueToken(ctx, platform.System(), u.ID, "loadtest")
		testenv.Must(t, err)
		w.tokens, w.users = append(w.tokens, tok), append(w.users, u.ID)
	}
	return w
}

// server is an "outpost serve" process on a fixed loopback port, so that
// devices reach it again after a restart.
type server struct {
	t    testing.TB
	w    *world
	addr string
	cmd  *exec.Cmd
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startServer starts the server on w's store and waits until it answers.
func startServer(t testing.TB, w *world) *server {
	t.Helper()
	s := &server{t: t, w: w, addr: freeAddr(t)}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *server) url() string { return "http://" + s.addr }

func (s *server) start() {
	s.t.Helper()
	where := []string{"--data", s.w.dir}
	if s.w.db != "" {
		where = []string{"--db", s.w.db}
	}
	s.cmd = exec.Command(binary, append(append([]string{"serve"}, where...), "--addr", s.addr, "--log-level", "error")...)
	s.cmd.Stderr = os.Stderr
	testenv.Must(s.t, s.cmd.Start())
	err := waitFor(60*time.Second, func() error {
		resp, err := http.Get(s.url() + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthz: %s", resp.Status)
		}
		return nil
	})
	testenv.Must(s.t, err)
}

// kill stops the server with SIGKILL: no shutdown, no flush.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// rss returns the server's resident memory in bytes.
func (s *server) rss() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// waitFor retries fn until it returns nil or timeout passes.
func waitFor(timeout time.Duration, fn func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openDevice opens a device of user i on url in dir.
func openDevice(t testing.TB, w *world, i int, url, dir string, tr http.RoundTripper) *client.Client {
	t.Helper()
	var c *client.Client
	err := waitFor(60*time.Second, func() error {
		var err error
		c, err = client.Open(context.Background(), client.Options{Dir: dir, Server: url, Token: w.tokens[i], AppID: w.app, PageSize: 50,
			HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second}})
		return err
	})
	testenv.Must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// syncUntilDone retries a sync until it succeeds.
func syncUntilDone(t testing.TB, c *client.Client) {
	t.Helper()
	err := waitFor(60*time.Second, func() error {
		_, err := c.Sync(context.Background(), client.SyncOptions{})
		return err
	})
	testenv.Must(t, err)
}

// checker opens the server's store in this process (on SQLite the server
// must be stopped) to compare devices with their download plans.
type checker struct {
	p   *platform.Platform
	eng *syncsrv.Engine
}

func withChecker(t testing.TB, w *world, fn func(ck *checker)) {
	t.Helper()
	ctx := context.Background()
	db, err := w.open(ctx)
	testenv.Must(t, err)
	defer db.Close()
	p, err := platform.Open(ctx, db, platform.Options{})
	testenv.Must(t, err)
	fn(&checker{p: p, eng: syncsrv.New(p, apps.New(p), syncsrv.Options{})})
}

// converged fails unless device c of user holds exactly its plan.
func (ck *checker) converged(t testing.TB, user string, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	pr, err := ck.p.Principal(ctx, user)
	testenv.Must(t, err)
	want, err := ck.eng.Expected(ctx, pr, c.DeviceID())
	testenv.Must(t, err)
	for table, rows := range want {
		got, err := c.Rows(ctx, table)
		testenv.Must(t, err)
		if diff := cmp.Diff(rows, got); diff != "" {
			t.Fatalf("device %s, table %s differs from its plan (-want +got):\n%s", c.DeviceID(), table, diff)
		}
	}
}

// names counts the server's work orders by name among those with prefix.
func (ck *checker) names(t testing.TB, prefix string) map[string]int {
	t.Helper()
	rows, err := ck.p.DB().Read.QueryContext(context.Background(), `SELECT name FROM workorder WHERE name LIKE `+ck.p.DB().Dialect.Placeholder(1), prefix+"%")
	testenv.Must(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var n string
		testenv.Must(t, rows.Scan(&n))
		out[n]++
	}
	testenv.Must(t, rows.Err())
	return out
}

// syncErrors counts the server's Sync Error rows.
func (ck *checker) syncErrors(t testing.TB) int {
	t.Helper()
	var n int
	testenv.Must(t, ck.p.DB().Read.QueryRowContext(context.Background(), `SELECT count(*) FROM syncerror`).Scan(&n))
	return n
}

// exactlyOnce fails unless every name of want is on the server once and
// no other name with prefix is.
func (ck *checker) exactlyOnce(t testing.TB, prefix string, want []string) {
	t.Helper()
	got := ck.names(t, prefix)
	for _, n := range want {
		if got[n] != 1 {
			t.Errorf("created work order %q is on the server %d times, want once", n, got[n])
		}
		delete(got, n)
	}
	if len(got) > 0 {
		t.Errorf("unexpected work orders on the server: %v", got)
	}
}
