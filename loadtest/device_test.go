package loadtest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

var deviceKills = flag.Int("device.kills", 5, "device process kills per phase in TestDeviceKilled")

// helperEnv makes the test binary a device process (see deviceHelper).
const helperEnv = "OUTPOST_LOADTEST_DEVICE"

// helperArgs is what a device process does.
type helperArgs struct {
	Dir, Server, Token, App string
	// Queue creates that many work orders named Prefix-0... before syncing.
	Queue  int
	Prefix string
}

// deviceHelper runs one device process: open, optionally queue creates,
// sync. It is killed at random moments by TestDeviceKilled.
func deviceHelper() int {
	var a helperArgs
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &a); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	c, err := client.Open(ctx, client.Options{Dir: a.Dir, Server: a.Server, Token: a.Token, AppID: a.App, PageSize: 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer c.Close()
	if a.Queue > 0 {
		accts, err := c.Query(ctx, "account", client.Query{Top: 1})
		if err != nil || len(accts) == 0 {
			fmt.Fprintln(os.Stderr, "no account to link:", err)
			return 1
		}
		for i := range a.Queue {
			if _, err := c.Create(ctx, "workorder", map[string]any{"name": fmt.Sprintf("%s-%d", a.Prefix, i), "customerid": accts[0]["accountid"]}); err != nil {
				fmt.Fprintln(os.Stderr, "create:", err)
				return 1
			}
		}
	}
	if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "sync:", err)
		return 1
	}
	return 0
}

// runHelper runs a device process; with kill it is killed after a random
// delay. It reports whether the process finished on its own.
func runHelper(t *testing.T, a helperArgs, kill bool) bool {
	t.Helper()
	b, _ := json.Marshal(a)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	testenv.Must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if !kill {
		if err := <-done; err != nil {
			t.Fatalf("device process: %v", err)
		}
		return true
	}
	select {
	case err := <-done:
		return err == nil
	case <-time.After(time.Duration(20+rand.IntN(300)) * time.Millisecond): // the fault's moment
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return false
	}
}

// TestDeviceKilled kills device processes with SIGKILL in the middle of a
// first sync and of an upload: the next run resumes, and the device ends
// equal to its plan with every queued create on the server exactly once.
func TestDeviceKilled(t *testing.T) { forEngines(t, testDeviceKilled) }

func testDeviceKilled(t *testing.T, engine string) {
	w := newWorld(t, engine, 30)
	srv := startServer(t, w)
	dir := filepath.Join(t.TempDir(), "device")
	a := helperArgs{Dir: dir, Server: srv.url(), Token: w.tokens[0], App: w.app}
	cut := 0
	for range *deviceKills { // mid-first-sync
		if !runHelper(t, a, true) {
			cut++
		}
	}
	runHelper(t, a, false)
	var names []string
	for k := range *deviceKills { // mid-upload: each run queues 30 creates first
		q := a
		q.Queue, q.Prefix = 30, fmt.Sprintf("lt-k%d", k)
		if !runHelper(t, q, true) {
			cut++
		}
	}
	runHelper(t, a, false)
	t.Logf("%d of %d device runs were killed before they finished", cut, 2**deviceKills)
	srv.kill()
	c, err := client.Open(context.Background(), client.Options{Dir: dir, Server: srv.url(), Token: w.tokens[0], AppID: w.app,
		HTTPClient: &http.Client{Transport: http.DefaultTransport}})
	testenv.Must(t, err)
	defer c.Close()
	st, err := c.Status(context.Background())
	testenv.Must(t, err)
	if st.PendingUploads != 0 {
		t.Fatalf("%d uploads still pending", st.PendingUploads)
	}
	local, err := c.Rows(context.Background(), "workorder")
	testenv.Must(t, err)
	for _, r := range local {
		if n, _ := r["name"].(string); len(n) > 3 && n[:3] == "lt-" {
			names = append(names, n)
		}
	}
	withChecker(t, w, func(ck *checker) {
		ck.converged(t, w.users[0], c)
		// A create killed before it was queued is not on the device either;
		// every one that was queued is on the server once.
		ck.exactlyOnce(t, "lt-", names)
		if n := ck.syncErrors(t); n != 0 {
			t.Errorf("%d sync errors, want none", n)
		}
	})
}
