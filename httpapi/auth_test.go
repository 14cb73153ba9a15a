package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// authFixture is a server with an administrator and a user who both have
// passwords (cheap hashes, for speed).
type authFixture struct {
	srv             *httptest.Server
	p               *platform.Platform
	adminID, userID string
	admin           string // the administrator's bearer token
}

const userPassword = "field work all day"

func newAuthFixture(t *testing.T, e testenv.Engine) *authFixture {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	f := &authFixture{p: p, srv: httptest.NewServer(httpapi.New(p, httpapi.Options{}))}
	t.Cleanup(f.srv.Close)
	sys := platform.System()
	if f.adminID, err = p.CreateUser(ctx, sys, platform.UserInput{FullName: "Admin", DomainName: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := p.AssignUserRole(ctx, sys, f.adminID, security.RoleSystemAdministrator); err != nil {
		t.Fatal(err)
	}
	if f.userID, err = p.CreateUser(ctx, sys, platform.UserInput{FullName: "Nora", DomainName: "nora@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	if err := p.AssignUserRole(ctx, sys, f.userID, security.RoleBasicUser); err != nil {
		t.Fatal(err)
	}
	if f.admin, err = p.IssueToken(ctx, sys, f.adminID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := p.SetPassword(ctx, sys, f.userID, userPassword, ""); err != nil {
		t.Fatal(err)
	}
	return f
}

// send sends a request with optional bearer token and headers through hc
// and decodes the JSON reply.
func (f *authFixture) send(t *testing.T, hc *http.Client, method, path, token, body string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: reply is not JSON: %s", method, path, data)
		}
	}
	return res, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestBrowserSessionLoginCSRFLogout(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newAuthFixture(t, e)
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar}
		res, body := f.send(t, hc, "POST", "/api/auth/login", "", `{"username":"nora@contoso.com","password":"wrong password here","mode":"session"}`, nil)
		if res.StatusCode != 401 || errCode(body) != "unauthorized" {
			t.Fatalf("wrong password: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "POST", "/api/auth/login", "", `{"username":"nora@contoso.com","password":"`+userPassword+`","mode":"sso"}`, nil)
		if res.StatusCode != 400 || errCode(body) != "invalid" {
			t.Fatalf("unknown mode: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "POST", "/api/auth/login", "", `{"username":"nora@contoso.com","password":"`+userPassword+`","mode":"session"}`, nil)
		if res.StatusCode != 200 || body["userid"] != f.userID {
			t.Fatalf("login: %d %v", res.StatusCode, body)
		}
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == httpapi.SessionCookie {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
			t.Fatalf("session cookie = %+v (plain HTTP: not Secure)", session)
		}
		csrf, _ := body["csrf_token"].(string)
		// Reads work with the cookie alone.
		res, body = f.send(t, hc, "GET", "/api/whoami", "", "", nil)
		if res.StatusCode != 200 || body["userid"] != f.userID {
			t.Fatalf("whoami with the session: %d %v", res.StatusCode, body)
		}
		// Writes need the CSRF token.
		res, body = f.send(t, hc, "POST", "/api/data/account", "", `{"name":"Contoso"}`, map[string]string{"Content-Type": "application/json"})
		if res.StatusCode != 403 || errCode(body) != "forbidden" {
			t.Fatalf("write without CSRF token: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "POST", "/api/data/account", "", `{"name":"Contoso"}`, map[string]string{httpapi.CSRFHeader: "forged"})
		if res.StatusCode != 403 {
			t.Fatalf("write with a wrong CSRF token: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "POST", "/api/data/account", "", `{"name":"Contoso"}`, map[string]string{httpapi.CSRFHeader: csrf})
		if res.StatusCode != 201 {
			t.Fatalf("write with the CSRF token: %d %v", res.StatusCode, body)
		}
		res, _ = f.send(t, hc, "POST", "/api/auth/logout", "", "", map[string]string{httpapi.CSRFHeader: csrf})
		if res.StatusCode != 204 {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		// The old cookie is dead even when replayed.
		res, _ = f.send(t, http.DefaultClient, "GET", "/api/whoami", "", "", map[string]string{"Cookie": httpapi.SessionCookie + "=" + session.Value})
		if res.StatusCode != 401 {
			t.Fatalf("whoami after logout: %d", res.StatusCode)
		}
		// A bearer token in a cookie is not a session.
		res, _ = f.send(t, http.DefaultClient, "GET", "/api/whoami", "", "", map[string]string{"Cookie": httpapi.SessionCookie + "=" + f.admin})
		if res.StatusCode != 401 {
			t.Fatalf("an integration token as a cookie: %d", res.StatusCode)
		}
	})
}

func TestLoginLockoutAndDisabledUserOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newAuthFixture(t, e)
		hc := http.DefaultClient
		login := `{"username":"nora@contoso.com","password":"` + userPassword + `","mode":"device"}`
		res, body := f.send(t, hc, "PATCH", "/api/data/systemuser("+f.userID+")", f.admin, `{"isdisabled":true}`, nil)
		if res.StatusCode != 200 {
			t.Fatalf("disable: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "POST", "/api/auth/login", "", login, nil)
		if res.StatusCode != 401 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "disabled") {
			t.Fatalf("disabled user: %d %v", res.StatusCode, body)
		}
		f.send(t, hc, "PATCH", "/api/data/systemuser("+f.userID+")", f.admin, `{"isdisabled":false}`, nil)
		if res, body = f.send(t, hc, "POST", "/api/auth/login", "", login, nil); res.StatusCode != 200 {
			t.Fatalf("re-enabled user: %d %v", res.StatusCode, body)
		}
		for range 5 {
			f.send(t, hc, "POST", "/api/auth/login", "", `{"username":"nora@contoso.com","password":"not the password","mode":"device"}`, nil)
		}
		res, body = f.send(t, hc, "POST", "/api/auth/login", "", login, nil)
		if res.StatusCode != 429 || errCode(body) != "too_many_attempts" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("locked out: %d %v Retry-After=%q", res.StatusCode, body, res.Header.Get("Retry-After"))
		}
	})
}

func TestDeviceLoginRefreshRevokeOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newAuthFixture(t, e)
		hc := http.DefaultClient
		res, cred := f.send(t, hc, "POST", "/api/auth/login", "", `{"username":"nora@contoso.com","password":"`+userPassword+`","mode":"device","device":{"name":"Nora's phone","platform":"android"}}`, nil)
		if res.StatusCode != 200 || cred["access_token"] == nil || cred["refresh_token"] == nil || cred["deviceid"] == nil {
			t.Fatalf("device login: %d %v", res.StatusCode, cred)
		}
		access, refresh, device := cred["access_token"].(string), cred["refresh_token"].(string), cred["deviceid"].(string)
		res, body := f.send(t, hc, "GET", "/api/whoami", access, "", map[string]string{httpapi.PendingHeader: "3"})
		if res.StatusCode != 200 || body["userid"] != f.userID {
			t.Fatalf("whoami with the access token: %d %v", res.StatusCode, body)
		}
		res, next := f.send(t, hc, "POST", "/api/auth/refresh", "", `{"refresh_token":"`+refresh+`"}`, nil)
		if res.StatusCode != 200 || next["refresh_token"] == refresh || next["deviceid"] != device {
			t.Fatalf("refresh: %d %v", res.StatusCode, next)
		}
		access = next["access_token"].(string)

		// The user sees their device; the administrator sees everyone's.
		res, body = f.send(t, hc, "GET", "/api/devices", access, "", nil)
		list, _ := body["value"].([]any)
		if res.StatusCode != 200 || len(list) != 1 || list[0].(map[string]any)["pendinguploads"] != float64(3) || list[0].(map[string]any)["name"] != "Nora's phone" {
			t.Fatalf("own devices: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "GET", "/api/admin/devices", access, "", nil)
		if res.StatusCode != 403 {
			t.Fatalf("a user lists every device: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "GET", "/api/admin/devices?user="+f.userID+"&seensince=2000-01-01T00:00:00Z", f.admin, "", nil)
		if list, _ := body["value"].([]any); res.StatusCode != 200 || len(list) != 1 {
			t.Fatalf("admin devices: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "GET", "/api/admin/devices?seensince=yesterday", f.admin, "", nil)
		if res.StatusCode != 400 || body["error"].(map[string]any)["target"] != "seensince" {
			t.Fatalf("bad filter: %d %v", res.StatusCode, body)
		}

		// Revoke: the device's next request is 401 device_revoked.
		res, _ = f.send(t, hc, "POST", "/api/devices/"+device+"/revoke", f.admin, "", nil)
		if res.StatusCode != 204 {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		res, body = f.send(t, hc, "GET", "/api/whoami", access, "", nil)
		if res.StatusCode != 401 || errCode(body) != "device_revoked" {
			t.Fatalf("revoked device: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "POST", "/api/auth/refresh", "", `{"refresh_token":"`+next["refresh_token"].(string)+`"}`, nil)
		if res.StatusCode != 401 || errCode(body) != "device_revoked" {
			t.Fatalf("refresh of a revoked device: %d %v", res.StatusCode, body)
		}
	})
}

func TestTokenListRevokeOverHTTP(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newAuthFixture(t, e)
		hc := http.DefaultClient
		res, body := f.send(t, hc, "POST", "/api/security/users/"+f.userID+"/tokens", f.admin, `{"name":"etl","expireson":"2099-01-01T00:00:00Z"}`, nil)
		if res.StatusCode != 201 || body["id"] == nil {
			t.Fatalf("issue: %d %v", res.StatusCode, body)
		}
		tok, id := body["token"].(string), body["id"].(string)
		res, body = f.send(t, hc, "POST", "/api/security/users/"+f.userID+"/tokens", f.admin, `{"name":"old","expireson":"2001-01-01T00:00:00Z"}`, nil)
		if res.StatusCode != 400 {
			t.Fatalf("expiry in the past: %d %v", res.StatusCode, body)
		}
		f.send(t, hc, "GET", "/api/whoami", tok, "", nil)
		res, body = f.send(t, hc, "GET", "/api/security/tokens", tok, "", nil)
		list, _ := body["value"].([]any)
		if res.StatusCode != 200 || len(list) != 1 {
			t.Fatalf("own tokens: %d %v", res.StatusCode, body)
		}
		got := list[0].(map[string]any)
		if got["id"] != id || got["name"] != "etl" || got["expireson"] != "2099-01-01T00:00:00Z" || got["lastused"] == nil || got["createdon"] == nil || got["token"] != nil {
			t.Fatalf("listed token = %v", got)
		}
		res, body = f.send(t, hc, "GET", "/api/security/tokens?user="+f.adminID, tok, "", nil)
		if res.StatusCode != 403 {
			t.Fatalf("a user lists the admin's tokens: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "GET", "/api/security/tokens", f.admin, "", nil)
		if list, _ := body["value"].([]any); res.StatusCode != 200 || len(list) != 2 {
			t.Fatalf("every token: %d %v", res.StatusCode, body)
		}
		res, _ = f.send(t, hc, "DELETE", "/api/security/tokens/"+id, f.admin, "", nil)
		if res.StatusCode != 204 {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		res, _ = f.send(t, hc, "GET", "/api/whoami", tok, "", nil)
		if res.StatusCode != 401 {
			t.Fatalf("revoked token: %d", res.StatusCode)
		}
		res, body = f.send(t, hc, "DELETE", "/api/security/tokens/"+id, f.admin, "", nil)
		if res.StatusCode != 404 {
			t.Fatalf("revoke again: %d %v", res.StatusCode, body)
		}
		// A user sets their own password with the current one.
		nora, err := f.p.IssueToken(context.Background(), platform.System(), f.userID, "t")
		if err != nil {
			t.Fatal(err)
		}
		res, body = f.send(t, hc, "PUT", "/api/security/users/"+f.userID+"/password", nora, `{"password":"short","current":"`+userPassword+`"}`, nil)
		if res.StatusCode != 400 || body["error"].(map[string]any)["target"] != "password" {
			t.Fatalf("short password: %d %v", res.StatusCode, body)
		}
		res, body = f.send(t, hc, "PUT", "/api/security/users/"+f.userID+"/password", nora, `{"password":"a better password","current":"`+userPassword+`"}`, nil)
		if res.StatusCode != 204 {
			t.Fatalf("set password: %d %v", res.StatusCode, body)
		}
	})
}
