// Package oidctest is an OpenID Connect provider on loopback for the
// tests of single sign-on: discovery, keys, authorization (with PKCE and
// a nonce) and the token endpoint, issuing ID tokens signed with its own
// key for the user queued next. The server's, the agent's, the command's
// and the browser tests sign in against it, so that each does not start
// and tune a provider of its own.
//
// It is test support only: no package of the product imports it
// (deps_test.go).
package oidctest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// Provider is a running OpenID provider with one client registered.
type Provider struct {
	op *mockoidc.MockOIDC
	// wrongAudience makes the token endpoint answer an ID token minted
	// for another client (still signed with the provider's key).
	wrongAudience atomic.Bool
}

// Start starts a provider on a loopback port; it stops when the test
// ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	op, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{op: op}
	if err := op.AddMiddleware(p.audienceRewriter); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	return p
}

// Issuer is the provider's issuer URL, where discovery starts.
func (p *Provider) Issuer() string { return p.op.Issuer() }

// ClientID is the id of the client registered with the provider.
func (p *Provider) ClientID() string { return p.op.ClientID }

// ClientSecret is the registered client's secret.
func (p *Provider) ClientSecret() string { return p.op.ClientSecret }

// QueueUser chooses who signs in at the next authorization: the ID token
// names subject and a verified email. Each authorization takes one
// queued user.
func (p *Provider) QueueUser(subject, email string) {
	p.op.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: true})
}

// QueueUnverifiedUser is QueueUser with an email the provider has not
// verified.
func (p *Provider) QueueUnverifiedUser(subject, email string) {
	p.op.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: false})
}

// SetWrongAudience turns on or off ID tokens minted for another client.
func (p *Provider) SetWrongAudience(on bool) { p.wrongAudience.Store(on) }

// FastForward moves the provider's clock by d (back when negative), so
// that the tokens it issues are dated by it.
func (p *Provider) FastForward(d time.Duration) { p.op.FastForward(d) }

// audienceRewriter re-signs the token endpoint's ID token for another
// audience while wrongAudience is set.
func (p *Provider) audienceRewriter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.wrongAudience.Load() || !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if raw, ok := body["id_token"].(string); ok {
				claims := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err == nil {
					claims["aud"] = "another-client"
					if signed, err := p.op.Keypair.SignJWT(claims); err == nil {
						body["id_token"] = signed
					}
				}
			}
		}
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(b)
	})
}
