package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/ui"
)

// serveCmd runs the device agent: the player and its local API on the
// loopback interface, with the scheduler of the open app.
func (d *deviceCmd) serveCmd(fs *flag.FlagSet) deviceRun {
	addr := fs.String("addr", "127.0.0.1:8765", "loopback address of the player (port 0 picks one)")
	retry := fs.Duration("retry", 30*time.Second, "wait after a failed sync before the next attempt")
	level := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	countCap := fs.Int("search-count-cap", agent.DefaultSearchCountCap, "matches a quick search counts for the pager before it shows \"N+\" (it counts on as the pages pass N)")
	return func(ctx context.Context, _ *client.Client, args []string) error {
		if err := wantArgs("serve", args, 0, 0); err != nil {
			return err
		}
		if *countCap < 1 {
			return fmt.Errorf("--search-count-cap must be at least 1, not %d", *countCap)
		}
		return d.serve(ctx, *addr, *retry, *level, *countCap)
	}
}

func (d *deviceCmd) serve(ctx context.Context, addr string, retry time.Duration, level string, countCap int) error {
	logger, err := newLogger(d.stderr, level)
	if err != nil {
		return err
	}
	a, err := agent.New(ctx, agent.Options{Home: d.home, UI: ui.Player, RetryAfter: retry, SearchCountCap: countCap, Logger: logger})
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen(addr)
	if err != nil {
		return err
	}
	// Requests end with the agent: the status streams would otherwise
	// hold Shutdown until its timeout.
	base, endRequests := context.WithCancel(context.Background())
	defer endRequests()
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	fmt.Fprintf(d.stdout, "Outpost player for %s\nOpen in your browser (the link is valid until the agent stops):\n  %s\n", d.home, a.URL(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		endRequests()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
