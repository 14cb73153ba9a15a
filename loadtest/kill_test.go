package loadtest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

var killRounds = flag.Int("kill.rounds", 6, "server kills in TestServerKilled")

// edits is what one device queued offline, for checking at the end.
type edits struct {
	created []string          // names of created work orders
	updated map[string]string // work order id -> last description
}

// queueEdits queues k creates and k updates of own work orders on c.
func queueEdits(c *client.Client, user, tag string, k int, e *edits) error {
	ctx := context.Background()
	own, err := c.Query(ctx, "workorder", client.Query{Filter: "ownerid eq '" + user + "'", OrderBy: "workorderid", Top: 20})
	if err != nil {
		return err
	}
	accts, err := c.Query(ctx, "account", client.Query{Top: 1})
	if err != nil {
		return err
	}
	if len(own) == 0 || len(accts) == 0 {
		return fmt.Errorf("device of %s has %d own work orders and %d accounts", user, len(own), len(accts))
	}
	for i := range k {
		name := fmt.Sprintf("%s-%d", tag, i)
		if _, err := c.Create(ctx, "workorder", map[string]any{"name": name, "customerid": accts[0]["accountid"], "priority": 2}); err != nil {
			return err
		}
		e.created = append(e.created, name)
		id := own[rand.IntN(len(own))]["workorderid"].(string)
		if err := c.Update(ctx, "workorder", id, map[string]any{"description": name}); err != nil {
			return err
		}
		e.updated[id] = name
	}
	return nil
}

// TestServerKilled kills the server with SIGKILL in the middle of uploads
// and first syncs, many times, and restarts it: every queued change
// reaches the server exactly once and every device converges.
func TestServerKilled(t *testing.T) { forEngines(t, testServerKilled) }

func testServerKilled(t *testing.T, engine string) {
	w := newWorld(t, engine, 8)
	srv := startServer(t, w)
	type dev struct {
		c    *client.Client
		user int
		e    *edits
	}
	var devs []*dev
	newDev := func(i int) *dev {
		d := &dev{c: openDevice(t, w, i, srv.url(), filepath.Join(t.TempDir(), "dev"), http.DefaultTransport), user: i, e: &edits{updated: map[string]string{}}}
		devs = append(devs, d)
		return d
	}
	for i := range len(w.tokens) {
		syncUntilDone(t, newDev(i).c)
	}
	for round := range *killRounds {
		for _, d := range devs {
			if ok, _ := d.c.Status(context.Background()); ok != nil && ok.Ready {
				testenv.Must(t, queueEdits(d.c, w.users[d.user], fmt.Sprintf("lt-r%d-d%s", round, testenv.Tag(d.c.DeviceID())), 5, d.e))
			}
		}
		newDev(round % len(w.tokens)) // a fresh device: a first sync to cut
		var wg sync.WaitGroup
		for _, d := range devs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = d.c.Sync(context.Background(), client.SyncOptions{})
			}()
		}
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond) // the fault's moment, not synchronisation
		srv.kill()
		wg.Wait()
		srv.start()
	}
	for _, d := range devs {
		syncUntilDone(t, d.c)
		st, err := d.c.Status(context.Background())
		testenv.Must(t, err)
		if st.PendingUploads != 0 {
			t.Fatalf("device %s still has %d pending uploads", d.c.DeviceID(), st.PendingUploads)
		}
	}
	// A second pass: a device that synced before another device of the
	// same user uploaded its last edits gets them now.
	for _, d := range devs {
		syncUntilDone(t, d.c)
	}
	srv.kill()
	withChecker(t, w, func(ck *checker) {
		var all []string
		// Two devices of one user may edit the same work order: the server
		// keeps the last edit of whichever device uploaded last.
		last := map[string][]string{}
		for _, d := range devs {
			ck.converged(t, w.users[d.user], d.c)
			all = append(all, d.e.created...)
			for id, name := range d.e.updated {
				last[id] = append(last[id], name)
			}
		}
		for id, want := range last {
			row, err := ck.p.Get(context.Background(), platform.System(), "workorder", id, nil)
			testenv.Must(t, err)
			if got, _ := row["description"].(string); !slices.Contains(want, got) {
				t.Errorf("work order %s: description %q, want the last offline edit of a device that edited it, one of %q", id, row["description"], want)
			}
		}
		ck.exactlyOnce(t, "lt-", all)
		if n := ck.syncErrors(t); n != 0 {
			t.Errorf("%d sync errors, want none", n)
		}
	})
}
