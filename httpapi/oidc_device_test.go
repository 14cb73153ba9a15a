package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// loopback is the device's redirect URI in these tests; nothing listens
// there: the browser stops before it.
const loopback = "http://127.0.0.1:48123/signin/callback"

// deviceBrowser follows redirects until the device's loopback.
func deviceBrowser() *http.Client {
	return &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "127.0.0.1:48123" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// deviceSignIn runs a device's sign-in through the browser and returns
// the query the loopback received, or the server's error reply.
func (f *oidcFixture) deviceSignIn(t *testing.T, query url.Values) (url.Values, int, map[string]any) {
	t.Helper()
	res, err := deviceBrowser().Get(f.srv.URL + "/api/auth/oidc/device/start?" + query.Encode())
	testenv.Must(t, err)
	defer res.Body.Close()
	if res.StatusCode != http.StatusFound {
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return nil, res.StatusCode, body
	}
	u, err := url.Parse(res.Header.Get("Location"))
	testenv.Must(t, err)
	if u.Scheme+"://"+u.Host+u.Path != loopback {
		t.Fatalf("the browser was sent to %s, not the device's loopback", u)
	}
	return u.Query(), res.StatusCode, nil
}

func startQuery(state, verifier string) url.Values {
	return url.Values{"redirect_uri": {loopback}, "state": {state}, "code_challenge": {platform.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"}}
}

// exchange posts the code and verifier; it returns the status and body.
func (f *oidcFixture) exchange(t *testing.T, code, verifier string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"code": code, "code_verifier": verifier, "device": map[string]string{"name": "tablet", "platform": "android"}})
	res, err := http.Post(f.srv.URL+"/api/auth/oidc/device/token", "application/json", bytes.NewReader(b))
	testenv.Must(t, err)
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

const verifier = "a-device-verifier-of-forty-three-characters-or-more"

func TestOIDCDeviceSignIn(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f := newOIDCFixture(t, e, false)

			// The providers route names the provider and its device start.
			res, err := http.Get(f.srv.URL + "/api/auth/providers")
			testenv.Must(t, err)
			var list struct {
				Providers []map[string]string `json:"providers"`
			}
			testenv.Must(t, json.NewDecoder(res.Body).Decode(&list))
			res.Body.Close()
			if len(list.Providers) != 1 || list.Providers[0]["name"] != "Example ID" || list.Providers[0]["device_start"] != "/api/auth/oidc/device/start" {
				t.Fatalf("providers: %v", list)
			}

			// The happy path: a one-time code and the device's state at the
			// loopback, exchanged for a device credential that works.
			f.op.QueueUser("1", "jane.doe@example.com")
			q, status, body := f.deviceSignIn(t, startQuery("device-state-1", verifier))
			if status != http.StatusFound || q.Get("state") != "device-state-1" || q.Get("code") == "" || q.Get("error") != "" {
				t.Fatalf("device sign-in: %d %v %v", status, q, body)
			}
			code := q.Get("code")
			st, cred := f.exchange(t, code, verifier)
			if st != http.StatusOK || cred["access_token"] == nil || cred["refresh_token"] == nil || cred["userid"] != f.userID || cred["deviceid"] == nil {
				t.Fatalf("exchange: %d %v", st, cred)
			}
			req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/whoami", nil)
			req.Header.Set("Authorization", "Bearer "+cred["access_token"].(string))
			res, err = http.DefaultClient.Do(req)
			testenv.Must(t, err)
			var who map[string]any
			_ = json.NewDecoder(res.Body).Decode(&who)
			res.Body.Close()
			if who["userid"] != f.userID {
				t.Fatalf("the device credential signs in as %v, want %s", who, f.userID)
			}
			// It renews like a password sign-in's.
			b, _ := json.Marshal(map[string]any{"refresh_token": cred["refresh_token"]})
			res, err = http.Post(f.srv.URL+"/api/auth/refresh", "application/json", bytes.NewReader(b))
			testenv.Must(t, err)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("refresh of the device credential: %d", res.StatusCode)
			}
			devs, err := f.p.ListDevices(context.Background(), platform.System(), platform.DeviceFilter{})
			testenv.Must(t, err)
			if len(devs) != 1 || devs[0].Name != "tablet" {
				t.Fatalf("devices: %+v", devs)
			}

			// A code works once.
			if st, body := f.exchange(t, code, verifier); st != http.StatusBadRequest || !strings.Contains(errMessage(body), "already used") {
				t.Fatalf("reused code: %d %v", st, body)
			}
			// An unknown code.
			if st, body := f.exchange(t, "opc_nothing", verifier); st != http.StatusBadRequest || !strings.Contains(errMessage(body), "not one the server issued") {
				t.Fatalf("unknown code: %d %v", st, body)
			}

			// A wrong verifier issues nothing, and spends the code.
			f.op.QueueUser("1", "jane.doe@example.com")
			q, _, _ = f.deviceSignIn(t, startQuery("s2", verifier))
			if st, body := f.exchange(t, q.Get("code"), verifier+"x"); st != http.StatusBadRequest || !strings.Contains(errMessage(body), "code_verifier does not match") {
				t.Fatalf("wrong verifier: %d %v", st, body)
			}
			if st, _ := f.exchange(t, q.Get("code"), verifier); st != http.StatusBadRequest {
				t.Fatalf("the code after a wrong verifier: %d", st)
			}

			// An expired code: the server's clock moves past its 60 seconds.
			f.op.QueueUser("1", "jane.doe@example.com")
			q, _, _ = f.deviceSignIn(t, startQuery("s3", verifier))
			f.skew.Store(int64(platform.DeviceCodeLifetime + time.Second))
			if st, body := f.exchange(t, q.Get("code"), verifier); st != http.StatusBadRequest || !strings.Contains(errMessage(body), "expired") {
				t.Fatalf("expired code: %d %v", st, body)
			}
			f.skew.Store(0)

			// A disabled user gets no code: the refusal goes to the device.
			f.op.QueueUser("1", "jane.doe@example.com")
			_, err = f.p.Update(context.Background(), platform.System(), "systemuser", f.userID, map[string]any{"isdisabled": true})
			testenv.Must(t, err)
			q, status, _ = f.deviceSignIn(t, startQuery("s4", verifier))
			if status != http.StatusFound || q.Get("code") != "" || q.Get("error") != "access_denied" || q.Get("state") != "s4" || !strings.Contains(q.Get("error_description"), "disabled") {
				t.Fatalf("disabled user: %d %v", status, q)
			}

			// The provider's callback with a state no device started.
			res, err = deviceBrowser().Get(f.srv.URL + "/api/auth/oidc/callback?code=x&state=dev.unknown")
			testenv.Must(t, err)
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("unknown device state: %d", res.StatusCode)
			}
			devs, err = f.p.ListDevices(context.Background(), platform.System(), platform.DeviceFilter{IncludeRevoked: true})
			testenv.Must(t, err)
			if len(devs) != 1 {
				t.Fatalf("refused sign-ins registered devices: %+v", devs)
			}
		})
	}
}

