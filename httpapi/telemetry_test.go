package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// telemetryFixture is a server with sync on, a technician signed in as a
// device and an administrator's token.
type telemetryFixture struct {
	srv         *httptest.Server
	p           *platform.Platform
	engine      *syncsrv.Engine
	env         *demo.Env
	device      platform.DeviceCredential
	admin, tech string // tokens
}

func newTelemetryFixture(t *testing.T, e testenv.Engine, opts httpapi.Options) *telemetryFixture {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p)
	engine := syncsrv.New(p, profiles, syncsrv.Options{TelemetryRetention: time.Hour})
	opts.Profiles, opts.Sync = profiles, engine
	srv := httptest.NewServer(httpapi.New(p, opts))
	t.Cleanup(srv.Close)
	f := &telemetryFixture{srv: srv, p: p, engine: engine, env: env}
	if f.device, err = p.SignInDevice(ctx, env.Technicians[0].ID, platform.DeviceInput{Name: "tablet", Platform: "test"}); err != nil {
		t.Fatal(err)
	}
	if f.admin, err = p.IssueToken(ctx, platform.System(), env.Admin.ID, "t"); err != nil {
		t.Fatal(err)
	}
	if f.tech, err = p.IssueToken(ctx, platform.System(), env.Technicians[0].ID, "t"); err != nil {
		t.Fatal(err)
	}
	return f
}

