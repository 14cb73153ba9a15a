package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/httpapi"
)

// countingConn counts the bytes read from the network: the response bytes
// on the wire, before any decompression.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// compression runs the device's first sync three times against the same
// server, once per response encoding (none, gzip, zstd), served through
// httpapi.Compress on its own loopback listener, and records the bytes on
// the wire and the rows per second of each. The device runs in this
// process, as the server does, so the three runs share the machine alike.
func compression(ctx context.Context, r *recorder, e *env, dir string) error {
	h, err := httpapi.Compress(e.srv.Handler)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	encs := []string{"identity", "gzip", "zstd"}
	best := map[string]float64{}
	bytes := map[string]int64{}
	rowsOf := map[string]int{}
	// Two rounds in turn; the faster of each encoding's two runs counts,
	// so that a warm cache or a busy neighbour does not favour one.
	for round := range 2 {
		for _, enc := range encs {
			rate, n, rows, err := compressedSync(ctx, e, url, filepath.Join(dir, fmt.Sprintf("%s-%d", enc, round)), enc)
			if err != nil {
				return err
			}
			best[enc], bytes[enc], rowsOf[enc] = max(best[enc], rate), n, rows
		}
	}
	for _, enc := range encs {
		r.add("compress", enc+" bytes on the wire", float64(bytes[enc])/(1<<20), "MiB", 0, "", "", 0)
		r.add("compress", enc+" bytes per row", float64(bytes[enc])/float64(max(1, rowsOf[enc])), "B", 0, "", "", 0)
		if enc == "identity" {
			r.add("compress", enc+" first sync", best[enc], "rows/s", 0, "", "", 0)
		} else {
			r.add("compress", enc+" first sync", best[enc], "rows/s", best["identity"], "no compression", "", 0)
		}
	}
	return nil
}

// compressedSync runs one first sync into dir asking for enc, and returns
// its rows/s, the response bytes on the wire and the rows.
func compressedSync(ctx context.Context, e *env, url, dir, enc string) (rate float64, wireBytes int64, rows int, err error) {
	var wire atomic.Int64
	d := &net.Dialer{}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: enc != "gzip",
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{Conn: c, n: &wire}, nil
		}}
	var rt http.RoundTripper = tr
	if enc == "zstd" {
		rt = gzhttp.Transport(tr, gzhttp.TransportEnableGzip(false))
	}
	c, err := client.Open(ctx, client.Options{Dir: dir, Server: url, Token: e.token, AppID: e.appID, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	res, err := c.Sync(ctx, client.SyncOptions{})
	secs := time.Since(start).Seconds()
	if err != nil {
		c.Close()
		return 0, 0, 0, fmt.Errorf("first sync with %s: %w", enc, err)
	}
	c.Close()
	if !res.FirstSync {
		return 0, 0, 0, fmt.Errorf("first sync with %s was not a first sync", enc)
	}
	return float64(res.Upserted) / secs, wire.Load(), res.Upserted, nil
}
