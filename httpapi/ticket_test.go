package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// TestEventStreamTickets: a browser opens a change stream without an
// Authorization header, with a stream ticket (used once, within its
// lifetime, for its device only) or with its session cookie. Every ticket
// that does not open a stream gets the same 401 and nothing else; a
// ticket is never a bearer token; the stream it opened ends when the
// credential that asked for it is revoked.
func TestEventStreamTickets(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var offset atomic.Int64 // the clock's lead on time.Now
			now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			p, err := platform.Open(ctx, e.Open(t), platform.Options{Now: now, PasswordCost: bcrypt.MinCost})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
			testenv.Must(t, err)
			profiles := apps.New(p)
			eng := syncsrv.New(p, profiles, syncsrv.Options{Now: now})
			srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng}))
			t.Cleanup(srv.Close)
			sys, nora, sam := platform.System(), env.Technicians[0], env.Technicians[2]

			call := func(hc *http.Client, method, path, tok, body string, header map[string]string) (int, http.Header, string) {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				for k, v := range header {
					req.Header.Set(k, v)
				}
				resp, err := hc.Do(req)
				testenv.Must(t, err)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header, string(b)
			}
			openDevice := func(tok, app string) string {
				id := outpost.NewID()
				if code, _, body := call(http.DefaultClient, "POST", wire.Prefix+"/open", tok, `{"deviceId":"`+id+`","appId":"`+app+`"}`, nil); code != 200 {
					t.Fatalf("open: %d %s", code, body)
				}
				return id
			}
			ticketFor := func(hc *http.Client, tok, device string, header map[string]string) string {
				t.Helper()
				code, h, body := call(hc, "POST", wire.Prefix+"/events/ticket", tok, `{"deviceId":"`+device+`"}`, header)
				var tk httpapi.EventTicket
				if code != 200 || json.Unmarshal([]byte(body), &tk) != nil || !strings.HasPrefix(tk.Ticket, "ops_") || h.Get("Cache-Control") != "no-store" {
					t.Fatalf("ticket: %d %s", code, body)
				}
				if d := tk.ExpiresOn.Sub(now()); d <= 0 || d > platform.StreamTicketLifetime {
					t.Fatalf("ticket expires in %s, want within %s", d, platform.StreamTicketLifetime)
				}
				return tk.Ticket
			}
			stream := func(hc *http.Client, device, ticket string) (int, <-chan sseEvent) {
				req, _ := http.NewRequest("GET", srv.URL+wire.Prefix+"/events?deviceId="+device+"&ticket="+ticket, nil)
				return openStream(t, hc, req)
			}
			wantRefused := func(device, ticket, what string) {
				t.Helper()
				code, h, body := call(http.DefaultClient, "GET", wire.Prefix+"/events?deviceId="+device+"&ticket="+ticket, "", "", nil)
				want := `{"error":{"code":"unauthorized","message":"the stream ticket is not valid: ask for a new one (a ticket is used once, within 1m0s)"}}` + "\n"
				if code != http.StatusUnauthorized || body != want || h.Get("Content-Type") != "application/json; charset=utf-8" {
					t.Fatalf("%s: %d %q %s, want 401 with the ticket error only", what, code, h.Get("Content-Type"), body)
				}
			}

			noraTok, err := p.IssueToken(ctx, sys, nora.ID, "browser")
			testenv.Must(t, err)
			samTok, err := p.IssueToken(ctx, sys, sam.ID, "browser")
			testenv.Must(t, err)
			dev, samDev := openDevice(noraTok, env.ModelDrivenApp), openDevice(samTok, env.CanvasApp)

			// Once: the ticket opens the stream, which hears of changes.
			ticket := ticketFor(http.DefaultClient, noraTok, dev, nil)
			code, events := stream(http.DefaultClient, dev, ticket)
			if code != 200 {
				t.Fatalf("stream with a ticket: %d", code)
			}
			_, err = p.Update(ctx, sys, "workorder", firstID(t, p, "workorder"), map[string]any{"description": "hint"})
			testenv.Must(t, err)
			if ev, ok := next(t, events); !ok || ev.name != "change" {
				t.Fatalf("ticketed stream: %+v (open %v), want a change", ev, ok)
			}
			wantRefused(dev, ticket, "a used ticket")

			// Foreign: another device's, another user's, forged, a token.
			wantRefused(samDev, ticketFor(http.DefaultClient, noraTok, dev, nil), "nora's ticket on sam's device")
			wantRefused(dev, ticketFor(http.DefaultClient, samTok, samDev, nil), "sam's ticket on nora's device")
			wantRefused(dev, "ops_forged", "a forged ticket")
			wantRefused(dev, noraTok, "a bearer token as a ticket")
			if code, _, _ := call(http.DefaultClient, "GET", "/api/whoami", ticketFor(http.DefaultClient, noraTok, dev, nil), "", nil); code != http.StatusUnauthorized {
				t.Fatalf("a ticket as a bearer token: %d, want 401", code)
			}
			if code, _, _ := call(http.DefaultClient, "POST", wire.Prefix+"/events/ticket", "", `{"deviceId":"`+dev+`"}`, nil); code != http.StatusUnauthorized {
				t.Fatalf("a ticket without credentials: %d, want 401", code)
			}

			// Within its lifetime only.
			late := ticketFor(http.DefaultClient, noraTok, dev, nil)
			offset.Store(int64(platform.StreamTicketLifetime + time.Second))
			wantRefused(dev, late, "an expired ticket")
			offset.Store(0)

			// Of a credential revoked since: refused; a stream it opened ends.
			doomed, info, err := p.IssueIntegrationToken(ctx, sys, nora.ID, "doomed", time.Time{})
			testenv.Must(t, err)
			unused, used := ticketFor(http.DefaultClient, doomed, dev, nil), ticketFor(http.DefaultClient, doomed, dev, nil)
			code, doomedEvents := stream(http.DefaultClient, dev, used)
			if code != 200 {
				t.Fatalf("stream: %d", code)
			}
			testenv.Must(t, p.RevokeToken(ctx, sys, info.ID))
			wantRefused(dev, unused, "a ticket of a revoked token")
			if ev, ok := next(t, doomedEvents); !ok || ev.name != "closed" || !strings.Contains(ev.data, `"code":"unauthorized"`) {
				t.Fatalf("after its token was revoked: %+v (open %v), want closed, unauthorized", ev, ok)
			}

			// A signed-in browser session: the cookie opens the stream, and
			// asks for tickets with its CSRF token.
			testenv.Must(t, p.SetPassword(ctx, sys, nora.ID, userPassword, ""))
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			code, _, body := call(browser, "POST", "/api/auth/login", "", `{"username":"`+nora.DomainName+`","password":"`+userPassword+`","mode":"session"}`, nil)
			if code != 200 {
				t.Fatalf("login: %d %s", code, body)
			}
			var login map[string]any
			testenv.Must(t, json.Unmarshal([]byte(body), &login))
			req, _ := http.NewRequest("GET", srv.URL+wire.Prefix+"/events?deviceId="+dev, nil)
			if code, _ := openStream(t, browser, req); code != 200 {
				t.Fatalf("stream with the session cookie: %d", code)
			}
			if code, _, _ := call(browser, "POST", wire.Prefix+"/events/ticket", "", `{"deviceId":"`+dev+`"}`, nil); code != http.StatusForbidden {
				t.Fatalf("a ticket asked for with the cookie and no CSRF token: %d, want 403", code)
			}
			dev2 := openDevice(noraTok, env.ModelDrivenApp) // dev has its two streams
			tk := ticketFor(browser, "", dev2, map[string]string{httpapi.CSRFHeader: login["csrf_token"].(string)})
			if code, _ := stream(http.DefaultClient, dev2, tk); code != 200 {
				t.Fatalf("stream with a session's ticket: %d", code)
			}
		})
	}
}