// call sends a request and returns the status and body.
func (f *telemetryFixture) call(t *testing.T, method, path, token, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// scrape reads the metrics as families by name.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// sample returns the value of the metric of family name whose labels are
// labels (counter, gauge, or a histogram's count), and whether there is one.
func sample(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// syncDevice runs a first sync of the work orders, a delta carrying the
// device's report, and an upload whose change is rejected, as the signed-in
// device; it returns the store id, the snapshot's rows and the rejected
// change's Sync Error type.
func (f *telemetryFixture) syncDevice(t *testing.T) (store string, rows int, errType int) {
	t.Helper()
	store = outpost.NewID()
	tok := f.device.AccessToken
	if st, body := f.call(t, "POST", wire.Prefix+"/open", tok, `{"deviceId":"`+store+`","appId":"`+f.env.ModelDrivenApp+`"}`, nil); st != http.StatusOK {
		t.Fatalf("open: %d %s", st, body)
	}
	st, body := f.call(t, "POST", wire.Prefix+"/snapshot", tok, `{"deviceId":"`+store+`","table":"workorder"}`, nil)
	if st != http.StatusOK {
		t.Fatalf("snapshot: %d %s", st, body)
	}
	var token string
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		var page wire.SnapshotPage
		if err := json.Unmarshal([]byte(line), &page); err != nil {
			t.Fatal(err)
		}
		rows += len(page.Rows)
		token = page.Token
	}
	delta, _ := json.Marshal(wire.DeltaRequest{DeviceID: store, Tables: []wire.TableState{{Table: "workorder", Token: token}}})
	if st, body := f.call(t, "POST", wire.Prefix+"/delta", tok, string(delta), map[string]string{wire.ClientReportHeader: "apply-ms=12, errors=1"}); st != http.StatusOK {
		t.Fatalf("delta: %d %s", st, body)
	}
	up := `{"deviceId":"` + store + `","changes":[{"seq":1,"mutationId":"` + outpost.NewID() + `","table":"workorder","op":"update","id":"` + outpost.NewID() + `","baseVersion":1,"columns":{"title":"x"}}]}`
	st, body = f.call(t, "POST", wire.Prefix+"/upload", tok, up, nil)
	if st != http.StatusOK {
		t.Fatalf("upload: %d %s", st, body)
	}
	var res wire.UploadResponse
	if err := json.Unmarshal(body, &res); err != nil || len(res.Results) != 1 || res.Results[0].Status != wire.StatusRejected || res.Results[0].Error == nil {
		t.Fatalf("upload results: %s", body)
	}
	return store, rows, res.Results[0].Error.Type
}

// TestSyncMetricsMove scrapes /metrics after a first sync, a delta and a
// rejected upload: the counters moved with the kind, outcome and error
// type labels; the open change-hint stream is counted by the gauge and
// left out of the request duration histogram.
func TestSyncMetricsMove(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newTelemetryFixture(t, e, httpapi.Options{})
		store, rows, errType := f.syncDevice(t)
		if rows == 0 {
			t.Fatal("the first sync sent no rows")
		}
		mfs := scrape(t, f.srv.URL+"/metrics", "")
		types := map[int]string{wire.ErrorConflict: "conflict", wire.ErrorNotFound: "not_found", wire.ErrorAlreadyExists: "already_exists", wire.ErrorOther: "other"}
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"outpost_syncs_total", map[string]string{"kind": "open", "outcome": "ok"}, 1},
			{"outpost_syncs_total", map[string]string{"kind": "first", "outcome": "ok"}, 1},
			{"outpost_syncs_total", map[string]string{"kind": "delta", "outcome": "ok"}, 1},
			{"outpost_syncs_total", map[string]string{"kind": "upload", "outcome": "ok"}, 1},
			{"outpost_sync_rows_sent_total", map[string]string{"kind": "first"}, float64(rows)},
			{"outpost_sync_duration_seconds", map[string]string{"kind": "first"}, 1},
			{"outpost_sync_duration_seconds", map[string]string{"kind": "delta"}, 1},
			{"outpost_sync_upload_changes_total", map[string]string{"result": "rejected", "error_type": types[errType]}, 1},
			{"outpost_sync_event_streams", nil, 0},
			{"outpost_devices_seen", map[string]string{"window": "1h"}, 1},
		} {
			if got, ok := sample(mfs, c.name, c.labels); !ok || got != c.want {
				t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
			}
		}
		if b, _ := sample(mfs, "outpost_sync_bytes_sent_total", map[string]string{"kind": "first"}); b <= 0 {
			t.Errorf("bytes sent by the first sync: %v", b)
		}
		if _, ok := sample(mfs, "outpost_sync_upload_changes_total", map[string]string{"result": "applied"}); ok {
			t.Error("an applied change was counted; none was applied")
		}
		for _, name := range []string{"go_sql_open_connections", "outpost_janitor_runs_total", "outpost_janitor_pruned_rows_total"} {
			if mfs[name] == nil {
				t.Errorf("no %s", name)
			}
		}
		// A change-hint stream: counted while open, never in the
		// request duration histogram.
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+wire.Prefix+"/events?deviceId="+store, nil)
		req.Header.Set("Authorization", "Bearer "+f.device.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("event stream: %d %q %v", res.StatusCode, line, err)
		}
		if n, _ := sample(scrape(t, f.srv.URL+"/metrics", ""), "outpost_sync_event_streams", nil); n != 1 {
			t.Errorf("open event streams = %v, want 1", n)
		}
		cancel()
		res.Body.Close()
		const route = "GET " + wire.Prefix + "/events"
		for deadline := time.Now().Add(10 * time.Second); ; {
			mfs = scrape(t, f.srv.URL+"/metrics", "")
			if _, ok := sample(mfs, "outpost_http_requests_total", map[string]string{"route": route}); ok || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, ok := sample(mfs, "outpost_http_requests_total", map[string]string{"route": route}); !ok {
			t.Fatal("the ended event stream was never counted")
		}
		if _, ok := sample(mfs, "outpost_http_request_duration_seconds", map[string]string{"route": route}); ok {
			t.Error("the event stream is in the request duration histogram")
		}
		if n, _ := sample(mfs, "outpost_sync_event_streams", nil); n != 0 {
			t.Errorf("open event streams after the end = %v, want 0", n)
		}
	})
}

type syncPage struct {
	Value    []platform.SyncEvent `json:"value"`
	NextLink string               `json:"@odata.nextLink"`
}

