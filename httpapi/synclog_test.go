package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestSyncLogsOneLinePerRequest checks the info line every sync request
// logs: user, device, kind, rows, bytes, duration and outcome.
func TestSyncLogsOneLinePerRequest(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		p, err := platform.Open(ctx, e.Open(t), platform.Options{})
		if err != nil {
			t.Fatal(err)
		}
		env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
		if err != nil {
			t.Fatal(err)
		}
		var logs lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		profiles := profile.New(p)
		h := httpapi.New(p, httpapi.Options{Logger: logger, Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{Logger: logger})})
		nora := env.Technicians[0]
		tok, err := p.IssueToken(ctx, platform.System(), nora.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		dev := outpost.NewID()
		for _, c := range []struct{ path, body string }{
			{"/open", `{"deviceId":"` + dev + `","appId":"` + env.ModelDrivenApp + `"}`},
			{"/snapshot", `{"deviceId":"` + dev + `","table":"workorder"}`},
			{"/upload", `{"deviceId":"` + dev + `","changes":[{"seq":1,"table":"workorder","op":"","id":"` + dev + `"}]}`},
			{"/upload", `{"deviceId":"not-a-device","changes":[]}`},
		} {
			req := httptest.NewRequest("POST", wire.Prefix+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+tok)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		var lines []map[string]any
		logs.mu.Lock()
		for _, l := range strings.Split(strings.TrimSpace(logs.b.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "sync" {
				lines = append(lines, m)
			}
		}
		logs.mu.Unlock()
		if len(lines) != 4 {
			t.Fatalf("%d sync lines, want 4:\n%v", len(lines), lines)
		}
		want := []struct {
			kind, outcome string
			rows          bool
		}{{"open", "ok", false}, {"first", "ok", true}, {"upload", "ok", true}, {"upload", "invalid", false}}
		for i, w := range want {
			l := lines[i]
			if l["kind"] != w.kind || l["user"] != nora.ID || l["device"] == "" || l["outcome"] == nil || l["duration_ms"] == nil || (w.outcome == "ok") != (l["bytes"].(float64) > 0) {
				t.Errorf("line %d: %v", i, l)
			}
			if (l["rows"].(float64) > 0) != w.rows {
				t.Errorf("line %d: rows %v", i, l["rows"])
			}
			if w.outcome == "ok" && l["outcome"] != "ok" || w.outcome != "ok" && l["outcome"] == "ok" {
				t.Errorf("line %d: outcome %v, want %s", i, l["outcome"], w.outcome)
			}
		}
	})
}
