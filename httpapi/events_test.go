package httpapi_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// openEvents opens a change stream; events delivers its events and is
// closed when the stream ends.
func openEvents(t *testing.T, url, token, device string) (int, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+wire.Prefix+"/events?deviceId="+device, nil)
	testenv.Must(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	return openStream(t, http.DefaultClient, req)
}

// openStream opens the change stream of req through hc.
func openStream(t *testing.T, hc *http.Client, req *http.Request) (int, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	t.Cleanup(cancel) // before the server's cleanup waits for its connections
	resp, err := hc.Do(req.WithContext(ctx))
	testenv.Must(t, err)
	events := make(chan sseEvent, 16)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(events)
		return resp.StatusCode, events
	}
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				events <- ev
				ev = sseEvent{}
			}
		}
	}()
	return resp.StatusCode, events
}

// next returns the stream's next event, or ok false when it ended.
func next(t *testing.T, events <-chan sseEvent) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-time.After(15 * time.Second):
		t.Fatal("no event within 15 s")
	}
	return sseEvent{}, false
}

// TestEventStreams: a change stream belongs to a device of its user and
// names only tables of the device's plan; streams are capped per user and
// per device (429 past the cap); a stream ends with a "closed" event when
// its user is disabled or loses the app.
func TestEventStreams(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(t), platform.Options{})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 2})
			testenv.Must(t, err)
			sys := platform.System()
			_, err = p.CreateTable(ctx, sys, platform.TableInput{Name: "memo", Ownership: schema.OwnedByOrganization, PrimaryName: "name",
				Columns: []schema.Column{{Name: "name", Type: schema.Text, MaxLength: 100}}})
			testenv.Must(t, err)
			profiles := apps.New(p)
			eng := syncsrv.New(p, profiles, syncsrv.Options{EventStreamsPerUser: 3, EventStreamsPerDevice: 2})
			srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng}))
			t.Cleanup(srv.Close) // after the streams' cleanups end them
			nora, sam := env.Technicians[0], env.Technicians[2]
			noraTok, err := p.IssueToken(ctx, sys, nora.ID, "device")
			testenv.Must(t, err)
			samTok, err := p.IssueToken(ctx, sys, sam.ID, "device")
			testenv.Must(t, err)
			hc := srv.Client()
			open := func(tok, app string) string {
				id := outpost.NewID()
				req, _ := http.NewRequest("POST", srv.URL+wire.Prefix+"/open", strings.NewReader(`{"deviceId":"`+id+`","appId":"`+app+`"}`))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := hc.Do(req)
				testenv.Must(t, err)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("open: %d", resp.StatusCode)
				}
				return id
			}
			noraDev, noraDev2, samDev := open(noraTok, env.ModelDrivenApp), open(noraTok, env.ModelDrivenApp), open(samTok, env.CanvasApp)

			if code, _ := openEvents(t, srv.URL, noraTok, ""); code != http.StatusBadRequest {
				t.Fatalf("stream without a device: %d, want 400", code)
			}
			if code, _ := openEvents(t, srv.URL, samTok, noraDev); code != http.StatusForbidden {
				t.Fatalf("stream of another user's device: %d, want 403", code)
			}
			code, events := openEvents(t, srv.URL, noraTok, noraDev)
			if code != 200 {
				t.Fatalf("stream: %d", code)
			}

			// Only tables of the plan are hinted.
			_, err = p.Create(ctx, sys, "memo", map[string]any{"name": "outside every plan"})
			testenv.Must(t, err)
			_, err = p.Update(ctx, sys, "workorder", firstID(t, p, "workorder"), map[string]any{"description": "hint"})
			testenv.Must(t, err)
			ev, ok := next(t, events)
			if !ok || ev.name != "change" || ev.data != `{"tables":["workorder"]}` {
				t.Fatalf("first hint: %+v (open %v), want a change of workorder only", ev, ok)
			}

			// Caps: two streams per device, three per user.
			if code, _ := openEvents(t, srv.URL, noraTok, noraDev); code != 200 {
				t.Fatalf("second stream of the device: %d", code)
			}
			if code, _ := openEvents(t, srv.URL, noraTok, noraDev); code != http.StatusTooManyRequests {
				t.Fatalf("third stream of the device: %d, want 429", code)
			}
			if code, _ := openEvents(t, srv.URL, noraTok, noraDev2); code != 200 {
				t.Fatalf("third stream of the user: %d", code)
			}
			if code, _ := openEvents(t, srv.URL, noraTok, noraDev2); code != http.StatusTooManyRequests {
				t.Fatalf("fourth stream of the user: %d, want 429", code)
			}

			// Losing the app closes the stream.
			code, samEvents := openEvents(t, srv.URL, samTok, samDev)
			if code != 200 {
				t.Fatalf("sam's stream: %d", code)
			}
			testenv.Must(t, p.RemoveUserRole(ctx, sys, sam.ID, env.FieldRole))
			if ev, ok := next(t, samEvents); !ok || ev.name != "closed" || !strings.Contains(ev.data, `"target":"appId"`) {
				t.Fatalf("after the app's role was removed: %+v (open %v), want closed naming appId", ev, ok)
			}
			if _, ok := next(t, samEvents); ok {
				t.Fatal("the stream went on after it closed")
			}

			// A disabled user's streams close.
			_, err = p.Update(ctx, sys, "systemuser", nora.ID, map[string]any{"isdisabled": true})
			testenv.Must(t, err)
			if ev, ok := next(t, events); !ok || ev.name != "closed" || !strings.Contains(ev.data, `"code":"unauthorized"`) {
				t.Fatalf("after the user was disabled: %+v (open %v), want closed, unauthorized", ev, ok)
			}
			if _, ok := next(t, events); ok {
				t.Fatal("the stream went on after it closed")
			}
		})
	}
}

