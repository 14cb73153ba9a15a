package loadtest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

var (
	soakDevices  = flag.Int("soak.devices", 12, "devices in TestSoak")
	soakDuration = flag.Duration("soak.duration", 6*time.Second, "length of TestSoak")
)

// TestSoak runs many devices that edit and sync against one server for a
// while: no sync may fail, every device converges, and the server's
// memory stays flat (the last third's peak within twice the first third's
// plus 64 MB: a leak per sync would grow without bound).
func TestSoak(t *testing.T) { forEngines(t, testSoak) }

func testSoak(t *testing.T, engine string) {
	w := newWorld(t, engine, 6)
	srv := startServer(t, w)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	type dev struct {
		c    *client.Client
		user int
		e    *edits
	}
	devs := make([]*dev, *soakDevices)
	for i := range devs {
		u := i % len(w.tokens)
		devs[i] = &dev{c: openDevice(t, w, u, srv.url(), filepath.Join(t.TempDir(), "dev"), tr), user: u, e: &edits{updated: map[string]string{}}}
		syncUntilDone(t, devs[i].c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *soakDuration)
	defer cancel()
	var mu sync.Mutex
	var errs []error
	syncs := 0
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				var err error
				if rand.IntN(2) == 0 {
					err = queueEdits(d.c, w.users[d.user], fmt.Sprintf("lt-s%d-%s", n, testenv.Tag(d.c.DeviceID())), 1, d.e)
				}
				if err == nil {
					_, err = d.c.Sync(context.Background(), client.SyncOptions{})
				}
				mu.Lock()
				syncs++
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	var samples []int64
	tick := time.NewTicker(*soakDuration / 30)
	for ctx.Err() == nil {
		select {
		case <-tick.C:
			samples = append(samples, srv.rss())
		case <-ctx.Done():
		}
	}
	tick.Stop()
	wg.Wait()
	t.Logf("%d devices, %d syncs in %s, server RSS samples (MB): %v", len(devs), syncs, *soakDuration, mb(samples))
	if len(errs) > 0 {
		t.Fatalf("%d of %d syncs failed; first: %v", len(errs), syncs, errs[0])
	}
	if third := len(samples) / 3; third > 0 {
		first, last := peak(samples[:third]), peak(samples[len(samples)-third:])
		if last > 2*first+64<<20 {
			t.Errorf("server memory grew from %d MB to %d MB", first>>20, last>>20)
		}
	}
	// Edits ended: one more sync each brings in the other devices' last edits.
	for _, d := range devs {
		syncUntilDone(t, d.c)
	}
	srv.kill()
	withChecker(t, w, func(ck *checker) {
		var all []string
		for _, d := range devs {
			noPending(t, d.c)
			ck.converged(t, w.users[d.user], d.c)
			all = append(all, d.e.created...)
		}
		ck.exactlyOnce(t, "lt-", all)
	})
}

// noPending fails if c still has queued changes.
func noPending(t testing.TB, c *client.Client) {
	t.Helper()
	st, err := c.Status(context.Background())
	testenv.Must(t, err)
	if st.PendingUploads != 0 {
		t.Fatalf("device %s has %d pending uploads after the soak", c.DeviceID(), st.PendingUploads)
	}
}

func peak(s []int64) int64 {
	var m int64
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

func mb(s []int64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = v >> 20
	}
	return out
}
