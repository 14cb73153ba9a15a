package client_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// reportRecorder records the client reports the device sends.
type reportRecorder struct {
	mu      sync.Mutex
	reports []string
}

func (r *reportRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if v := req.Header.Get(wire.ClientReportHeader); v != "" {
		r.mu.Lock()
		r.reports = append(r.reports, req.URL.Path+" "+v)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestClientReportsItsSide: after a sync that applied rows, the device's
// next request reports the time it spent applying them, once; the server
// stores it on that request's telemetry event.
func TestClientReportsItsSide(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		w := newWorld(t, e, 1)
		w.seed(w.users[:1], 3, 2)
		rec := &reportRecorder{}
		c := w.device(0, t.TempDir(), rec)
		ctx := context.Background()
		if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		before := len(rec.reports)
		rec.mu.Unlock()
		if _, err := c.Sync(ctx, client.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		reports := append([]string(nil), rec.reports...)
		rec.mu.Unlock()
		if len(reports) <= before || !strings.Contains(reports[before], "apply-ms=") || !strings.HasSuffix(reports[before], "errors=0") {
			t.Fatalf("reports %v (%d before the second sync)", reports, before)
		}
		events, _, err := w.p.ListSyncs(ctx, platform.System(), platform.SyncFilter{DeviceID: c.DeviceID(), Top: 1000})
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, ev := range events {
			if ev.ClientApplyMs != nil {
				stored++
				if *ev.ClientApplyMs < 1 || ev.ClientErrors == nil || *ev.ClientErrors != 0 {
					t.Errorf("stored report %+v", ev)
				}
			}
		}
		if stored != len(reports) {
			t.Errorf("%d events carry a report, %d reports sent: %v", stored, len(reports), reports)
		}
	})
}
