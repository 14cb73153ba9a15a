package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/wire"
)

// wireDevice is a device reduced to its protocol state: enough to send
// delta requests without a local store, so that the load generator costs
// little next to the server.
type wireDevice struct {
	id    string
	token string
	body  []byte // the delta request
}

// post sends one JSON request and decodes the reply into out.
func post(ctx context.Context, hc *http.Client, url, token string, in, out any) error {
	var body []byte
	switch b := in.(type) {
	case []byte:
		body = b
	default:
		body, _ = json.Marshal(in)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	dec := json.NewDecoder(resp.Body)
	for {
		if err := dec.Decode(out); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if p, ok := out.(*wire.SnapshotPage); ok && p.Done {
			return nil
		}
	}
}

// newWireDevice registers a device for token and first-syncs it, keeping
// only the tokens.
func newWireDevice(ctx context.Context, hc *http.Client, e *env, token string) (*wireDevice, error) {
	id := outpost.NewID()
	var open wire.OpenResponse
	if err := post(ctx, hc, e.url+wire.Prefix+"/open", token, wire.OpenRequest{DeviceID: id, AppID: e.appID}, &open); err != nil {
		return nil, err
	}
	req := wire.DeltaRequest{DeviceID: id, ProfileVersion: open.ProfileVersion}
	for _, t := range open.Tables {
		var page wire.SnapshotPage
		if err := post(ctx, hc, e.url+wire.Prefix+"/snapshot", token, wire.SnapshotRequest{DeviceID: id, Table: t.Name, PageSize: 10000}, &page); err != nil {
			return nil, err
		}
		req.Tables = append(req.Tables, wire.TableState{Table: t.Name, Token: page.Token})
	}
	body, _ := json.Marshal(req)
	return &wireDevice{id: id, token: token, body: body}, nil
}

// fanout registers n devices, holds idle change streams in a child
// process, offers rate delta syncs per second for d, then measures the
// closed-loop maximum.
func fanout(ctx context.Context, r *recorder, opts Options, e *env, n, idle, rate int, d time.Duration) error {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	devs := make([]*wireDevice, n)
	for i := range devs {
		u := e.small[i%len(e.small)]
		var err error
		if devs[i], err = newWireDevice(ctx, hc, e, u.token); err != nil {
			return fmt.Errorf("register device %d: %w", i, err)
		}
	}
	// A delta round on one device must report nothing: the scenario is
	// "nothing changed".
	var resp wire.DeltaResponse
	if err := post(ctx, hc, e.url+wire.Prefix+"/delta", devs[0].token, devs[0].body, &resp); err != nil {
		return err
	}
	debug.FreeOSMemory()
	before, _ := rss("self")
	tokens, ids := make([]string, len(devs)), make([]string, len(devs))
	for i, dv := range devs {
		tokens[i], ids[i] = dv.token, dv.id
	}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	cmd := exec.CommandContext(cctx, opts.Exe, append(append([]string{}, opts.ChildArgs...), "child", "streams", "--server", e.url,
		"--token", strings.Join(tokens, ","), "--device", strings.Join(ids, ","), "--n", strconv.Itoa(idle))...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { stop(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "connected") {
		return fmt.Errorf("streams process: %q: %v", line, err)
	}
	debug.FreeOSMemory()
	after, _ := rss("self")
	perConn := float64(after-before) / float64(idle)
	r.add("fanout", "idle change streams held", float64(idle), "streams", 0, "", "", 0)
	r.add("fanout", "server memory per idle stream", perConn/1024, "KB", 0, "", "", 0)
	r.add("fanout", "server memory at 10,000 idle streams (projected)", (float64(before)+perConn*10000)/(1<<20), "MB", 0, "", "<=", 1024)

	lat, got := openLoop(ctx, hc, e, devs, rate, d)
	r.add("fanout", fmt.Sprintf("achieved delta syncs/s (%d/s offered, %d devices)", rate, n), got, "syncs/s", float64(rate), "offered", "", 0)
	r.add("fanout", "delta sync p99 under offered load", percentile(lat, 99), "ms", 0, "", "", 0)
	cpu0, t0 := cpuTime(), time.Now()
	max := closedLoop(ctx, hc, e, devs, 32, d)
	cpu := (cpuTime() - cpu0).Seconds() / time.Since(t0).Seconds()
	r.add("fanout", "max delta syncs/s, nothing changed (32 in flight)", max, "syncs/s", 0, "", ">=", 5000)
	r.add("fanout", "CPU busy during max (server + load generator)", cpu, "cores", float64(runtime.NumCPU()), "cores", "", 0)
	r.add("fanout", "CPU per delta sync (server + load generator)", cpu/max*1e6, "µs", 0, "", "", 0)
	cur, _ := rss("self")
	r.add("fanout", "server process RSS under load", float64(cur)/(1<<20), "MB", 0, "", "", 0)
	return nil
}

// openLoop offers rate requests per second for d, each to the next
// device; latency counts from the request's scheduled time, so a server
// that falls behind shows it.
func openLoop(ctx context.Context, hc *http.Client, e *env, devs []*wireDevice, rate int, d time.Duration) ([]time.Duration, float64) {
	var mu sync.Mutex
	var lat []time.Duration
	var ok atomic.Int64
	sem := make(chan struct{}, 512)
	var wg sync.WaitGroup
	start := time.Now()
	total := int(d.Seconds() * float64(rate))
	for i := range total {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(dv *wireDevice) {
			defer func() { <-sem; wg.Done() }()
			if post(ctx, hc, e.url+wire.Prefix+"/delta", dv.token, dv.body, nil) == nil {
				ok.Add(1)
				el := time.Since(at)
				mu.Lock()
				lat = append(lat, el)
				mu.Unlock()
			}
		}(devs[i%len(devs)])
	}
	wg.Wait()
	return lat, float64(ok.Load()) / time.Since(start).Seconds()
}

// closedLoop runs workers that each send delta requests back to back for d.
func closedLoop(ctx context.Context, hc *http.Client, e *env, devs []*wireDevice, workers int, d time.Duration) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Since(start) < d; i += workers {
				dv := devs[i%len(devs)]
				if post(ctx, hc, e.url+wire.Prefix+"/delta", dv.token, dv.body, nil) == nil {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// holdStreams opens n change streams (GET /events) spread over the
// devices (tokens[i] is the token of devices[i]), prints "connected" once
// all are open, and holds them until ctx ends or stdin closes.
func holdStreams(ctx context.Context, server string, tokens, devices []string, n int, stdout io.Writer) error {
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0, DisableCompression: true}
	hc := &http.Client{Transport: tr}
	var bodies []io.Closer
	for i := range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+wire.Prefix+"/events?deviceId="+devices[i%len(devices)], nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("stream %d: %s", i, resp.Status)
		}
		go func() { _, _ = io.Copy(io.Discard, resp.Body) }()
		bodies = append(bodies, resp.Body)
	}
	fmt.Fprintln(stdout, "connected", n)
	<-ctx.Done()
	for _, b := range bodies {
		_ = b.Close()
	}
	return nil
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
