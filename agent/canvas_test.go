package agent_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// The canvas app's bundle comes to the device with the app and is served
// from there, sandboxed, at an address made with this start's secret.
func TestAgentCanvas(t *testing.T) {
	ctx := context.Background()
	p0, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p0, demo.Options{AccountsPerTechnician: 1})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p0)
	srv := httptest.NewServer(httpapi.New(p0, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p0, profiles, syncsrv.Options{})}))
	t.Cleanup(srv.Close) // after the agent's cleanup, which ends its requests
	tok, err := p0.IssueToken(ctx, platform.System(), env.Technicians[0].ID, "player")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	_, p := startAgent(t, home)
	var s agent.Session
	if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Token: tok}, &s); code != 200 {
		t.Fatalf("sign-in: %d", code)
	}
	if code := p.do("POST", "/api/apps/"+env.CanvasApp+"/open", nil, &s); code != 200 || s.AppName != demo.CanvasName {
		t.Fatalf("open: %d %+v", code, s)
	}
	var def agent.AppDefinition
	p.do("GET", "/api/app", nil, &def)
	if def.Canvas == nil || !def.Canvas.Bundle || !def.Canvas.OfflineEnabled || !strings.HasPrefix(def.Canvas.URL, "/canvas/") {
		t.Fatalf("canvas of the app definition: %+v", def.Canvas)
	}

	// The frame's requests carry no cookie: the address is enough.
	get := func(base, path string) (int, http.Header, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, h, body := get(p.base, def.Canvas.URL)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox allow-scripts allow-forms;") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "connect-src 'none'") || !strings.Contains(body, `<head><script src="/canvas-host.js"></script>`) {
		t.Fatalf("index.html: %d %v\n%s", code, h, body)
	}
	dir := strings.TrimSuffix(def.Canvas.URL, "index.html")
	if code, h, _ := get(p.base, dir+"app.js"); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Fatalf("app.js: %d %v", code, h)
	}
	if code, _, _ := get(p.base, dir+"nosuch.js"); code != 404 {
		t.Fatalf("a file the bundle lacks: %d", code)
	}
	if code, _, _ := get(p.base, "/canvas/0123456789abcdef0123456789abcdef/index.html"); code != 404 {
		t.Fatalf("a made-up key: %d", code)
	}

	var st agent.DeviceStatus
	waitUntil(t, func() bool { p.do("GET", "/api/status", nil, &st); return st.Ready })
	// The bundle is kept on the device with the app's definition.
	if fi, err := os.Stat(filepath.Join(home, "apps", "bundle-"+env.CanvasApp+".zip")); err != nil || fi.Size() == 0 {
		t.Fatalf("the bundle on the device: %v", err)
	}
}