// TestAdminSyncs lists sync telemetry: filters, paging, the device's
// reported side, the registered-devices view, and refusal (with no data)
// to a technician.
func TestAdminSyncs(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newTelemetryFixture(t, e, httpapi.Options{})
		store, rows, _ := f.syncDevice(t)
		tech := f.env.Technicians[0].ID
		list := func(query string) syncPage {
			t.Helper()
			st, body := f.call(t, "GET", "/api/admin/syncs"+query, f.admin, "", nil)
			if st != http.StatusOK {
				t.Fatalf("GET /api/admin/syncs%s: %d %s", query, st, body)
			}
			var p syncPage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		all := list("")
		var kinds []string
		for _, ev := range all.Value {
			kinds = append(kinds, ev.Kind)
			if ev.UserID != tech || ev.StoreID != store || ev.DeviceID != f.device.DeviceID || ev.AppID != f.env.ModelDrivenApp || ev.Outcome != "ok" || ev.ProfileVersion == 0 {
				t.Errorf("event %+v", ev)
			}
		}
		if strings.Join(kinds, ",") != "upload,delta,first,open" || all.NextLink != "" {
			t.Fatalf("kinds newest first %v, next %q", kinds, all.NextLink)
		}
		first := all.Value[2]
		if first.RowsDown != int64(rows) || first.Bytes <= 0 || strings.Join(first.Tables, ",") != "workorder" || first.ClientApplyMs != nil {
			t.Errorf("first sync event %+v", first)
		}
		if up := all.Value[0]; up.RowsUp != 1 || len(up.Tables) != 0 {
			t.Errorf("upload event %+v", up)
		}
		d := list("?kind=delta").Value
		if len(d) != 1 || d[0].ClientApplyMs == nil || *d[0].ClientApplyMs != 12 || d[0].ClientErrors == nil || *d[0].ClientErrors != 1 {
			t.Errorf("delta with the device's report: %+v", d)
		}
		for q, want := range map[string]int{
			"?user=" + tech: 4, "?user=" + f.env.Admin.ID: 0, "?device=" + store: 4, "?device=" + f.device.DeviceID: 4,
			"?device=" + outpost.NewID(): 0, "?outcome=error": 0, "?outcome=ok&kind=first": 1,
			"?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339): 0, "?until=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339): 0,
			"?since=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339): 4,
		} {
			if got := len(list(q).Value); got != want {
				t.Errorf("%s: %d events, want %d", q, got, want)
			}
		}
		// A failed request is an error event.
		if st, _ := f.call(t, "POST", wire.Prefix+"/snapshot", f.device.AccessToken, `{"deviceId":"`+store+`","table":"nosuch"}`, nil); st/100 != 4 {
			t.Fatalf("snapshot of an unknown table: %d", st)
		}
		if errs := list("?outcome=error").Value; len(errs) != 1 || errs[0].Kind != "first" || errs[0].ErrorCode == "" {
			t.Errorf("error events: %+v", errs)
		}
		// Pages of two.
		p1 := list("?$top=2")
		if len(p1.Value) != 2 || p1.NextLink == "" {
			t.Fatalf("page 1: %d events, next %q", len(p1.Value), p1.NextLink)
		}
		p2 := list(strings.TrimPrefix(p1.NextLink, "/api/admin/syncs"))
		p3 := list(strings.TrimPrefix(p2.NextLink, "/api/admin/syncs"))
		if len(p2.Value) != 2 || p2.NextLink == "" || len(p3.Value) != 1 || p3.NextLink != "" || p2.Value[0].EventID == p1.Value[0].EventID || p3.Value[0].Kind != "open" {
			t.Errorf("pages: %v / %v / %v", p1, p2, p3)
		}
		// The registered-devices view: the store's last sync.
		st, body := f.call(t, "GET", "/api/admin/devices", f.admin, "", nil)
		var devs struct{ Value []platform.DeviceInfo }
		if err := json.Unmarshal(body, &devs); st != http.StatusOK || err != nil {
			t.Fatalf("devices: %d %s", st, body)
		}
		found := false
		for _, dv := range devs.Value {
			for _, s := range dv.Stores {
				if s.StoreID == store {
					found = true
					if s.LastSyncKind != "first" || s.LastSyncOutcome != "error" || s.LastSyncAt == nil {
						t.Errorf("store's last sync: %+v", s)
					}
				}
			}
		}
		if !found {
			t.Errorf("store %s not in the devices view: %s", store, body)
		}
		// Refusals and bad input.
		for _, c := range []struct {
			token, query string
			status       int
		}{
			{f.tech, "", http.StatusForbidden}, {f.device.AccessToken, "?user=" + tech, http.StatusForbidden}, {"", "", http.StatusUnauthorized},
			{f.admin, "?kind=sideways", http.StatusBadRequest}, {f.admin, "?outcome=maybe", http.StatusBadRequest},
			{f.admin, "?since=yesterday", http.StatusBadRequest}, {f.admin, "?$top=0", http.StatusBadRequest},
			{f.admin, "?$top=5000", http.StatusBadRequest}, {f.admin, "?$skip=-1", http.StatusBadRequest}, {f.admin, "?user=nobody", http.StatusBadRequest},
		} {
			st, body := f.call(t, "GET", "/api/admin/syncs"+c.query, c.token, "", nil)
			if st != c.status || strings.Contains(string(body), store) || strings.Contains(string(body), `"value"`) {
				t.Errorf("%s with token %.8s: %d %s, want %d and no events", c.query, c.token, st, body, c.status)
			}
		}
		// The reply matches the OpenAPI schema.
		var doc openAPIDoc
		if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
			t.Fatal(err)
		}
		var schema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(doc.Components.Schemas["SyncEvent"], &schema); err != nil {
			t.Fatal(err)
		}
		_, raw := f.call(t, "GET", "/api/admin/syncs?$top=1", f.admin, "", nil)
		var reply struct{ Value []map[string]any }
		_ = json.Unmarshal(raw, &reply)
		for k := range reply.Value[0] {
			if _, ok := schema.Properties[k]; !ok {
				t.Errorf("schema SyncEvent lacks %q", k)
			}
		}
	})
}

