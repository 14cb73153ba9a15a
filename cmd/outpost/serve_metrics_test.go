package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost/internal/testenv"
)

// TestServeMetricsAddrAndToken serves with --metrics-addr and the metrics
// token from the environment: the API address does not serve /metrics,
// the metrics address refuses callers without the token and serves those
// with it.
func TestServeMetricsAddrAndToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs syncBuffer
	env := map[string]string{"OUTPOST_METRICS_TOKEN": "m-token"}
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &out, &logs)
	}()
	serving := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
	metrics := regexp.MustCompile(`"msg":"serving metrics","addr":"([^"]+)"`)
	var api, m string
	testenv.WaitFor(t, 60*time.Second, func() error {
		a, b := serving.FindStringSubmatch(logs.String()), metrics.FindStringSubmatch(logs.String())
		if a == nil || b == nil {
			return io.EOF
		}
		api, m = "http://"+a[1], "http://"+b[1]
		return nil
	})
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := get(api+"/metrics", "m-token"); st != http.StatusNotFound || strings.Contains(body, "outpost_") {
		t.Errorf("API address /metrics: %d %.200s", st, body)
	}
	for _, tok := range []string{"", "wrong"} {
		if st, body := get(m+"/metrics", tok); st != http.StatusUnauthorized || strings.Contains(body, "outpost_") {
			t.Errorf("metrics address with token %q: %d %.200s", tok, st, body)
		}
	}
	if st, body := get(m+"/metrics", "m-token"); st != http.StatusOK || !strings.Contains(body, "outpost_devices_seen") {
		t.Errorf("metrics address with the token: %d %.300s", st, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := runServe(context.Background(), []string{"--data", t.TempDir(), "--telemetry-retention", "0s"}, noEnv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--telemetry-retention") {
		t.Errorf("zero retention: %v", err)
	}
}