func TestOIDCDeviceStartRefusesBadRequests(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f := newOIDCFixture(t, e, false)
			for _, c := range []struct{ name, redirect, target string }{
				{"https site", "https://attacker.example.com/cb", "redirect_uri"},
				{"http site", "http://attacker.example.com/cb", "redirect_uri"},
				{"https loopback", "https://127.0.0.1:4000/cb", "redirect_uri"},
				{"other local address", "http://10.0.0.5:4000/cb", "redirect_uri"},
				{"name ending in localhost", "http://evil-localhost:4000/cb", "redirect_uri"},
				{"user info", "http://attacker.example.com@127.0.0.1:4000/cb", "redirect_uri"},
				{"fragment", "http://127.0.0.1:4000/cb#x", "redirect_uri"},
				{"missing", "", "redirect_uri"},
			} {
				q := startQuery("s", verifier)
				q.Set("redirect_uri", c.redirect)
				_, status, body := f.deviceSignIn(t, q)
				if status != http.StatusBadRequest || errTarget(body) != c.target || !strings.Contains(errMessage(body), "redirect_uri") {
					t.Errorf("%s: %d %v", c.name, status, body)
				}
			}
			for _, ok := range []string{"http://localhost:4000/cb", "http://[::1]:4000/cb", "http://127.0.0.1/cb"} {
				q := startQuery("s", verifier)
				q.Set("redirect_uri", ok)
				res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(f.srv.URL + "/api/auth/oidc/device/start?" + q.Encode())
				testenv.Must(t, err)
				res.Body.Close()
				if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), f.op.Issuer()) {
					t.Errorf("loopback %s: %d %s", ok, res.StatusCode, res.Header.Get("Location"))
				}
			}
			q := startQuery("s", verifier)
			q.Set("code_challenge_method", "plain")
			if _, status, body := f.deviceSignIn(t, q); status != http.StatusBadRequest || errTarget(body) != "code_challenge_method" {
				t.Errorf("plain PKCE: %d %v", status, body)
			}
			q = startQuery("", verifier)
			if _, status, body := f.deviceSignIn(t, q); status != http.StatusBadRequest || errTarget(body) != "state" {
				t.Errorf("no state: %d %v", status, body)
			}
			q = startQuery("s", verifier)
			q.Set("code_challenge", "short")
			if _, status, body := f.deviceSignIn(t, q); status != http.StatusBadRequest || errTarget(body) != "code_challenge" {
				t.Errorf("bad challenge: %d %v", status, body)
			}
		})
	}
}

func errTarget(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["target"].(string)
	return s
}
