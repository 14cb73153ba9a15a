package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

// proxy forwards TCP connections to target. While faulty, each connection
// is, at random, passed through, delayed, cut in both directions after a
// few kilobytes, or truncated (the reply stops mid-stream and the
// connection closes).
type proxy struct {
	ln     net.Listener
	target string
	faulty atomic.Bool
	cuts   atomic.Int64
	wg     sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err)
	p := &proxy{ln: ln, target: target}
	p.faulty.Store(true)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

// limitWriter fails once n bytes went through.
type limitWriter struct {
	w io.Writer
	n int64
}

var errCut = fmt.Errorf("connection cut by the proxy")

func (l *limitWriter) Write(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, errCut
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.w.Write(b)
	l.n -= int64(n)
	if err == nil && l.n <= 0 {
		err = errCut
	}
	return n, err
}

// slowWriter sleeps before each write.
type slowWriter struct {
	w     io.Writer
	delay time.Duration
}

func (s slowWriter) Write(b []byte) (int, error) {
	time.Sleep(s.delay) // the injected network delay
	return s.w.Write(b)
}

func (p *proxy) handle(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	var up, down io.Writer = s, c
	if p.faulty.Load() {
		switch rand.IntN(4) {
		case 1:
			d := time.Duration(1+rand.IntN(30)) * time.Millisecond
			up, down = slowWriter{s, d}, slowWriter{c, d}
		case 2:
			p.cuts.Add(1)
			up, down = &limitWriter{w: s, n: int64(200 + rand.IntN(4000))}, &limitWriter{w: c, n: int64(200 + rand.IntN(8000))}
		case 3:
			p.cuts.Add(1)
			down = &limitWriter{w: c, n: int64(100 + rand.IntN(20000))}
		}
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); s.Close(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(down, s); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

// TestProxyFaults syncs devices with offline edits through a proxy that
// cuts, delays and truncates connections; once the network heals, every
// device converges and every change is on the server exactly once.
func TestProxyFaults(t *testing.T) { forEngines(t, testProxyFaults) }

func testProxyFaults(t *testing.T, engine string) {
	w := newWorld(t, engine, 8)
	srv := startServer(t, w)
	px := newProxy(t, srv.addr)
	px.faulty.Store(false)
	type dev struct {
		c    *client.Client
		user int
		e    *edits
	}
	var devs []*dev
	for i := range len(w.tokens) {
		tr := &http.Transport{DisableKeepAlives: i%2 == 0} // fresh connections draw fresh faults
		d := &dev{c: openDevice(t, w, i, px.url(), filepath.Join(t.TempDir(), "dev"), tr), user: i, e: &edits{updated: map[string]string{}}}
		syncUntilDone(t, d.c)
		devs = append(devs, d)
	}
	px.faulty.Store(true)
	failures := 0
	for round := range 8 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, d := range devs {
			testenv.Must(t, queueEdits(d.c, w.users[d.user], fmt.Sprintf("lt-p%d-%s", round, testenv.Tag(d.c.DeviceID())), 3, d.e))
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if _, err := d.c.Sync(ctx, client.SyncOptions{}); err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	t.Logf("%d connections faulted, %d syncs failed", px.cuts.Load(), failures)
	px.faulty.Store(false)
	for _, d := range devs {
		syncUntilDone(t, d.c)
	}
	srv.kill()
	withChecker(t, w, func(ck *checker) {
		var all []string
		for _, d := range devs {
			ck.converged(t, w.users[d.user], d.c)
			all = append(all, d.e.created...)
		}
		ck.exactlyOnce(t, "lt-", all)
		if n := ck.syncErrors(t); n != 0 {
			t.Errorf("%d sync errors, want none", n)
		}
	})
}
