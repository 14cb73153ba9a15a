package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// player is a browser of the agent: a cookie jar, the CSRF header on
// writes, and the agent's own address as Host.
type player struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func startAgent(t *testing.T, home string) (*agent.Agent, *player) {
	t.Helper()
	return startAgentWith(t, agent.Options{Home: home})
}

// startAgentWith starts an agent with opts, its test UI and a short retry.
func startAgentWith(t *testing.T, opts agent.Options) (*agent.Agent, *player) {
	t.Helper()
	opts.UI = fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>player</title>")}}
	opts.RetryAfter = 200 * time.Millisecond
	a, err := agent.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := a.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.Close() })
	jar, _ := cookiejar.New(nil)
	p := &player{t: t, base: "http://" + ln.Addr().String(), hc: &http.Client{Jar: jar}}
	resp, err := p.hc.Get(a.URL(ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return a, p
}

func (p *player) csrf() string {
	u, _ := url.Parse(p.base)
	for _, c := range p.hc.Jar.Cookies(u) {
		if c.Name == agent.CSRFCookie {
			return c.Value
		}
	}
	return ""
}

// do sends a request and decodes the answer into out; it returns the status.
func (p *player) do(method, path string, body any, out any) int {
	p.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, p.base+path, r)
	if method != http.MethodGet {
		req.Header.Set(agent.CSRFHeader, p.csrf())
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// TestAgentGuards: the Host check, the per-launch secret and its cookies,
// and CSRF protection on writes.
func TestAgentGuards(t *testing.T) {
	a, p := startAgent(t, t.TempDir())
	if _, err := a.Listen("0.0.0.0:0"); err == nil {
		t.Fatal("Listen on 0.0.0.0 succeeded, want a refusal")
	}

	// The secret's visit set an HttpOnly session cookie and a CSRF cookie.
	u, _ := url.Parse(p.base)
	if len(p.hc.Jar.Cookies(u)) != 2 || p.csrf() == "" {
		t.Fatalf("cookies after the secret's visit: %v", p.hc.Jar.Cookies(u))
	}
	var s agent.Session
	if code := p.do("GET", "/api/session", nil, &s); code != 200 || s.SignedIn {
		t.Fatalf("session: %d %+v", code, s)
	}

	plain := func(method, path, host string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest(method, p.base+path, strings.NewReader(`{"server":"x"}`))
		if host != "" {
			req.Host = host
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, port, _ := net.SplitHostPort(u.Host)
	cookie := map[string]string{"Cookie": agent.SessionCookie + "=" + sessionCookie(t, a, p)}
	cases := []struct {
		name, method, path, host string
		hdr                      map[string]string
		want                     int
	}{
		{"rebinding host", "GET", "/api/session", "attacker.example:" + port, cookie, http.StatusMisdirectedRequest},
		{"rebinding host for the page", "GET", "/", "attacker.example:" + port, nil, http.StatusMisdirectedRequest},
		{"no cookie", "GET", "/api/session", "", nil, http.StatusUnauthorized},
		{"wrong secret", "GET", "/?key=guess", "", nil, http.StatusForbidden},
		{"write without CSRF", "POST", "/api/signin", "", cookie, http.StatusForbidden},
		{"write with a wrong CSRF", "POST", "/api/signin", "", merge(cookie, map[string]string{agent.CSRFHeader: "guess"}), http.StatusForbidden},
		{"write from another origin", "POST", "/api/signin", "", merge(cookie, map[string]string{agent.CSRFHeader: p.csrf(), "Origin": "http://attacker.example"}), http.StatusForbidden},
		{"write with CSRF", "POST", "/api/signin", "", merge(cookie, map[string]string{agent.CSRFHeader: p.csrf(), "Origin": p.base}), http.StatusBadRequest},
		{"the page without cookie", "GET", "/views/anything", "", nil, http.StatusOK},
	}
	for _, c := range cases {
		code, body := plain(c.method, c.path, c.host, c.hdr)
		if code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// sessionCookie reads the HttpOnly cookie from the jar (a test may; a page
// script may not).
func sessionCookie(t *testing.T, a *agent.Agent, p *player) string {
	u, _ := url.Parse(p.base)
	for _, c := range p.hc.Jar.Cookies(u) {
		if c.Name == agent.SessionCookie {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestAgentAPI: sign in with a token, list and open the demo's app, wait
// for the first sync, page and search a view, edit and create offline
// (the server closed), see the queue, and reopen after a restart.
func TestAgentAPI(t *testing.T) {
	ctx := context.Background()
	p0, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p0, demo.Options{AccountsPerTechnician: 3})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p0)
	srv := httptest.NewServer(httpapi.New(p0, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p0, profiles, syncsrv.Options{})}))
	defer srv.Close()
	tok, err := p0.IssueToken(ctx, platform.System(), env.Technicians[0].ID, "player")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	// A small count cap, so that the quick searches below pass it.
	a, p := startAgentWith(t, agent.Options{Home: home, SearchCountCap: 4})

	var e wire.ErrorBody
	if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Token: "wrong"}, &e); code != 401 || e.Error.Target != "token" {
		t.Fatalf("sign-in with a wrong token: %d %+v", code, e)
	}
	if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: "ftp://x"}, &e); code != 400 || e.Error.Target != "server" {
		t.Fatalf("sign-in with a bad address: %d %+v", code, e)
	}
	if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Username: env.Technicians[0].DomainName, Password: "not her password"}, &e); code != 401 {
		t.Fatalf("password sign-in with a wrong password: %d %+v", code, e)
	}
	if err := p0.SetPassword(ctx, platform.System(), env.Technicians[0].ID, "nora's own password", ""); err != nil {
		t.Fatal(err)
	}
	var byPassword agent.Session
	if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Username: env.Technicians[0].DomainName, Password: "nora's own password"}, &byPassword); code != 200 || !byPassword.SignedIn || byPassword.User != env.Technicians[0].FullName {
		t.Fatalf("password sign-in: %d %+v", code, byPassword)
	}
	var s agent.Session
	if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Token: tok}, &s); code != 200 || !s.SignedIn || s.User != env.Technicians[0].FullName {
		t.Fatalf("sign-in: %d %+v", code, s)
	}
	var apps agent.AppList
	p.do("GET", "/api/apps", nil, &apps)
	var found bool
	for _, app := range apps.Apps {
		found = found || (app.ID == env.ModelDrivenApp && !app.OnDevice)
	}
	if !found {
		t.Fatalf("apps: %+v lack %s", apps, env.ModelDrivenApp)
	}
	if code := p.do("POST", "/api/apps/"+env.ModelDrivenApp+"/open", nil, &s); code != 200 || s.AppName != demo.ModelDrivenName {
		t.Fatalf("open: %d %+v", code, s)
	}
	var st agent.DeviceStatus
	waitUntil(t, func() bool { p.do("GET", "/api/status", nil, &st); return st.Ready && st.State == "Connected" })

	var def agent.AppDefinition
	p.do("GET", "/api/app", nil, &def)
	if len(def.Views) == 0 || def.Views[0].Filter != "completed eq false" {
		t.Fatalf("app definition: %+v", def.Views)
	}
	view := url.QueryEscape(def.Views[0].Name)
	var page agent.RowPage
	if code := p.do("GET", "/api/tables/workorder/rows?view="+view+"&top=5&skip=0", nil, &page); code != 200 || len(page.Rows) != 5 || page.Total <= 5 {
		t.Fatalf("first page: %d %d rows of %d", code, len(page.Rows), page.Total)
	}
	if len(page.Names) == 0 {
		t.Fatalf("no lookup names on the page: %+v", page)
	}
	first := page.Rows[0]
	name := first["name"].(string)
	var hit agent.RowPage
	p.do("GET", "/api/tables/workorder/rows?view="+view+"&search="+url.QueryEscape(name[:8]), nil, &hit)
	if hit.Total < 1 || hit.Total >= page.Total {
		t.Fatalf("search %q: %d of %d", name[:8], hit.Total, page.Total)
	}
	if hit.More {
		t.Fatalf("search %q: a page that is not full ends the list, yet total %d is a lower bound", name[:8], hit.Total)
	}
	// A search matching more rows than the cap counts up to the next
	// multiple of it past the page and says so; the pages go on to the
	// end, where the total is exact: every row of the view, once.
	seen := map[string]bool{}
	for skip := 0; ; skip += 5 {
		var pg agent.RowPage
		if code := p.do("GET", fmt.Sprintf("/api/tables/workorder/rows?view=%s&search=WO-&top=5&skip=%d", view, skip), nil, &pg); code != 200 {
			t.Fatalf("search page at %d: %d", skip, code)
		}
		for _, r := range pg.Rows {
			seen[r["workorderid"].(string)] = true
		}
		if limit := int64(4 * ((skip+5)/4 + 1)); pg.More && pg.Total != limit {
			t.Fatalf("search page at %d: total %d (more), want the cap's multiple %d", skip, pg.Total, limit)
		}
		if skip == 0 && !pg.More {
			t.Fatalf("search over %d rows with a cap of 4: total %d is not marked as a lower bound", page.Total, pg.Total)
		}
		if !pg.More && int64(skip+5) >= pg.Total {
			if pg.Total != page.Total || int64(len(seen)) != page.Total {
				t.Fatalf("the search's last page: total %d, %d rows seen, the view has %d", pg.Total, len(seen), page.Total)
			}
			break
		}
		if skip > int(page.Total) {
			t.Fatalf("the search's pages go past the view's %d rows", page.Total)
		}
	}
	// A form's related rows: the work orders of the first one's account.
	var related agent.RowPage
	account := first["customerid"].(string)
	if code := p.do("GET", "/api/tables/workorder/rows?filter="+url.QueryEscape("customerid eq '"+account+"'"), nil, &related); code != 200 || related.Total < 1 {
		t.Fatalf("related rows: %d %+v", code, related)
	}
	for _, r := range related.Rows {
		if r["customerid"] != account {
			t.Fatalf("related rows of %s hold %v", account, r)
		}
	}
	bad := []struct {
		method, path string
		body         any
		status       int
		target       string
	}{
		{"GET", "/api/tables/workorder/rows?top=9999", nil, 400, "top"},
		{"GET", "/api/tables/workorder/rows?skip=-1", nil, 400, "skip"},
		{"GET", "/api/tables/workorder/rows?view=Nope", nil, 404, "view"},
		{"GET", "/api/tables/workorder/rows?orderby=colour", nil, 400, "$orderby"},
		{"GET", "/api/tables/nosuch/rows", nil, 404, "table"},
		{"GET", "/api/tables/workorder/rows?filter=" + url.QueryEscape("colour eq 1"), nil, 400, "$filter"},
		{"GET", "/api/tables/workorder/rows?search=" + url.QueryEscape("O'Brien 100%"), nil, 200, ""},
		{"PATCH", "/api/tables/workorder/rows/" + first["workorderid"].(string), map[string]any{"values": map[string]any{"colour": "red"}}, 400, "colour"},
		{"PATCH", "/api/tables/workorder/rows/" + first["workorderid"].(string), map[string]any{"vals": 1}, 400, "body"},
		{"GET", "/api/tables/workorder/rows/00000000-0000-0000-0000-000000000000", nil, 404, "id"},
		{"POST", "/api/errors/00000000-0000-0000-0000-000000000000/retry", nil, 404, "id"},
	}
	for _, b := range bad {
		e = wire.ErrorBody{}
		if code := p.do(b.method, b.path, b.body, &e); code != b.status || e.Error.Target != b.target {
			t.Errorf("%s %s: %d %+v, want %d naming %q", b.method, b.path, code, e, b.status, b.target)
		}
	}

	// Offline: the server is gone.
	srv.CloseClientConnections()
	srv.Close()
	id := first["workorderid"].(string)
	var row map[string]any
	if code := p.do("PATCH", "/api/tables/workorder/rows/"+id, agent.RowValues{Values: map[string]any{"description": "checked offline"}}, &row); code != 200 || row["description"] != "checked offline" {
		t.Fatalf("update: %d %v", code, row)
	}
	if code := p.do("PATCH", "/api/tables/workorder/rows/"+id, agent.RowValues{Values: map[string]any{"priority": "high"}}, &e); code != 400 || e.Error.Target != "priority" {
		t.Fatalf("update with a bad value: %d %+v", code, e)
	}
	var created agent.Created
	if code := p.do("POST", "/api/tables/workorder/rows", agent.RowValues{Values: map[string]any{"name": "Call back", "customerid": first["customerid"]}}, &created); code != 201 || created.ID == "" {
		t.Fatalf("create: %d %+v", code, created)
	}
	waitUntil(t, func() bool { p.do("GET", "/api/status", nil, &st); return st.State == "NotConnectedPendingUpsync" })
	var q agent.PendingList
	p.do("GET", "/api/pending", nil, &q)
	if q.Total != 2 || len(q.Changes) != 2 || q.Changes[0].ID != id || q.Changes[1].ID != created.ID {
		t.Fatalf("pending: %+v", q)
	}

	// A restarted agent reopens the app offline, with its definition.
	p.do("GET", "/api/session", nil, &s)
	a.Close()
	_, p2 := startAgent(t, home)
	p2.do("GET", "/api/session", nil, &s)
	if s.AppID != env.ModelDrivenApp {
		t.Fatalf("session after restart: %+v", s)
	}
	p2.do("GET", "/api/app", nil, &def)
	if len(def.Views) == 0 {
		t.Fatal("no views after an offline restart")
	}
}

func waitUntil(t *testing.T, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
