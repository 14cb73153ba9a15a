package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// stalledReaders is how many snapshot streams the test leaves unread: more
// than either engine's pool of read connections.
const stalledReaders = 40

// stallFixture is a server whose work orders are wide rows, Nora's
// registered device, and raw snapshot streams that never read.
type stallFixture struct {
	t         *testing.T
	srv       *httptest.Server
	env       *demo.Env
	p         *platform.Platform
	nora, sam string
	body      string
	request   string
	dialer    net.Dialer
}

func newStallFixture(t *testing.T, e testenv.Engine, streams int, writeTimeout time.Duration) *stallFixture {
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	testenv.Must(t, err)
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 10})
	testenv.Must(t, err)
	// Wide rows, so each stream is far larger than what the sockets
	// buffer.
	_, err = p.DB().Write.ExecContext(ctx, `UPDATE workorder SET description = `+p.DB().Dialect.Placeholder(1), strings.Repeat("stalled reader ", 200))
	testenv.Must(t, err)
	profiles := apps.New(p)
	eng := syncsrv.New(p, profiles, syncsrv.Options{SnapshotStreamsPerUser: streams})
	srv := httptest.NewUnstartedServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng, StreamWriteTimeout: writeTimeout}))
	// Small send buffers, as over a slow link: loopback would otherwise
	// buffer megabytes per socket.
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	f := &stallFixture{t: t, srv: srv, env: env, p: p}
	sys := platform.System()
	f.nora, err = p.IssueToken(ctx, sys, env.Technicians[0].ID, "device")
	testenv.Must(t, err)
	f.sam, err = p.IssueToken(ctx, sys, env.Technicians[2].ID, "browser")
	testenv.Must(t, err)
	device := outpost.NewID()
	if code, _ := f.call("POST", wire.Prefix+"/open", f.nora, `{"deviceId":"`+device+`","appId":"`+env.ModelDrivenApp+`"}`); code != 200 {
		t.Fatalf("open: %d", code)
	}
	f.body = `{"deviceId":"` + device + `","table":"workorder","pageSize":10000}`
	f.request = "POST " + wire.Prefix + "/snapshot HTTP/1.1\r\nHost: outpost\r\nAuthorization: Bearer " + f.nora +
		"\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(f.body)) + "\r\n\r\n" + f.body
	f.dialer = net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		if err != nil {
			return err
		}
		return serr
	}}
	return f
}

// call sends a request and returns its status and how long it took.
func (f *stallFixture) call(method, path, token, body string) (int, time.Duration) {
	f.t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	testenv.Must(f.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s did not answer while readers stall: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// stall opens n snapshot streams of Nora's device that are never read.
func (f *stallFixture) stall(n int) {
	for range n {
		conn, err := f.dialer.Dial("tcp", f.srv.Listener.Addr().String())
		testenv.Must(f.t, err)
		f.t.Cleanup(func() { conn.Close() })
		_, err = conn.Write([]byte(f.request))
		testenv.Must(f.t, err)
	}
	// Once their sockets are full the streams wait on the network, and
	// then none of them may hold a read connection. On a loaded machine
	// the first reads of many streams can take a while, so wait for that
	// state rather than for a fixed time.
	time.Sleep(2 * time.Second) // let the streams start and fill their sockets
	deadline := time.Now().Add(time.Minute)
	var idle time.Time
	for ; ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("stalled streams still hold %d read connections after a minute", f.p.DB().Read.Stats().InUse)
		}
		if f.p.DB().Read.Stats().InUse > 0 {
			idle = time.Time{}
			continue
		}
		if idle.IsZero() {
			idle = time.Now()
		} else if time.Since(idle) > time.Second {
			return
		}
	}
}

// TestStalledSnapshotReadersDoNotStarveOthers opens many snapshot streams
// (page size 10,000) on sockets with a 1 KiB receive buffer that never
// read, then times other users' requests: a device that stops reading
// holds no database connection or transaction while the server waits to
// write to it, so the others answer. It prints the slowest answer; the
// bound it asserts is only there to fail instead of hanging.
func TestStalledSnapshotReadersDoNotStarveOthers(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			f := newStallFixture(t, e, stalledReaders, time.Minute)
			f.stall(stalledReaders)
			var slowest time.Duration
			for i := range 5 {
				for _, c := range []struct{ method, path, token string }{
					{"GET", "/healthz", ""},
					{"GET", "/api/whoami", f.sam},
					{"GET", "/api/data/workorder?$top=5&$select=name", f.sam},
					{"GET", "/api/data/account?$top=5&$select=name", f.nora},
				} {
					code, took := f.call(c.method, c.path, c.token, "")
					if code != 200 {
						t.Fatalf("round %d: %s %s answered %d while readers stall", i, c.method, c.path, code)
					}
					slowest = max(slowest, took)
				}
			}
			// The stalled streams still count against their user's limit.
			if code, _ := f.call("POST", wire.Prefix+"/snapshot", f.nora, f.body); code != http.StatusTooManyRequests {
				t.Fatalf("snapshot over the per-user limit: %d, want 429", code)
			}
			t.Logf("%s: with %d stalled snapshot readers, the slowest of 20 other requests answered in %v", e.Name, stalledReaders, slowest)
		})
	}
}

// TestStalledSnapshotReaderIsCut: a stream whose reader stops is cut when
// one write takes longer than the stream write timeout, which frees its
// place under the per-user limit.
func TestStalledSnapshotReaderIsCut(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			f := newStallFixture(t, e, 1, 200*time.Millisecond)
			f.stall(1)
			deadline := time.Now().Add(20 * time.Second)
			for {
				code, _ := f.call("POST", wire.Prefix+"/snapshot", f.nora, f.body)
				if code == 200 {
					break
				}
				if code != http.StatusTooManyRequests || time.Now().After(deadline) {
					t.Fatalf("snapshot while the stalled stream should be cut: %d", code)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// smallBuffers gives accepted connections an 8 KiB send buffer.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}
