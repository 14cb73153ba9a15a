package agent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// demoServer serves a seeded demo over HTTP on engine e, with wrap (nil
// for none) around its handler.
func demoServer(t *testing.T, e testenv.Engine, opts platform.Options, wrap func(http.Handler) http.Handler) (*platform.Platform, *demo.Env, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 3})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p)
	var h http.Handler = httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{})})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return p, env, srv
}

// TestCloseDuringFirstSync: the agent's Close cancels a first sync that
// the server is slow to answer and returns without waiting for it.
func TestCloseDuringFirstSync(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		stalled := make(chan struct{}, 1)
		release := make(chan struct{})
		defer close(release)
		// The snapshot stream stalls until its request is cancelled (or
		// the test ends): the first sync cannot finish by itself.
		slow := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/snapshot") {
					select {
					case stalled <- struct{}{}:
					default:
					}
					select {
					case <-r.Context().Done():
					case <-release:
					}
					return
				}
				next.ServeHTTP(w, r)
			})
		}
		p0, env, srv := demoServer(t, e, platform.Options{}, slow)
		tok, err := p0.IssueToken(context.Background(), platform.System(), env.Technicians[0].ID, "player")
		if err != nil {
			t.Fatal(err)
		}
		a, p := startAgent(t, t.TempDir())
		var s agent.Session
		if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Token: tok}, &s); code != 200 {
			t.Fatalf("sign-in: %d", code)
		}
		if code := p.do("POST", "/api/apps/"+env.ModelDrivenApp+"/open", nil, &s); code != 200 {
			t.Fatalf("open: %d %+v", code, s)
		}
		select {
		case <-stalled:
		case <-time.After(20 * time.Second):
			t.Fatal("the first sync did not start")
		}
		var st agent.DeviceStatus
		if p.do("GET", "/api/status", nil, &st); !st.Syncing || st.Ready {
			t.Fatalf("status during the stalled first sync: %+v", st)
		}
		closed := make(chan error, 1)
		go func() { closed <- a.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Close still waits for the stalled first sync")
		}
	})
}
