package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// stop stops the server with SIGTERM and returns how it exited and how
// long the shutdown took.
func (s *server) stop() (time.Duration, error) {
	s.t.Helper()
	start := time.Now()
	testenv.Must(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	err := s.cmd.Wait()
	s.cmd = nil
	return time.Since(start), err
}

// TestRollingRestart restarts one server with SIGTERM while devices hold
// change-hint streams open and write through every server (on PostgreSQL
// three servers share the database; on SQLite the one server restarts):
// the server exits 0 promptly and every device converges, every queued
// change on the server exactly once.
func TestRollingRestart(t *testing.T) { forEngines(t, testRollingRestart) }

func testRollingRestart(t *testing.T, engine string) {
	w := newWorld(t, engine, 4)
	n := 1
	if engine == "postgres" {
		n = 3
	}
	var srvs []*server
	for range n {
		srvs = append(srvs, startServer(t, w))
	}
	type dev struct {
		c    *client.Client
		user int
		e    *edits
	}
	var devs []*dev
	for i := range len(w.tokens) {
		d := &dev{c: openDevice(t, w, i, srvs[i%n].url(), filepath.Join(t.TempDir(), "dev"), http.DefaultTransport), user: i, e: &edits{updated: map[string]string{}}}
		syncUntilDone(t, d.c)
		devs = append(devs, d)
	}

	// Every device runs its scheduler (change-hint stream open, a sync on
	// each local change) while it queues edits.
	ctx, cancel := context.WithCancel(context.Background())
	var running, writing sync.WaitGroup
	stopWriting := make(chan struct{})
	writeErrs := make(chan error, len(devs))
	for _, d := range devs {
		running.Add(1)
		go func() {
			defer running.Done()
			_ = d.c.Run(ctx, client.RunOptions{RetryAfter: 100 * time.Millisecond})
		}()
	}
	testenv.WaitFor(t, 60*time.Second, func() error {
		for _, d := range devs {
			if !d.c.HintsConnected() {
				return fmt.Errorf("device %s has no change-hint stream", d.c.DeviceID())
			}
		}
		return nil
	})
	for _, d := range devs {
		writing.Add(1)
		go func() {
			defer writing.Done()
			for round := 0; ; round++ {
				select {
				case <-stopWriting:
					return
				case <-time.After(30 * time.Millisecond):
				}
				if err := queueEdits(d.c, w.users[d.user], fmt.Sprintf("rr-%s-%d", testenv.Tag(d.c.DeviceID()), round), 2, d.e); err != nil {
					writeErrs <- err
					return
				}
			}
		}()
	}

	time.Sleep(400 * time.Millisecond) // uploads in flight through every server
	took, err := srvs[0].stop()
	t.Logf("%s: SIGTERM with %d devices connected: exited after %s (%v)", engine, len(devs), took.Round(time.Millisecond), err)
	if err != nil {
		t.Errorf("the server exited with %v after SIGTERM, want exit status 0", err)
	}
	if took > 5*time.Second {
		t.Errorf("shutdown took %s, want under 5s", took)
	}
	time.Sleep(200 * time.Millisecond) // writes queue while the server is away
	srvs[0].start()
	testenv.WaitFor(t, 60*time.Second, func() error {
		for _, d := range devs {
			if !d.c.HintsConnected() {
				return fmt.Errorf("device %s has not reconnected its change-hint stream", d.c.DeviceID())
			}
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond)
	close(stopWriting)
	writing.Wait()
	cancel()
	running.Wait()
	close(writeErrs)
	for err := range writeErrs {
		t.Fatalf("queue edits: %v", err)
	}

	for pass := range 2 { // the second pass brings a device its user's other edits
		for _, d := range devs {
			syncUntilDone(t, d.c)
			st, err := d.c.Status(context.Background())
			testenv.Must(t, err)
			if pass == 0 && st.PendingUploads != 0 {
				t.Fatalf("device %s still has %d pending uploads", d.c.DeviceID(), st.PendingUploads)
			}
		}
	}
	for _, s := range srvs {
		s.kill()
	}
	withChecker(t, w, func(ck *checker) {
		var all []string
		for _, d := range devs {
			ck.converged(t, w.users[d.user], d.c)
			all = append(all, d.e.created...)
			for id, want := range d.e.updated {
				row, err := ck.p.Get(context.Background(), platform.System(), "workorder", id, nil)
				testenv.Must(t, err)
				if got, _ := row["description"].(string); got != want {
					t.Errorf("work order %s: description %q, want the device's last offline edit %q", id, got, want)
				}
			}
		}
		for _, d := range devs {
			if len(d.e.created) == 0 {
				t.Fatalf("device %s queued no change", d.c.DeviceID())
			}
		}
		t.Logf("%s: %d work orders created and as many updates queued across the restart", engine, len(all))
		ck.exactlyOnce(t, "rr-", all)
		if n := ck.syncErrors(t); n != 0 {
			t.Errorf("%d sync errors, want none", n)
		}
	})
}
