package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

// TestStatusReflectsNow: status follows what the server's answers tell now:
// right after the first open ConnectedRefresh (the first sync has not
// run); after a first sync interrupted mid-way and a new process opening
// the store, a probe with the server up says ConnectedRefresh; with the
// server gone the probe says NotConnected and keeps the last contact.
func TestStatusReflectsNow(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 6, 2)
		dir := t.TempDir()
		f := &faults{}
		open := func() *client.Client {
			c, err := client.Open(ctx, client.Options{Dir: dir, Server: w.srv.URL, Token: w.tokens[0], AppID: "fieldapp",
				HTTPClient: &http.Client{Transport: f}, PageSize: 2})
			testenv.Must(t, err)
			return c
		}
		state := func(c *client.Client, probe bool) *client.Status {
			t.Helper()
			if probe {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_ = c.Probe(pctx)
				cancel()
			}
			st, err := c.Status(ctx)
			testenv.Must(t, err)
			return st
		}
		dev := open()
		if st := state(dev, false); st.State != client.ConnectedRefresh || st.LastContact.IsZero() {
			t.Fatalf("after the first open: %s (last contact %v), want ConnectedRefresh", st.State, st.LastContact)
		}
		// Kill mid first sync: the sync stops at its first page.
		sctx, stop := context.WithCancel(ctx)
		_, err := dev.Sync(sctx, client.SyncOptions{OnProgress: func(p client.Progress) {
			if p.Rows > 0 {
				stop()
			}
		}})
		stop()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted sync: %v", err)
		}
		testenv.Must(t, dev.Close())
		dev = open()
		defer dev.Close()
		if st := state(dev, true); st.State != client.ConnectedRefresh || st.Ready {
			t.Fatalf("after a killed first sync, server up: %s (ready %v), want ConnectedRefresh", st.State, st.Ready)
		}
		_, err = dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		f.set(func(f *faults) { f.down = true })
		st := state(dev, true)
		if st.State != client.NotConnected || st.Online || st.LastContact.IsZero() {
			t.Fatalf("server gone: %s (online %v, last contact %v), want NotConnected with the last contact", st.State, st.Online, st.LastContact)
		}
		f.set(func(f *faults) { f.down = false })
		if st := state(dev, true); st.State != client.Connected {
			t.Fatalf("server back: %s, want Connected", st.State)
		}
	})
}
