package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/oidctest"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// oidcFixture is an Outpost server configured for single sign-on against a
// real OpenID provider (oidctest) on loopback.
type oidcFixture struct {
	srv *httptest.Server
	p   *platform.Platform
	op  *oidctest.Provider
	// skew moves the Outpost server's clock (nanoseconds ahead).
	skew   atomic.Int64
	userID string
	unit   string
}

func newOIDCFixture(t *testing.T, e testenv.Engine, create bool) *oidcFixture {
	t.Helper()
	ctx := context.Background()
	f := &oidcFixture{op: oidctest.Start(t)}
	p, err := platform.Open(ctx, e.Open(t), platform.Options{Now: func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	sys := platform.System()
	if f.userID, err = p.CreateUser(ctx, sys, platform.UserInput{FullName: "Jane", DomainName: "jane.doe@example.com"}); err != nil {
		t.Fatal(err)
	}
	root, err := p.RootBusinessUnit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.unit, err = p.CreateBusinessUnit(ctx, sys, "Field", root); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(httpapi.New(p, httpapi.Options{OIDC: &httpapi.OIDCOptions{
		Issuer: f.op.Issuer(), ClientID: f.op.ClientID(), Name: "Example ID", ClientSecret: f.op.ClientSecret(), AfterLogin: "/signed-in",
		Provisioning: platform.Provisioning{Create: create, BusinessUnitID: f.unit, RoleIDs: []string{security.RoleBasicUser}},
	}}))
	t.Cleanup(f.srv.Close)
	return f
}

// browser is a cookie-keeping client that stops at the page after sign-in.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/signed-in" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// signIn runs the browser through the code flow and returns the last
// response: 302 to /signed-in on success, else Outpost's error.
func (f *oidcFixture) signIn(t *testing.T, hc *http.Client) (*http.Response, map[string]any) {
	t.Helper()
	res, err := hc.Get(f.srv.URL + "/api/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	return res, body
}

func (f *oidcFixture) whoami(t *testing.T, hc *http.Client) string {
	t.Helper()
	res, err := hc.Get(f.srv.URL + "/api/whoami")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	s, _ := body["userid"].(string)
	return s
}

func TestOIDCSignIn(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f := newOIDCFixture(t, e, false)
			// Discovery, keys, code exchange with PKCE, a verified email.
			f.op.QueueUser("1", "Jane.Doe@example.com")
			hc := browser()
			res, body := f.signIn(t, hc)
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/signed-in" {
				t.Fatalf("sign-in: %d %v", res.StatusCode, body)
			}
			if got := f.whoami(t, hc); got != f.userID {
				t.Fatalf("signed in as %q, want %s", got, f.userID)
			}

			// An email the provider has not verified is not enough.
			f.op.QueueUnverifiedUser("1", "jane.doe@example.com")
			if res, body := f.signIn(t, browser()); res.StatusCode != 401 || !strings.Contains(errMessage(body), "not verified") {
				t.Fatalf("unverified email: %d %v", res.StatusCode, body)
			}
			// Nobody by that name, and no user creation.
			f.op.QueueUser("2", "stranger@example.com")
			if res, body := f.signIn(t, browser()); res.StatusCode != 401 || !strings.Contains(errMessage(body), "no Outpost user") {
				t.Fatalf("unknown user: %d %v", res.StatusCode, body)
			}

			// A token minted for another client is refused.
			f.op.SetWrongAudience(true)
			f.op.QueueUser("1", "jane.doe@example.com")
			if res, body := f.signIn(t, browser()); res.StatusCode != 401 || !strings.Contains(errMessage(body), "audience") {
				t.Fatalf("wrong audience: %d %v", res.StatusCode, body)
			}
			f.op.SetWrongAudience(false)

			// An expired token is refused: the provider's clock is an hour behind.
			f.op.FastForward(-time.Hour)
			f.op.QueueUser("1", "jane.doe@example.com")
			if res, body := f.signIn(t, browser()); res.StatusCode != 401 || !strings.Contains(errMessage(body), "expired") {
				t.Fatalf("expired token: %d %v", res.StatusCode, body)
			}
			f.op.FastForward(time.Hour)
		})
	}
}

func TestOIDCNonceReplayAndUserCreation(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f := newOIDCFixture(t, e, true)
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := noFollow.Get(f.srv.URL + "/api/auth/oidc/login")
			testenv.Must(t, err)
			res.Body.Close()
			authorize, cookies := res.Header.Get("Location"), res.Cookies()
			u, err := url.Parse(authorize)
			testenv.Must(t, err)
			if u.Query().Get("code_challenge") == "" || u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("nonce") == "" {
				t.Fatalf("the authorization request lacks PKCE or a nonce: %s", authorize)
			}
			// The same authorization request (same state and nonce) twice:
			// the second ID token replays the nonce.
			for i, want := range []int{http.StatusFound, http.StatusUnauthorized} {
				f.op.QueueUser("3", "new.tech@example.com")
				res, err := noFollow.Get(authorize)
				testenv.Must(t, err)
				res.Body.Close()
				callback, err := http.NewRequest(http.MethodGet, res.Header.Get("Location"), nil)
				testenv.Must(t, err)
				for _, c := range cookies {
					callback.AddCookie(c)
				}
				res, err = noFollow.Do(callback)
				testenv.Must(t, err)
				var b bytes.Buffer
				_, _ = b.ReadFrom(res.Body)
				res.Body.Close()
				if res.StatusCode != want || (i == 1 && !strings.Contains(b.String(), "replayed")) {
					t.Fatalf("callback %d: %d %s, want %d", i, res.StatusCode, b.String(), want)
				}
			}
			// The first sign-in created the user in the configured unit with the configured role.
			id, err := f.p.FindUser(context.Background(), "new.tech@example.com")
			testenv.Must(t, err)
			pr, err := f.p.Principal(context.Background(), id)
			testenv.Must(t, err)
			if pr.BusinessUnitID != f.unit || len(pr.RoleIDs) != 1 || pr.RoleIDs[0] != security.RoleBasicUser {
				t.Fatalf("created user: unit %s roles %v", pr.BusinessUnitID, pr.RoleIDs)
			}
			// A callback without the browser's cookie is refused.
			res, err = noFollow.Get(f.srv.URL + "/api/auth/oidc/callback?code=x&state=y")
			testenv.Must(t, err)
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Fatalf("callback without a sign-in in progress: %d", res.StatusCode)
			}
		})
	}
}
