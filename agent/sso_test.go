package agent_test

import (
	"context"
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
	"github.com/outposthq/outpost/internal/oidctest"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// ssoServer is an Outpost server with single sign-on against a test
// identity provider, over the demo's data.
func ssoServer(t *testing.T) (*httptest.Server, *platform.Platform, *oidctest.Provider, *demo.Env) {
	t.Helper()
	ctx := context.Background()
	op := oidctest.Start(t)
	p, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 2})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p)
	srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{}),
		OIDC: &httpapi.OIDCOptions{Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), Name: "Example ID"}}))
	t.Cleanup(srv.Close)
	return srv, p, op, env
}

// ssoBrowser follows the single sign-on's redirects without cookies: the
// agent's callback must not need its cookie (a browser coming back from
// another site does not send a SameSite=Strict one).
func ssoBrowser(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := (&http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/" {
			return http.ErrUseLastResponse // the player's page
		}
		return nil
	}}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestAgentSingleSignOn(t *testing.T) {
	srv, p0, op, env := ssoServer(t)
	nora := env.Technicians[0]
	home := t.TempDir()
	_, p := startAgent(t, home)

	var provs agent.SignInProviders
	if code := p.do("GET", "/api/signin/providers?server="+srv.URL, nil, &provs); code != 200 || len(provs.Providers) != 1 || provs.Providers[0].Name != "Example ID" {
		t.Fatalf("providers: %d %+v", code, provs)
	}

	// A reply whose state is not the agent's is refused, in plain words.
	var start agent.SSOStart
	if code := p.do("POST", "/api/signin/sso", agent.SSORequest{Server: srv.URL}, &start); code != 200 || !strings.HasPrefix(start.URL, srv.URL+"/api/auth/oidc/device/start?") {
		t.Fatalf("start: %d %+v", code, start)
	}
	resp := ssoBrowser(t, p.base+"/signin/callback?code=opc_forged&state=forged")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("forged callback: %d", resp.StatusCode)
	}
	var s agent.Session
	if s = sessionOf(p); s.SignedIn || !strings.Contains(s.SignInError, "does not belong to a sign-in this player started") {
		t.Fatalf("after a forged callback: %+v", s)
	}

	// The provider vouches for a disabled user: the server refuses, the
	// player says why.
	ctx := context.Background()
	if _, err := p0.Update(ctx, platform.System(), "systemuser", nora.ID, map[string]any{"isdisabled": true}); err != nil {
		t.Fatal(err)
	}
	op.QueueUser("n", nora.DomainName)
	ssoBrowser(t, start.URL) // the pending sign-in survived the forged reply
	if s = sessionOf(p); s.SignedIn || !strings.Contains(s.SignInError, "Single sign-on was refused") || !strings.Contains(s.SignInError, "disabled") || s.Server != srv.URL {
		t.Fatalf("disabled user: %+v", s)
	}
	if _, err := p0.Update(ctx, platform.System(), "systemuser", nora.ID, map[string]any{"isdisabled": false}); err != nil {
		t.Fatal(err)
	}

	// The sign-in: the credential is kept as a password sign-in's, and the
	// app picker lists the user's apps.
	if code := p.do("POST", "/api/signin/sso", agent.SSORequest{Server: srv.URL}, &start); code != 200 {
		t.Fatalf("start: %d", code)
	}
	op.QueueUser("n", nora.DomainName)
	if resp := ssoBrowser(t, start.URL); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if s = sessionOf(p); !s.SignedIn || s.User != nora.FullName || s.SignInError != "" {
		t.Fatalf("after single sign-on: %+v", s)
	}
	if fi, err := os.Stat(filepath.Join(home, "credential.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential.json: %v %v", fi, err)
	}
	// The same state works once.
	ssoBrowser(t, start.URL)
	if s = sessionOf(p); !s.SignedIn || s.SignInError == "" {
		t.Fatalf("a second reply to the same sign-in: %+v", s)
	}

	var apps agent.AppList
	p.do("GET", "/api/apps", nil, &apps)
	found := false
	for _, app := range apps.Apps {
		found = found || app.ID == env.ModelDrivenApp
	}
	if !found {
		t.Fatalf("apps after single sign-on: %+v", apps)
	}
	if code := p.do("POST", "/api/apps/"+env.ModelDrivenApp+"/open", nil, &s); code != 200 {
		t.Fatalf("open: %d %+v", code, s)
	}
	var st agent.DeviceStatus
	waitUntil(t, func() bool { p.do("GET", "/api/status", nil, &st); return st.Ready && st.State == "Connected" })
	var page agent.RowPage
	if code := p.do("GET", "/api/tables/workorder/rows?top=5", nil, &page); code != 200 || len(page.Rows) == 0 {
		t.Fatalf("synced rows: %d %+v", code, page)
	}
	devs, err := p0.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: nora.ID})
	if err != nil || len(devs) != 1 || devs[0].Name != "field player" {
		t.Fatalf("devices: %+v %v", devs, err)
	}
}

// sessionOf reads the agent's session afresh.
func sessionOf(p *player) agent.Session {
	var s agent.Session
	p.do("GET", "/api/session", nil, &s)
	return s
}