func firstID(t *testing.T, p *platform.Platform, table string) string {
	t.Helper()
	var id string
	testenv.Must(t, p.DB().Read.QueryRowContext(context.Background(), `SELECT `+table+`id FROM `+table+` ORDER BY `+table+`id LIMIT 1`).Scan(&id))
	return id
}

// TestStreamsOutliveServerTimeouts: with the server's ReadTimeout and
// WriteTimeout far shorter than a stream, a change stream still delivers
// hints after both passed (streams set a deadline per write instead).
func TestStreamsOutliveServerTimeouts(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(t), platform.Options{})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
			testenv.Must(t, err)
			profiles := apps.New(p)
			eng := syncsrv.New(p, profiles, syncsrv.Options{})
			api := httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng})
			// The device opens through a server without timeouts (an open
			// may take longer under the race detector); the stream goes
			// through one whose timeouts are far shorter than the stream.
			plain := httptest.NewServer(api)
			t.Cleanup(plain.Close)
			srv := httptest.NewUnstartedServer(api)
			srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
			srv.Start()
			t.Cleanup(srv.Close) // after the streams' cleanups end them
			sys := platform.System()
			tok, err := p.IssueToken(ctx, sys, env.Technicians[0].ID, "device")
			testenv.Must(t, err)
			id := outpost.NewID()
			req, _ := http.NewRequest("POST", plain.URL+wire.Prefix+"/open", strings.NewReader(`{"deviceId":"`+id+`","appId":"`+env.ModelDrivenApp+`"}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := plain.Client().Do(req)
			testenv.Must(t, err)
			resp.Body.Close()
			code, events := openEvents(t, srv.URL, tok, id)
			if code != 200 {
				t.Fatalf("stream: %d", code)
			}
			time.Sleep(time.Second)
			_, err = p.Update(ctx, sys, "workorder", firstID(t, p, "workorder"), map[string]any{"description": "late hint"})
			testenv.Must(t, err)
			if ev, ok := next(t, events); !ok || ev.name != "change" {
				t.Fatalf("hint after the server's timeouts passed: %+v (open %v)", ev, ok)
			}
		})
	}
}

// TestEventStreamsEndOnRevocation: a change stream ends with a "closed"
// event as soon as the credential it was opened with is revoked — an
// integration token deleted, a signed-in device revoked — while streams of
// the user's other credentials go on.
func TestEventStreamsEndOnRevocation(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(t), platform.Options{})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
			testenv.Must(t, err)
			profiles := apps.New(p)
			eng := syncsrv.New(p, profiles, syncsrv.Options{})
			srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng}))
			t.Cleanup(srv.Close)
			sys, nora := platform.System(), env.Technicians[0]
			call := func(method, path, tok, body string) int {
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := srv.Client().Do(req)
				testenv.Must(t, err)
				resp.Body.Close()
				return resp.StatusCode
			}
			open := func(tok, device string) <-chan sseEvent {
				if code := call("POST", wire.Prefix+"/open", tok, `{"deviceId":"`+device+`","appId":"`+env.ModelDrivenApp+`"}`); code != 200 {
					t.Fatalf("open: %d", code)
				}
				code, events := openEvents(t, srv.URL, tok, device)
				if code != 200 {
					t.Fatalf("stream: %d", code)
				}
				return events
			}
			closedWith := func(events <-chan sseEvent, code, what string) {
				t.Helper()
				start := time.Now()
				if ev, ok := next(t, events); !ok || ev.name != "closed" || !strings.Contains(ev.data, `"code":"`+code+`"`) {
					t.Fatalf("after %s: %+v (open %v), want closed, %s", what, ev, ok, code)
				}
				if _, ok := next(t, events); ok {
					t.Fatalf("the stream went on after %s", what)
				}
				t.Logf("%s: stream closed %s after %s", e.Name, time.Since(start).Round(time.Millisecond), what)
			}

			kept, _, err := p.IssueIntegrationToken(ctx, sys, nora.ID, "kept", time.Time{})
			testenv.Must(t, err)
			keptEvents := open(kept, outpost.NewID())
			doomed, info, err := p.IssueIntegrationToken(ctx, sys, nora.ID, "doomed", time.Time{})
			testenv.Must(t, err)
			doomedEvents := open(doomed, outpost.NewID())
			if code := call("DELETE", "/api/security/tokens/"+info.ID, kept, ""); code != http.StatusNoContent && code != http.StatusOK {
				t.Fatalf("revoke token: %d", code)
			}
			closedWith(doomedEvents, "unauthorized", "its token was revoked")

			dc, err := p.SignInDevice(ctx, nora.ID, platform.DeviceInput{Name: "tablet", Platform: "test"})
			testenv.Must(t, err)
			deviceEvents := open(dc.AccessToken, dc.DeviceID)
			if code := call("POST", "/api/devices/"+dc.DeviceID+"/revoke", kept, ""); code != http.StatusNoContent && code != http.StatusOK {
				t.Fatalf("revoke device: %d", code)
			}
			closedWith(deviceEvents, "device_revoked", "its device was revoked")

			// The stream of the credential kept still gets hints.
			_, err = p.Update(ctx, sys, "workorder", firstID(t, p, "workorder"), map[string]any{"description": "hint"})
			testenv.Must(t, err)
			if ev, ok := next(t, keptEvents); !ok || ev.name != "change" {
				t.Fatalf("kept stream: %+v (open %v), want a change", ev, ok)
			}
		})
	}
}
