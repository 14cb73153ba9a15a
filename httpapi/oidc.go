package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

// OIDCOptions configures single sign-on with an OpenID Connect provider
// (authorization code flow with PKCE, for browsers and, through a
// loopback redirect, for devices).
type OIDCOptions struct {
	Issuer, ClientID, ClientSecret string
	// Name is the provider's name on sign-in pages ("Sign in with
	// Name"); default the issuer's host name.
	Name string
	// RedirectURL is the callback registered with the provider; default
	// this server's /api/auth/oidc/callback as the browser reached it.
	RedirectURL string
	// Claim is the ID token claim matched to a user's login (domainname);
	// default "email", which the provider must have verified
	// (email_verified).
	Claim string
	// Provisioning creates unknown users on their first sign-in.
	Provisioning platform.Provisioning
	// AfterLogin is where the browser goes once signed in; default "/".
	AfterLogin string
	// HTTPClient talks to the provider; default http.DefaultClient.
	HTTPClient *http.Client
}

// oidcCookie carries the state, nonce and PKCE verifier of a sign-in in
// progress between the redirect to the provider and its callback.
const oidcCookie = "outpost_oidc"

// oidcProvider discovers the provider on first use and keeps it.
type oidcProvider struct {
	opts OIDCOptions
	mu   sync.Mutex
	prov *oidc.Provider
}

func (o *oidcProvider) ctx(ctx context.Context) context.Context {
	if o.opts.HTTPClient != nil {
		return oidc.ClientContext(ctx, o.opts.HTTPClient)
	}
	return ctx
}

// provider returns the discovered provider, discovering it when needed; a
// failed discovery is tried again on the next sign-in.
func (o *oidcProvider) provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.prov != nil {
		return o.prov, nil
	}
	prov, err := oidc.NewProvider(o.ctx(ctx), o.opts.Issuer)
	if err != nil {
		return nil, withCause(outpost.Errorf(outpost.CodeInternal, "the identity provider %s does not answer its discovery", o.opts.Issuer), err)
	}
	o.prov = prov
	return prov, nil
}

func (o *oidcProvider) config(r *http.Request, prov *oidc.Provider) *oauth2.Config {
	redirect := o.opts.RedirectURL
	if redirect == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		redirect = scheme + "://" + r.Host + "/api/auth/oidc/callback"
	}
	return &oauth2.Config{ClientID: o.opts.ClientID, ClientSecret: o.opts.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

func (s *Server) oidcRoutes(opts OIDCOptions) {
	if opts.Claim == "" {
		opts.Claim = "email"
	}
	if opts.AfterLogin == "" {
		opts.AfterLogin = "/"
	}
	o := &oidcProvider{opts: opts}
	s.HandlePublic("GET /api/auth/oidc/login", s.handle(o.login))
	s.HandlePublic("GET /api/auth/oidc/callback", s.handle(func(w http.ResponseWriter, r *http.Request) error { return s.oidcCallback(o, w, r) }))
	s.oidcDeviceRoutes(o)
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// login sends the browser to the provider.
func (o *oidcProvider) login(w http.ResponseWriter, r *http.Request) error {
	prov, err := o.provider(r.Context())
	if err != nil {
		return err
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier, Path: "/api/auth/oidc", MaxAge: 600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	url := o.config(r, prov).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, url, http.StatusFound)
	return nil
}

// deviceStatePrefix marks the state Outpost sends the provider for a
// device's sign-in, which the callback finds in the database rather than
// in a browser cookie.
const deviceStatePrefix = "dev."

// oidcCallback takes the provider's redirect back. A browser's sign-in
// (state in its cookie) gets a session; a device's (state in the
// database) sends the browser on to the device's loopback redirect with a
// one-time code.
func (s *Server) oidcCallback(o *oidcProvider, w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if strings.HasPrefix(q.Get("state"), deviceStatePrefix) {
		return s.deviceCallback(o, w, r)
	}
	if e := q.Get("error"); e != "" {
		return outpost.Unauthorizedf("the identity provider refused the sign-in: %s %s", e, q.Get("error_description"))
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return outpost.Unauthorizedf("no sign-in is in progress in this browser: start at /api/auth/oidc/login")
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/api/auth/oidc", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		return outpost.Unauthorizedf("the sign-in's state does not match: start again at /api/auth/oidc/login")
	}
	userID, err := s.oidcIdentity(o, r, parts[1], parts[2])
	if err != nil {
		return err
	}
	if _, _, err := s.setSession(w, r, userID); err != nil {
		return err
	}
	http.Redirect(w, r, o.opts.AfterLogin, http.StatusFound)
	return nil
}

// oidcIdentity exchanges the callback's code (with the PKCE verifier),
// verifies the ID token (signature, issuer, audience, expiry, nonce,
// once) and finds or creates the user.
func (s *Server) oidcIdentity(o *oidcProvider, r *http.Request, nonce, verifier string) (string, error) {
	code := r.URL.Query().Get("code")
	if code == "" {
		return "", outpost.Invalidf("the callback has no code").WithTarget("code")
	}
	prov, err := o.provider(r.Context())
	if err != nil {
		return "", err
	}
	ctx := o.ctx(r.Context())
	tok, err := o.config(r, prov).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", withCause(outpost.Unauthorizedf("the identity provider did not exchange the code: sign in again"), err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", outpost.Unauthorizedf("the identity provider sent no ID token")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: o.opts.ClientID}).Verify(ctx, raw)
	if err != nil {
		return "", outpost.Unauthorizedf("the ID token is not valid: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return "", outpost.Unauthorizedf("the ID token's nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", outpost.Unauthorizedf("the ID token's claims are not readable: %v", err)
	}
	login, _ := claims[o.opts.Claim].(string)
	if o.opts.Claim == "email" {
		if v, _ := claims["email_verified"].(bool); !v {
			return "", outpost.Unauthorizedf("the identity provider has not verified the email %q", login)
		}
	}
	if err := s.p.UseNonce(r.Context(), nonce); err != nil {
		return "", err
	}
	name, _ := claims["name"].(string)
	return s.p.UserForIdentity(r.Context(), login, name, o.opts.Provisioning)
}

func withCause(e *outpost.Error, err error) *outpost.Error {
	e.Err = err
	return e
}
