package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// The cookies of a browser session: the session token (HttpOnly) and its
// CSRF token, which the page's script reads and sends back in CSRFHeader
// with every write.
const (
	SessionCookie = "outpost_session"
	CSRFCookie    = "outpost_csrf"
	CSRFHeader    = "X-CSRF-Token"
	// PendingHeader carries the number of changes in a device's upload
	// queue; the server shows it in the device list.
	PendingHeader = "Outpost-Pending-Uploads"
)

type credentialKey struct{}

// credentialOf returns what the caller of r authenticated with.
func credentialOf(r *http.Request) platform.Credential {
	c, _ := r.Context().Value(credentialKey{}).(platform.Credential)
	return c
}

func (s *Server) authRoutes() {
	s.HandlePublic("POST /api/auth/login", s.handle(s.login))
	s.HandlePublic("POST /api/auth/refresh", s.handle(s.refresh))
	s.Handle("POST /api/auth/logout", s.logout)
	s.Handle("PUT /api/security/users/{user}/password", s.setPassword)
	s.Handle("GET /api/security/tokens", s.listTokens)
	s.Handle("DELETE /api/security/tokens/{token}", s.revokeToken)
	s.Handle("GET /api/admin/devices", s.adminDevices)
	s.Handle("GET /api/devices", s.ownDevices)
	s.Handle("POST /api/devices/{device}/revoke", s.revokeDevice)
}

// authenticate finds the caller's credential: a bearer token in the
// Authorization header, or else a session cookie, for which writes must
// carry the session's CSRF token.
func (s *Server) authenticate(r *http.Request, unchecked bool) (platform.Credential, *security.Principal, int64, error) {
	token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !bearer || token == "" {
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			return platform.Credential{}, nil, 0, outpost.Unauthorizedf("send a bearer token in the Authorization header (outpost admin token create issues one)")
		}
		token = c.Value
	}
	cred, pr, version, err := s.p.AuthenticateCredential(r.Context(), token, unchecked)
	if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
		return platform.Credential{}, nil, 0, outpost.Unauthorizedf("the bearer token is not valid")
	}
	if err != nil {
		return platform.Credential{}, nil, 0, err
	}
	if !bearer {
		if cred.Kind != platform.KindSession {
			return platform.Credential{}, nil, 0, outpost.Unauthorizedf("the session cookie is not valid: sign in again")
		}
		if !safeMethod(r.Method) && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(csrfToken(token))) != 1 {
			return platform.Credential{}, nil, 0, outpost.Forbiddenf("a write with a session cookie needs the %s header with the session's CSRF token (the %s cookie)", CSRFHeader, CSRFCookie).WithTarget(CSRFHeader)
		}
	}
	if cred.Kind == platform.KindDevice {
		pending := int64(-1)
		if v := r.Header.Get(PendingHeader); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				pending = n
			}
		}
		if err := s.p.DeviceContact(r.Context(), cred.DeviceID, pending); err != nil {
			return platform.Credential{}, nil, 0, err
		}
	}
	return cred, pr, version, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfToken derives a session's CSRF token from the session token: a page
// of another site can neither read the cookie nor compute it.
func csrfToken(session string) string {
	sum := sha256.Sum256([]byte("outpost csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// clientAddress is the caller's IP address, for the lockout per address.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Mode is "session" (a browser: cookies) or "device" (a device
	// credential in the reply).
	Mode   string               `json:"mode"`
	Device platform.DeviceInput `json:"device"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if in.Mode != "session" && in.Mode != "device" {
		return outpost.Invalidf("mode %q is not known: use \"session\" for a browser or \"device\" for a device credential", in.Mode).WithTarget("mode")
	}
	userID, err := s.p.CheckPassword(r.Context(), in.Username, in.Password, clientAddress(r))
	if err != nil {
		return err
	}
	if in.Mode == "device" {
		cred, err := s.p.SignInDevice(r.Context(), userID, in.Device)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return writeJSON(w, http.StatusOK, cred)
	}
	return s.startSession(w, r, userID)
}

// startSession sets the cookies of a new browser session for userID and
// answers its CSRF token.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID string) error {
	csrf, info, err := s.setSession(w, r, userID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"userid": userID, "csrf_token": csrf, "expireson": info.ExpiresOn})
}

// setSession starts a browser session for userID and sets its cookies.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, userID string) (string, platform.TokenInfo, error) {
	token, info, err := s.p.StartSession(r.Context(), userID)
	if err != nil {
		return "", info, err
	}
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode, Expires: *info.ExpiresOn})
	csrf := csrfToken(token)
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Secure: secure, SameSite: http.SameSiteStrictMode, Expires: *info.ExpiresOn})
	w.Header().Set("Cache-Control", "no-store")
	return csrf, info, nil
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if in.RefreshToken == "" {
		return outpost.Invalidf("send the device's refresh_token").WithTarget("refresh_token")
	}
	cred, err := s.p.RefreshDevice(r.Context(), in.RefreshToken)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, cred)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.p.EndCredential(r.Context(), credentialOf(r)); err != nil {
		return err
	}
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == SessionCookie, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "user")
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
		Current  string `json:"current"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if err := s.p.SetPassword(r.Context(), principalOf(r), id[0], in.Password, in.Current); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	user := r.URL.Query().Get("user")
	by := principalOf(r)
	if user != "" && !outpost.ValidID(user) {
		return outpost.Invalidf("user %q is not an id: use a UUID", user).WithTarget("user")
	}
	if user == "" && !by.Admin {
		user = by.UserID
	}
	list, err := s.p.ListTokens(r.Context(), by, user)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"value": list})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.p.RevokeToken(r.Context(), principalOf(r), r.PathValue("token")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminDevices(w http.ResponseWriter, r *http.Request) error {
	if !principalOf(r).Admin {
		return outpost.Forbiddenf("only administrators may list every device: GET /api/devices lists your own")
	}
	return s.devices(w, r)
}

func (s *Server) ownDevices(w http.ResponseWriter, r *http.Request) error {
	if u := r.URL.Query().Get("user"); u != "" && u != principalOf(r).UserID {
		return outpost.Forbiddenf("GET /api/devices lists your own devices: administrators use GET /api/admin/devices").WithTarget("user")
	}
	return s.devices(w, r)
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := platform.DeviceFilter{UserID: q.Get("user"), AppID: q.Get("app")}
	for _, name := range []string{"user", "app"} {
		if v := q.Get(name); v != "" && !outpost.ValidID(v) {
			return outpost.Invalidf("%s %q is not an id: use a UUID", name, v).WithTarget(name)
		}
	}
	for name, dst := range map[string]*time.Time{"seensince": &f.SeenSince, "seenbefore": &f.SeenBefore} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return outpost.Invalidf("%s %q is not a time: use RFC 3339, such as 2026-03-01T08:00:00Z", name, v).WithTarget(name)
			}
			*dst = t
		}
	}
	switch q.Get("revoked") {
	case "", "false":
	case "true":
		f.IncludeRevoked = true
	default:
		return outpost.Invalidf("revoked takes true or false, got %q", q.Get("revoked")).WithTarget("revoked")
	}
	list, err := s.p.ListDevices(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"value": list})
}

func (s *Server) revokeDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "device")
	if err != nil {
		return err
	}
	if err := s.p.RevokeDevice(r.Context(), principalOf(r), id[0]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
