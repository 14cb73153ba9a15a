package agent_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestPasswordSignInRefreshes: with device access tokens that last one
// second, a password sign-in keeps working for as long as its refresh
// token: the agent renews the access token before it expires (the app
// list, the first sync, an edit's upload, all after the first token has
// expired) and after the server refuses one (401), and a restarted agent
// picks the credential up again.
func TestPasswordSignInRefreshes(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		var refuse atomic.Bool
		refuseOnce := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/offline/apps" && refuse.CompareAndSwap(true, false) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusUnauthorized)
					w.Write([]byte(`{"error":{"code":"token_expired","message":"the access token has expired"}}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
		p0, env, srv := demoServer(t, e, platform.Options{AccessTokenLifetime: time.Second, PasswordCost: 4}, refuseOnce)
		ctx := context.Background()
		nora := env.Technicians[0]
		if err := p0.SetPassword(ctx, platform.System(), nora.ID, "nora's own password", ""); err != nil {
			t.Fatal(err)
		}
		home := t.TempDir()
		a, p := startAgent(t, home)
		var s agent.Session
		if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Username: nora.DomainName, Password: "nora's own password"}, &s); code != 200 || !s.SignedIn {
			t.Fatalf("password sign-in: %d %+v", code, s)
		}
		first := readCredential(t, home)
		time.Sleep(1500 * time.Millisecond) // the first access token has expired
		var apps agent.AppList
		if code := p.do("GET", "/api/apps", nil, &apps); code != 200 || len(apps.Apps) == 0 {
			t.Fatalf("apps after the access token expired: %d %+v", code, apps)
		}
		if code := p.do("POST", "/api/apps/"+env.ModelDrivenApp+"/open", nil, &s); code != 200 {
			t.Fatalf("open: %d %+v", code, s)
		}
		var st agent.DeviceStatus
		waitUntil(t, func() bool { p.do("GET", "/api/status", nil, &st); return st.Ready && st.State == "Connected" })
		time.Sleep(1500 * time.Millisecond)
		var page agent.RowPage
		p.do("GET", "/api/tables/workorder/rows?top=1", nil, &page)
		id := page.Rows[0]["workorderid"].(string)
		if code := p.do("PATCH", "/api/tables/workorder/rows/"+id, agent.RowValues{Values: map[string]any{"description": "renewed"}}, nil); code != 200 {
			t.Fatalf("update: %d", code)
		}
		waitUntil(t, func() bool {
			p.do("GET", "/api/status", nil, &st)
			return st.PendingUploads == 0 && st.State == "Connected"
		})
		var row struct {
			Description string `json:"description"`
		}
		tok, err := p0.IssueToken(ctx, platform.System(), nora.ID, "check")
		if err != nil {
			t.Fatal(err)
		}
		getJSON(t, srv.URL+"/api/data/workorder("+id+")?$select=description", tok, &row)
		if row.Description != "renewed" {
			t.Fatalf("server has description %q after the upload", row.Description)
		}

		// The server refuses the access token once: the agent renews it
		// and asks again.
		before := readCredential(t, home)
		refuse.Store(true)
		if code := p.do("GET", "/api/apps", nil, &apps); code != 200 || refuse.Load() {
			t.Fatalf("apps after a refusal: %d, refused: %v", code, !refuse.Load())
		}
		after := readCredential(t, home)
		if after.AccessToken == before.AccessToken || after.RefreshToken == first.RefreshToken || after.DeviceID != first.DeviceID {
			t.Fatalf("credential not renewed: first %+v, now %+v", first, after)
		}

		// A restart keeps the sign-in.
		a.Close()
		_, p2 := startAgent(t, home)
		p2.do("GET", "/api/session", nil, &s)
		if !s.SignedIn || s.AppID != env.ModelDrivenApp {
			t.Fatalf("session after a restart: %+v", s)
		}
		waitUntil(t, func() bool { p2.do("GET", "/api/status", nil, &st); return st.State == "Connected" })
		if code := p2.do("POST", "/api/signout", nil, &s); code != 200 || s.SignedIn {
			t.Fatalf("sign out: %d %+v", code, s)
		}
		if _, err := os.Stat(filepath.Join(home, "credential.json")); !os.IsNotExist(err) {
			t.Fatalf("the credential stays after signing out: %v", err)
		}
	})
}

func readCredential(t *testing.T, home string) client.Credential {
	t.Helper()
	c, err := client.FileCredentials{Path: filepath.Join(home, "credential.json")}.Load(context.Background())
	if err != nil || c == nil {
		t.Fatalf("credential: %v %v", c, err)
	}
	return *c
}

func getJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Fatal(err)
	}
}
