package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/platform"
)

// openDevice opens the device user's store in dir (first-synced already
// or not) and syncs it.
func openDevice(ctx context.Context, e *env, token, dir string) (*client.Client, error) {
	c, err := client.Open(ctx, client.Options{Dir: dir, Server: e.url, Token: token, AppID: e.appID,
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}})
	if err != nil {
		return nil, err
	}
	if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
		return nil, fmt.Errorf("sync device: %w", err)
	}
	return c, nil
}

// touch updates k of ids (from offset i) in one server transaction.
func (e *env) touch(ctx context.Context, ids []string, i, k int, value string) error {
	return e.p.Write(ctx, func(w *platform.Writer) error {
		for j := range k {
			id := ids[(i*k+j)%len(ids)]
			if _, err := w.Update(ctx, platform.System(), "workorder", id, map[string]any{"description": value}); err != nil {
				return err
			}
		}
		return nil
	})
}

// deltaLatencies changes 10 rows of the device's scope, then times one
// full sync round trip, iters times; and times syncs with nothing changed.
func deltaLatencies(ctx context.Context, e *env, c *client.Client, iters int) (changed, idle []time.Duration, err error) {
	for i := range iters {
		if err := e.touch(ctx, e.own, i, 10, fmt.Sprintf("delta %d", i)); err != nil {
			return nil, nil, err
		}
		t0 := time.Now()
		res, err := c.Sync(ctx, client.SyncOptions{})
		if err != nil {
			return nil, nil, err
		}
		changed = append(changed, time.Since(t0))
		if res.Upserted != 10 {
			return nil, nil, fmt.Errorf("delta sync %d upserted %d rows, want 10", i, res.Upserted)
		}
		t0 = time.Now()
		if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
			return nil, nil, err
		}
		idle = append(idle, time.Since(t0))
	}
	return changed, idle, nil
}

// delta reports delta sync latency on the large server against the same
// delta on the small one.
func delta(ctx context.Context, r *recorder, big, small *env, cBig, cSmall *client.Client, iters int) error {
	// Warm both servers' caches (principals, plans, prepared statements).
	if _, _, err := deltaLatencies(ctx, small, cSmall, 3); err != nil {
		return err
	}
	if _, _, err := deltaLatencies(ctx, big, cBig, 3); err != nil {
		return err
	}
	sc, si, err := deltaLatencies(ctx, small, cSmall, iters)
	if err != nil {
		return err
	}
	bc, bi, err := deltaLatencies(ctx, big, cBig, iters)
	if err != nil {
		return err
	}
	smallName := fmt.Sprintf("%d-row server", small.rows())
	r.add("delta", "10 changes p50", percentile(bc, 50), "ms", percentile(sc, 50), smallName, "<=", 5)
	r.add("delta", "10 changes p99", percentile(bc, 99), "ms", percentile(sc, 99), smallName, "", 0)
	r.add("delta", "10 changes p50 ratio big/small", percentile(bc, 50)/percentile(sc, 50), "", 0, "", "<=", 1.5)
	r.add("delta", "nothing changed p50", percentile(bi, 50), "ms", percentile(si, 50), smallName, "", 0)
	r.add("delta", "nothing changed p99", percentile(bi, 99), "ms", percentile(si, 99), smallName, "", 0)
	return nil
}

func (e *env) rows() int { return len(e.own)*10 + len(e.teamWOs)*10 }

// writeToDevice runs the device's scheduler with change hints and times
// a server write until the device's store holds it.
func writeToDevice(ctx context.Context, r *recorder, e *env, c *client.Client, iters int, idleDelta float64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	id := e.own[0]
	want := make(chan string, 1)
	seen := make(chan time.Time, 16)
	var target string
	onSync := func(_ *client.SyncResult, err error) {
		select {
		case v := <-want:
			target = v
		default:
		}
		if err != nil || target == "" {
			return
		}
		row, gerr := c.Get(ctx, "workorder", id)
		if gerr == nil && row["description"] == target {
			target = ""
			seen <- time.Now()
		}
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, client.RunOptions{OnSync: onSync, RetryAfter: 100 * time.Millisecond}) }()
	if err := waitFor(ctx, 10*time.Second, c.HintsConnected); err != nil {
		return fmt.Errorf("change hints never connected: %w", err)
	}
	var lat []time.Duration
	for i := range iters {
		v := fmt.Sprintf("pushed %d", i)
		want <- v
		t0 := time.Now()
		if _, err := e.p.Update(ctx, platform.System(), "workorder", id, map[string]any{"description": v}); err != nil {
			return err
		}
		select {
		case t := <-seen:
			lat = append(lat, t.Sub(t0))
		case <-time.After(10 * time.Second):
			return fmt.Errorf("write %d never reached the device", i)
		}
	}
	cancel()
	<-done
	r.add("write", "server write to device store p50", percentile(lat, 50), "ms", idleDelta, "delta sync round trip", "<=", 10)
	r.add("write", "server write to device store p99", percentile(lat, 99), "ms", idleDelta, "delta sync round trip", "", 0)
	return nil
}

// waitFor polls ok until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}
