// Package mobile is the device agent for an Android or iOS shell app:
// a facade that `gomobile bind` accepts (only strings, numbers, errors
// and pointers to exported types cross it), so the shell starts the same
// agent as `outpost device serve`, with the same embedded player, and
// shows the URL it returns in a WebView.
package mobile

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/ui"
)

// Agent is a running device agent.
type Agent struct {
	mu          sync.Mutex
	a           *agent.Agent
	srv         *http.Server
	url         string
	endRequests context.CancelFunc
}

// Start opens the device directory home (the app's private files
// directory) and serves the player on a free loopback port. retrySeconds
// is the wait after a failed sync (0: 30 seconds).
func Start(home string, retrySeconds int) (*Agent, error) {
	if home == "" {
		return nil, errors.New("mobile: the device directory is required")
	}
	a, err := agent.New(context.Background(), agent.Options{Home: home, UI: ui.Player, RetryAfter: time.Duration(retrySeconds) * time.Second})
	if err != nil {
		return nil, err
	}
	ln, err := a.Listen("127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, a.Close())
	}
	base, end := context.WithCancel(context.Background())
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	m := &Agent{a: a, srv: srv, url: a.URL(ln.Addr()), endRequests: end}
	go m.srv.Serve(ln)
	return m, nil
}

// URL is the address the WebView opens first: it carries the per-launch
// secret that the agent swaps for a cookie.
func (m *Agent) URL() string { return m.url }

// Stop stops serving, the scheduler and the store; the device's data and
// queued changes stay in its directory.
func (m *Agent) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv == nil {
		return nil
	}
	m.endRequests() // the status streams end with the agent
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	m.srv = nil
	return errors.Join(err, m.a.Close())
}
