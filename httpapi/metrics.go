package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// syncDurationBuckets run from half a millisecond to ten minutes: deltas
// answer in milliseconds, a first sync of a large table streams for
// minutes.
var syncDurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// syncMetrics are the sync operator's metrics (docs/production.md,
// "Monitoring"). Every label takes a bounded set of values: kinds are
// platform.SyncKinds, outcomes "ok" or an error code, error types the
// four Sync Error types, reasons the few of reconcileReason.
type syncMetrics struct {
	syncs      *prometheus.CounterVec
	rows       *prometheus.CounterVec
	bytes      *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	changes    *prometheus.CounterVec
	reconciles *prometheus.CounterVec
	streams    prometheus.Gauge
}

func newSyncMetrics() *syncMetrics {
	return &syncMetrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outpost_syncs_total",
			Help: "Sync requests by kind (open, first, delta, full, reconcile, upload) and outcome (ok or the error code)."}, []string{"kind", "outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outpost_sync_rows_sent_total",
			Help: "Rows sent to devices by sync kind (upserts and removals)."}, []string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outpost_sync_bytes_sent_total",
			Help: "Reply bytes sent to devices by sync kind (before compression)."}, []string{"kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "outpost_sync_duration_seconds",
			Help: "Time to serve one sync request by kind (a first sync's snapshot streams included).", Buckets: syncDurationBuckets}, []string{"kind"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outpost_sync_upload_changes_total",
			Help: "Uploaded changes by result (applied, rejected) and Sync Error type (conflict, not_found, already_exists, other; none when applied)."}, []string{"result", "error_type"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outpost_sync_reconciles_total",
			Help: "Tables sent to checksum reconciliation by reason (full, restored, related_table, scope, date_filter, other)."}, []string{"reason"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "outpost_sync_event_streams",
			Help: "Change-hint event streams open on this server."}),
	}
}

func (m *syncMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.syncs, m.rows, m.bytes, m.duration, m.changes, m.reconciles, m.streams}
}

// errorTypeLabel names a Sync Error type for the changes metric.
func errorTypeLabel(t int) string {
	switch t {
	case wire.ErrorConflict:
		return "conflict"
	case wire.ErrorNotFound:
		return "not_found"
	case wire.ErrorAlreadyExists:
		return "already_exists"
	}
	return "other"
}

// reconcileReasonLabel maps the engine's reconcile reasons (which name
// tables) to a bounded label.
func reconcileReasonLabel(reason string) string {
	switch {
	case reason == "full sync":
		return "full"
	case strings.HasPrefix(reason, "token from the future"):
		return "restored"
	case strings.HasPrefix(reason, "related table"):
		return "related_table"
	case strings.HasPrefix(reason, "scope changed"):
		return "scope"
	case strings.HasPrefix(reason, "filter relative to the date"):
		return "date_filter"
	}
	return "other"
}

// registerMetrics adds the sync, janitor, device and database pool
// metrics to the registry.
func (s *Server) registerMetrics() {
	s.syncm = newSyncMetrics()
	s.reg.MustRegister(s.syncm.collectors()...)
	s.reg.MustRegister(&devicesSeen{p: s.p})
	if s.sync != nil {
		s.reg.MustRegister(janitorCollector{e: s.sync})
	}
	db := s.p.DB()
	// A registry shared by servers over one database has them already.
	if db.Write == db.Read {
		_ = s.reg.Register(collectors.NewDBStatsCollector(db.Write, "pool"))
		return
	}
	_ = s.reg.Register(collectors.NewDBStatsCollector(db.Write, "write"))
	_ = s.reg.Register(collectors.NewDBStatsCollector(db.Read, "read"))
}

// devicesSeen counts, at each scrape, the signed-in devices seen in the
// last hour and day.
type devicesSeen struct{ p *platform.Platform }

var devicesSeenDesc = prometheus.NewDesc("outpost_devices_seen", "Signed-in devices (not revoked) whose last contact is within the window (1h, 24h).", []string{"window"}, nil)

func (d *devicesSeen) Describe(ch chan<- *prometheus.Desc) { ch <- devicesSeenDesc }

func (d *devicesSeen) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := d.p.DevicesSeen(ctx, time.Hour, 24*time.Hour)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(devicesSeenDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(devicesSeenDesc, prometheus.GaugeValue, float64(n[0]), "1h")
	ch <- prometheus.MustNewConstMetric(devicesSeenDesc, prometheus.GaugeValue, float64(n[1]), "24h")
}

// janitorCollector reads the janitor's counts.
type janitorCollector struct{ e *syncsrv.Engine }

var (
	janitorRunsDesc   = prometheus.NewDesc("outpost_janitor_runs_total", "Janitor rounds by outcome (ok, error: some step failed).", []string{"outcome"}, nil)
	janitorPrunedDesc = prometheus.NewDesc("outpost_janitor_pruned_rows_total", "Rows the janitor pruned by kind (tombstones, scopelog, staged_files, telemetry).", []string{"kind"}, nil)
)

func (j janitorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- janitorRunsDesc
	ch <- janitorPrunedDesc
}

func (j janitorCollector) Collect(ch chan<- prometheus.Metric) {
	st := j.e.JanitorStats()
	ch <- prometheus.MustNewConstMetric(janitorRunsDesc, prometheus.CounterValue, float64(st.Runs), "ok")
	ch <- prometheus.MustNewConstMetric(janitorRunsDesc, prometheus.CounterValue, float64(st.Failed), "error")
	for kind, n := range map[string]int64{"tombstones": st.Tombstones, "scopelog": st.ScopeLog, "staged_files": st.Staged, "telemetry": st.Telemetry} {
		ch <- prometheus.MustNewConstMetric(janitorPrunedDesc, prometheus.CounterValue, float64(n), kind)
	}
}

// MetricsHandler serves the Prometheus metrics, behind the metrics token
// when Options.MetricsToken is set; serve it on its own address when
// Options.MetricsOff leaves it out of the API.
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
	if s.metricsToken == "" {
		return h
	}
	want := []byte("Bearer " + s.metricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeError(w, http.StatusUnauthorized, outpost.CodeUnauthorized, "the metrics need the metrics token: send Authorization: Bearer <token> (outpost serve --metrics-token)", "")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// parseClientReport reads wire.ClientReportHeader, in which the device
// library reports its side of its previous sync: "apply-ms=N, errors=N"
// (time it took to apply the reply locally, local errors met). It is stored
// on the event of the request that carries it; a malformed header is
// ignored, and nil fields were not reported (or not valid).
func parseClientReport(v string) (apply, errs *int64) {
	if v == "" || len(v) > 200 {
		return nil, nil
	}
	for part := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil || n < 0 {
			continue
		}
		switch strings.TrimSpace(k) {
		case "apply-ms":
			apply = &n
		case "errors":
			errs = &n
		}
	}
	return apply, errs
}