// TestTelemetryRetention: the janitor prunes events past the retention and
// counts them.
func TestTelemetryRetention(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newTelemetryFixture(t, e, httpapi.Options{})
		ctx := context.Background()
		now := f.p.Now()
		for _, age := range []time.Duration{3 * time.Hour, 2 * time.Hour, 30 * time.Minute} {
			if _, err := f.p.RecordSync(ctx, platform.SyncEvent{At: now.Add(-age), UserID: f.env.Technicians[0].ID, StoreID: outpost.NewID(), Kind: "delta", Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		f.engine.JanitorRound(ctx) // retention: an hour
		list, _, err := f.p.ListSyncs(ctx, platform.System(), platform.SyncFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || !list[0].At.Equal(now.Add(-30*time.Minute)) {
			t.Errorf("kept %+v, want the event of 30 minutes ago", list)
		}
		st := f.engine.JanitorStats()
		if st.Telemetry != 2 || st.Runs != 1 || st.Failed != 0 {
			t.Errorf("janitor stats %+v", st)
		}
		if n, _ := sample(scrape(t, f.srv.URL+"/metrics", ""), "outpost_janitor_pruned_rows_total", map[string]string{"kind": "telemetry"}); n != 2 {
			t.Errorf("pruned telemetry metric = %v, want 2", n)
		}
	})
}

// TestMetricsToken: with a metrics token /metrics refuses callers without
// it; with MetricsOff the API does not serve /metrics and MetricsHandler
// does.
func TestMetricsToken(t *testing.T) {
	e := testenv.Engines(t)[0]
	f := newTelemetryFixture(t, e, httpapi.Options{MetricsToken: "s3cret-metrics"})
	for _, tok := range []string{"", "wrong", f.admin} {
		if st, body := f.call(t, "GET", "/metrics", tok, "", nil); st != http.StatusUnauthorized || strings.Contains(string(body), "outpost_") {
			t.Errorf("token %q: %d %s", tok, st, body)
		}
	}
	if mfs := scrape(t, f.srv.URL+"/metrics", "s3cret-metrics"); mfs["outpost_http_requests_total"] == nil {
		t.Error("no request metrics with the token")
	}
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(p, httpapi.Options{MetricsOff: true})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("API /metrics with MetricsOff: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "outpost_syncs_total") && !strings.Contains(rec.Body.String(), "outpost_devices_seen") {
		t.Errorf("MetricsHandler: %d %.200s", rec.Code, rec.Body.String())
	}
}
