package client_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

// stallSnapshots holds every snapshot request until its context ends,
// so a first sync cannot finish; it reports each one on started.
type stallSnapshots struct {
	started chan struct{}
}

func (s stallSnapshots) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/snapshot") {
		select {
		case s.started <- struct{}{}:
		default:
		}
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestRunEndsDuringFirstSync: the scheduler returns when its context ends
// in the middle of a first sync, although the sync's tables are still due
// (it used to start them again at once, for ever).
func TestRunEndsDuringFirstSync(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 2, 1)
		tr := stallSnapshots{started: make(chan struct{}, 1)}
		dev := w.device(0, t.TempDir(), tr)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- dev.Run(ctx, client.RunOptions{RetryAfter: time.Hour}) }()
		select {
		case <-tr.started:
		case <-time.After(20 * time.Second):
			t.Fatal("the first sync did not start")
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Run goes on after its context ended during a first sync")
		}
		st, err := dev.Status(context.Background())
		testenv.Must(t, err)
		if st.Ready {
			t.Fatal("the store is ready after a first sync that never finished")
		}
	})
}
