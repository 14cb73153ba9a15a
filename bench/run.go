package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/syncsrv"
)

// Sizes at scale 1 (the figures); smaller scales shrink them.
const (
	bigRows      = 1_000_000 // work orders on the large server
	smallRows    = 10_000    // work orders on the small server (delta ratio)
	deltaIters   = 200
	writeIters   = 200
	fanDevices   = 1000
	fanIdle      = 10000
	fanRate      = 2000
	uploadOne    = 10000
	uploadDevs   = 100
	uploadPerDev = 100
	smallUsers   = 20
)

// runEngine runs every chosen scenario against one engine.
func runEngine(ctx context.Context, cfg *config, opts Options, engine string) (figs []Figure, err error) {
	r := &recorder{engine: engine, cfg: cfg}
	defer func() { figs = r.figs }()
	dir, cleanup, err := tempDir(engine)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if cfg.want("capfull") {
		if err := capFull(ctx, r, opts, cfg, dir); err != nil {
			return nil, fmt.Errorf("capfull: %w", err)
		}
		if len(cfg.scenarios) == 1 {
			return nil, nil
		}
	}
	if cfg.want("writes") {
		w, err := newEnv(ctx, r, opts.Open, "writes", 1000, 0, 0)
		if err != nil {
			return nil, err
		}
		err = writes(ctx, r, w, time.Duration(max(2, 20*cfg.scale))*time.Second)
		if err = errors.Join(err, w.close()); err != nil {
			return nil, fmt.Errorf("writes: %w", err)
		}
		if len(cfg.scenarios) == 1 {
			return nil, nil
		}
	}
	big, err := newEnv(ctx, r, opts.Open, "big", cfg.n(bigRows, 2000), smallUsers, 0)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, big.close()) }()
	devDir := filepath.Join(dir, "device")
	if cfg.want("firstsync") {
		if err := firstSync(ctx, r, opts, big, devDir); err != nil {
			return nil, fmt.Errorf("first sync: %w", err)
		}
	}
	if cfg.want("compress") {
		if err := compression(ctx, r, big, filepath.Join(dir, "compress")); err != nil {
			return nil, fmt.Errorf("compress: %w", err)
		}
	}
	if cfg.want("cap") {
		if err := runCap(ctx, r, opts, big, filepath.Join(dir, "cap")); err != nil {
			return nil, fmt.Errorf("cap: %w", err)
		}
	}
	need := func(s ...string) bool {
		for _, x := range s {
			if cfg.want(x) {
				return true
			}
		}
		return false
	}
	if cfg.want("bulk") {
		if err := bulkLoad(ctx, r, big, cfg.n(bulkRows, 2000)); err != nil {
			return nil, fmt.Errorf("bulk: %w", err)
		}
	}
	if !need("delta", "write", "move", "fanout", "upload") {
		return nil, nil
	}
	c, err := openDevice(ctx, big, big.token, devDir)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	idleDelta := 0.0
	if need("delta", "write") {
		small, err := newEnv(ctx, r, opts.Open, "small", cfg.n(smallRows, 1000), 0, 0)
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, small.close()) }()
		cs, err := openDevice(ctx, small, small.token, filepath.Join(dir, "small"))
		if err != nil {
			return nil, err
		}
		defer cs.Close()
		if cfg.want("delta") {
			if err := delta(ctx, r, big, small, c, cs, cfg.n(deltaIters, 30)); err != nil {
				return nil, fmt.Errorf("delta: %w", err)
			}
		}
		_, idle, err := deltaLatencies(ctx, big, c, 20)
		if err != nil {
			return nil, err
		}
		idleDelta = percentile(idle, 50)
	}
	if cfg.want("write") {
		if err := writeToDevice(ctx, r, big, c, cfg.n(writeIters, 30), idleDelta); err != nil {
			return nil, fmt.Errorf("write to device: %w", err)
		}
	}
	if cfg.want("move") {
		if err := moves(ctx, r, big, c); err != nil {
			return nil, fmt.Errorf("move: %w", err)
		}
	}
	if cfg.want("fanout") {
		d := time.Duration(max(2, 10*cfg.scale)) * time.Second
		if err := fanout(ctx, r, opts, big, cfg.n(fanDevices, 50), cfg.n(fanIdle, 200), fanRate, d); err != nil {
			return nil, fmt.Errorf("fan-out: %w", err)
		}
	}
	if cfg.want("upload") {
		var devs []*client.Client
		for i := range cfg.n(uploadDevs, 10) {
			u := big.small[i%len(big.small)]
			d, err := openDevice(ctx, big, u.token, filepath.Join(dir, fmt.Sprintf("up%d", i)))
			if err != nil {
				return nil, err
			}
			defer d.Close()
			devs = append(devs, d)
		}
		if err := upload(ctx, r, big, c, cfg.n(uploadOne, 500), devs, cfg.n(uploadPerDev, 20)); err != nil {
			return nil, fmt.Errorf("upload: %w", err)
		}
	}
	return nil, nil
}

// runCap serves the same data through an engine whose per-device cap is
// half the device's download set, and checks the refusal.
func runCap(ctx context.Context, r *recorder, opts Options, e *env, dir string) error {
	capRows := int64(e.deviceRows / 2)
	profiles := apps.New(e.p)
	eng := syncsrv.New(e.p, profiles, syncsrv.Options{MaxRows: capRows})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: httpapi.New(e.p, httpapi.Options{Profiles: profiles, Sync: eng}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	return capCheck(ctx, r, opts, "http://"+ln.Addr().String(), e, dir, capRows)
}
