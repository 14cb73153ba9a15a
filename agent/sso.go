package agent

import (
	"errors"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
)

// Single sign-on, as native apps do it (RFC 8252): the player asks the
// agent to start (POST /api/signin/sso); the agent makes a state and a
// PKCE verifier and answers the server's start URL with the agent's own
// loopback callback as the redirect URI; the browser goes through the
// identity provider and comes back to GET /signin/callback with a
// one-time code and the state. The callback is checked by the state, not
// the agent's cookie: a browser coming back from another site does not
// send a SameSite=Strict cookie. The agent exchanges the code with its
// verifier for a device credential (credential.json, renewed by
// client.Session, as a password sign-in's) and sends the browser to the
// player.

// ssoPending is the single sign-on the agent started and waits for.
type ssoPending struct {
	server  string
	req     client.SSORequest
	expires time.Time
}

// ssoLifetime is how long the agent waits for the browser to come back:
// the server forgets the sign-in after as long.
const ssoLifetime = 10 * time.Minute

// callbackPath is the agent's loopback redirect URI's path.
const callbackPath = "/signin/callback"

// providers lists the single sign-on providers of the server in ?server=.
func (a *Agent) providers(w http.ResponseWriter, r *http.Request) error {
	server, err := serverAddress(r.URL.Query().Get("server"))
	if err != nil {
		return err
	}
	var list struct {
		Providers []struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"providers"`
	}
	out := SignInProviders{Providers: []SignInProvider{}}
	err = a.call(r.Context(), config{Server: server}, http.MethodGet, "/api/auth/providers", nil, &list)
	switch {
	case outpost.ErrorCode(err) == outpost.CodeNotFound:
		// A server from before single sign-on for devices.
	case err != nil:
		return err
	}
	for _, p := range list.Providers {
		if p.Kind == "oidc" {
			out.Providers = append(out.Providers, SignInProvider{Name: p.Name})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// startSSO begins a single sign-on with the server: it answers the URL
// the player sends the browser to.
func (a *Agent) startSSO(w http.ResponseWriter, r *http.Request) error {
	var in SSORequest
	if err := decode(r, &in); err != nil {
		return err
	}
	server, err := serverAddress(in.Server)
	if err != nil {
		return err
	}
	// r.Host passed the Host check: 127.0.0.1, localhost or [::1] with the
	// agent's port, which the server accepts as a loopback redirect.
	req := client.StartSSO(server, "http://"+r.Host+callbackPath)
	a.mu.Lock()
	a.sso = &ssoPending{server: server, req: req, expires: time.Now().Add(ssoLifetime)}
	a.signInError = ""
	a.mu.Unlock()
	return writeJSON(w, http.StatusOK, SSOStart{URL: req.URL})
}

// ssoCallback takes the browser back from the server: it checks the
// state, exchanges the code and sends the browser to the player, which
// shows the app picker or, in plain words, why the sign-in failed.
func (a *Agent) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a.mu.Lock()
	p := a.sso
	ok := p != nil && q.Get("state") != "" && equal(q.Get("state"), p.req.State) && time.Now().Before(p.expires)
	if ok {
		a.sso = nil // a state is good once
	}
	a.mu.Unlock()
	var err error
	switch {
	case !ok:
		err = outpost.Unauthorizedf("This single sign-on reply does not belong to a sign-in this player started, or came back after more than ten minutes. Sign in again.")
	case q.Get("error") != "":
		why := strings.TrimSpace(q.Get("error_description"))
		if why == "" {
			why = q.Get("error")
		}
		err = outpost.Unauthorizedf("Single sign-on was refused: %s.", strings.TrimSuffix(why, "."))
	case q.Get("code") == "":
		err = outpost.Invalidf("The server came back without a sign-in code. Sign in again.")
	default:
		err = a.finishSSO(r, p, q.Get("code"))
	}
	if err != nil {
		msg := outpost.ErrorMessage(err)
		if errors.Is(err, client.ErrUnreachable) {
			msg = "The server could not be reached to finish the single sign-on. Check the connection and sign in again."
		}
		a.logger.WarnContext(r.Context(), "single sign-on failed", "err", err)
		a.mu.Lock()
		a.signInError = msg
		if p != nil && !a.cfg.signedIn() {
			a.cfg.Server = p.server // the sign-in page keeps the address
		}
		a.mu.Unlock()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// finishSSO exchanges the code for a device credential, kept as a
// password sign-in's is, and signs the agent in with it.
func (a *Agent) finishSSO(r *http.Request, p *ssoPending, code string) error {
	ctx := r.Context()
	creds := a.credentials()
	if _, err := client.SignInWithCode(ctx, a.opts.HTTPClient, p.server, code, p.req.Verifier, client.DeviceInfo{Name: "field player", Platform: runtime.GOOS}, creds); err != nil {
		if errors.Is(err, client.ErrUnreachable) {
			return err
		}
		return outpost.Unauthorizedf("The server did not complete the single sign-on: %s. Sign in again.", strings.TrimSuffix(outpost.ErrorMessage(err), "."))
	}
	sess, err := client.NewSession(ctx, p.server, a.opts.HTTPClient, creds, nil)
	if err != nil {
		return err
	}
	_, err = a.finishSignIn(ctx, config{Server: p.server, sess: sess})
	return err
}
