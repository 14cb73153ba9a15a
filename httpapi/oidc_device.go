package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

// Single sign-on for devices (RFC 8252, a loopback redirect with PKCE):
// GET /api/auth/oidc/device/start sends the browser through the server's
// own OpenID Connect sign-in; the callback sends it on to the device's
// loopback redirect URI with a one-time code; the device exchanges the
// code and its PKCE verifier at POST /api/auth/oidc/device/token for the
// device credential a password sign-in returns.

// provider is a way of signing in that a sign-in page offers besides the
// password.
type provider struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Login starts a browser's sign-in; DeviceStart a device's.
	Login       string `json:"login"`
	DeviceStart string `json:"device_start"`
}

// providerList is the reply of GET /api/auth/providers.
type providerList struct {
	Providers []provider `json:"providers"`
}

func (s *Server) providerRoutes(opts *OIDCOptions) {
	list := providerList{Providers: []provider{}}
	if opts != nil {
		name := opts.Name
		if name == "" {
			name = opts.Issuer
			if u, err := url.Parse(opts.Issuer); err == nil && u.Host != "" {
				name = u.Hostname()
			}
		}
		list.Providers = append(list.Providers, provider{Kind: "oidc", Name: name, Login: "/api/auth/oidc/login", DeviceStart: "/api/auth/oidc/device/start"})
	}
	s.HandlePublic("GET /api/auth/providers", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, list)
	}))
}

func (s *Server) oidcDeviceRoutes(o *oidcProvider) {
	s.HandlePublic("GET /api/auth/oidc/device/start", s.handle(o.deviceStart(s)))
	s.HandlePublic("POST /api/auth/oidc/device/token", s.handle(s.deviceToken))
}

// loopbackRedirect checks that raw is a loopback redirect URI as RFC 8252
// allows for native apps: http, host 127.0.0.1, [::1] or localhost, any
// port, no user info and no fragment.
func loopbackRedirect(raw string) (*url.URL, error) {
	bad := func(why string) error {
		return outpost.Invalidf("redirect_uri %q is not accepted: %s (a device signs in through its own loopback address, such as http://127.0.0.1:4000/callback)", raw, why).WithTarget("redirect_uri")
	}
	if raw == "" {
		return nil, outpost.Invalidf("redirect_uri is required: the device's loopback address the browser returns to").WithTarget("redirect_uri")
	}
	if len(raw) > 2000 {
		return nil, bad("longer than 2000 characters")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, bad("not a URL")
	case u.Scheme != "http":
		return nil, bad("only http to the device's loopback interface")
	case u.Opaque != "" || u.User != nil:
		return nil, bad("user info is not allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, bad("a fragment is not allowed")
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
	default:
		return nil, bad("the host must be 127.0.0.1, [::1] or localhost")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("the port is not a port number")
		}
	}
	return u, nil
}

// deviceStart checks the device's request, remembers it in the database
// and sends the browser to the provider, as the browser sign-in does.
func (o *oidcProvider) deviceStart(s *Server) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		redirect, err := loopbackRedirect(q.Get("redirect_uri"))
		if err != nil {
			return err
		}
		state, challenge, method := q.Get("state"), q.Get("code_challenge"), q.Get("code_challenge_method")
		if state == "" || len(state) > 200 {
			return outpost.Invalidf("state is required (at most 200 characters): the device's random value, returned with the code").WithTarget("state")
		}
		if method != "S256" {
			return outpost.Invalidf("code_challenge_method must be S256, not %q", method).WithTarget("code_challenge_method")
		}
		if len(challenge) != 43 || strings.Trim(challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return outpost.Invalidf("code_challenge must be the S256 challenge of the device's PKCE verifier (43 base64url characters)").WithTarget("code_challenge")
		}
		if err := outpost.CheckText("state", state); err != nil {
			return err
		}
		prov, err := o.provider(r.Context())
		if err != nil {
			return err
		}
		req := platform.DeviceSignInRequest{State: deviceStatePrefix + randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
			RedirectURI: redirect.String(), DeviceState: state, Challenge: challenge}
		if err := s.p.StartDeviceSignIn(r.Context(), req); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, o.config(r, prov).AuthCodeURL(req.State, oidc.Nonce(req.Nonce), oauth2.S256ChallengeOption(req.Verifier)), http.StatusFound)
		return nil
	}
}

// deviceCallback finishes a device's sign-in at the provider's callback:
// the same checks as a browser's, then a one-time code to the device's
// loopback. A refusal goes to the device too (error, error_description),
// so that the device shows it.
func (s *Server) deviceCallback(o *oidcProvider, w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req, found, err := s.p.TakeDeviceSignIn(r.Context(), q.Get("state"))
	if !found {
		if err != nil {
			return err
		}
		return outpost.Unauthorizedf("no device sign-in has this state (it was used, or is older than ten minutes): start again on the device")
	}
	back, perr := url.Parse(req.RedirectURI)
	if perr != nil {
		return outpost.Invalidf("the device's redirect URI is not readable").WithTarget("redirect_uri")
	}
	v := back.Query()
	v.Set("state", req.DeviceState)
	if err == nil {
		if e := q.Get("error"); e != "" {
			err = outpost.Unauthorizedf("the identity provider refused the sign-in: %s", strings.TrimSpace(e+" "+q.Get("error_description")))
		}
	}
	var userID, code string
	if err == nil {
		userID, err = s.oidcIdentity(o, r, req.Nonce, req.Verifier)
	}
	if err == nil {
		code, err = s.p.IssueDeviceCode(r.Context(), userID, req.Challenge)
	}
	switch {
	case err == nil:
		v.Set("code", code)
	case outpost.ErrorCode(err) == outpost.CodeInternal:
		return err
	default:
		v.Set("error", "access_denied")
		v.Set("error_description", outpost.ErrorMessage(err))
	}
	back.RawQuery = v.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, back.String(), http.StatusFound)
	return nil
}

// deviceTokenRequest is the body of POST /api/auth/oidc/device/token.
type deviceTokenRequest struct {
	Code         string               `json:"code"`
	CodeVerifier string               `json:"code_verifier"`
	Device       platform.DeviceInput `json:"device"`
}

// deviceToken exchanges a one-time code and the PKCE verifier for a
// device credential.
func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) error {
	var in deviceTokenRequest
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	cred, err := s.p.ExchangeDeviceCode(r.Context(), in.Code, in.CodeVerifier, in.Device)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, cred)
}
