package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/syncsrv"
)

// metricsFlags choose where the Prometheus metrics are served and who may
// read them, and how long sync telemetry is kept (docs/production.md,
// "Monitoring").
type metricsFlags struct {
	addr               string
	token              string
	telemetryRetention time.Duration
}

func (m *metricsFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&m.addr, "metrics-addr", getenv("OUTPOST_METRICS_ADDR"), "serve GET /metrics on this address only (such as 127.0.0.1:9090), not on --addr ($OUTPOST_METRICS_ADDR)")
	fs.StringVar(&m.token, "metrics-token", getenv("OUTPOST_METRICS_TOKEN"), "bearer token GET /metrics requires; empty serves it to anyone who reaches it ($OUTPOST_METRICS_TOKEN)")
	fs.DurationVar(&m.telemetryRetention, "telemetry-retention", syncsrv.DefaultTelemetryRetention, "how long per-sync telemetry events are kept before the janitor prunes them")
}

// apply sets the metrics options of the engine and the API.
func (m *metricsFlags) apply(so *syncsrv.Options, ho *httpapi.Options) {
	so.TelemetryRetention = m.telemetryRetention
	ho.MetricsToken = m.token
	ho.MetricsOff = m.addr != ""
}

// check refuses a retention that is not positive.
func (m *metricsFlags) check() error {
	if m.telemetryRetention <= 0 {
		return fmt.Errorf("--telemetry-retention %s: give a positive duration, such as 720h", m.telemetryRetention)
	}
	return nil
}

// serveMetrics serves api's metrics on --metrics-addr, when set, logging
// the bound address ("serving metrics"); the returned stop shuts it down.
func (m *metricsFlags) serveMetrics(ctx context.Context, api *httpapi.Server, logger *slog.Logger) (stop func(), err error) {
	if m.addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", m.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --metrics-addr %s: %w", m.addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", api.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: defaultReadHeaderTimeout, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("metrics server stopped", "err", err)
		}
	}()
	logger.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
