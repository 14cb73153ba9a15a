package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/wire"
)

// serverApp is an app as the server's /api/offline/apps lists it.
type serverApp struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Offline     bool   `json:"offline"`
	ProfileID   string `json:"profileId"`
	Definition  struct {
		Tables []string `json:"tables"`
		Views  []struct {
			Name          string          `json:"name"`
			Table         string          `json:"table"`
			Columns       []string        `json:"columns"`
			Filter        json.RawMessage `json:"filter"`
			OrderBy       string          `json:"orderBy"`
			SearchColumns []string        `json:"searchColumns"`
		} `json:"views"`
		Forms []Form `json:"forms"`
	} `json:"definition"`
}

// send sends a request to the server as the signed-in user: with the
// pasted token, or with the access token of the password sign-in's device
// credential, which it refreshes before it expires and, once, after the
// server refuses it (401). It returns the server's reply whatever its
// status; a server it cannot reach is client.ErrUnreachable.
func (a *Agent) send(ctx context.Context, cfg config, method, path string, body []byte, contentType string) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, cfg.Server+path, bytes.NewReader(body))
		if err != nil {
			return nil, outpost.Invalidf("server address %q: %v", cfg.Server, err).WithTarget("server")
		}
		token := cfg.Token
		if cfg.sess != nil {
			if token, err = cfg.sess.Token(ctx); err != nil {
				return nil, signInAgain(err)
			}
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := a.opts.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, fmt.Errorf("%w: %v", client.ErrUnreachable, err)
		}
		if resp.StatusCode != http.StatusUnauthorized || cfg.sess == nil || attempt > 0 {
			return resp, nil
		}
		resp.Body.Close()
		if err := cfg.sess.Refused(ctx, token); err != nil {
			return nil, signInAgain(err)
		}
	}
}

// signInAgain words a credential the server no longer renews (the
// refresh token expired or was revoked) as a request to sign in again.
func signInAgain(err error) error {
	if c := outpost.ErrorCode(err); c == outpost.CodeUnauthorized || c == outpost.CodeTokenExpired {
		return outpost.Errorf(outpost.CodeUnauthorized, "the sign-in has expired: sign in again (%s)", outpost.ErrorMessage(err)).WithTarget("session")
	}
	return err
}

// call sends in as JSON (nil for no body) and decodes the reply into out.
func (a *Agent) call(ctx context.Context, cfg config, method, path string, in, out any) error {
	var body []byte
	ct := ""
	if in != nil {
		body, _ = json.Marshal(in)
		ct = "application/json"
	}
	resp, err := a.send(ctx, cfg, method, path, body, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%w: %v", client.ErrUnreachable, err)
	}
	if resp.StatusCode >= 300 {
		var eb wire.ErrorBody
		_ = json.Unmarshal(b, &eb)
		msg := eb.Error.Message
		if msg == "" {
			msg = resp.Status
		}
		code := map[int]outpost.Code{400: outpost.CodeInvalid, 401: outpost.CodeUnauthorized, 403: outpost.CodeForbidden, 404: outpost.CodeNotFound, 409: outpost.CodeConflict}[resp.StatusCode]
		if code == "" {
			code = outpost.CodeInternal
		}
		return outpost.Errorf(code, "the server answered %s: %s", resp.Status, msg).WithTarget(eb.Error.Target)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// signIn checks the credentials with the server and remembers them. With
// a user name and password it asks the server's sign-in route for a token;
// a server without password sign-in answers 404 there.
func (a *Agent) signIn(w http.ResponseWriter, r *http.Request) error {
	var in SignInRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	server, err := serverAddress(in.Server)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.signInError = ""
	a.mu.Unlock()
	ctx := r.Context()
	cfg := config{Server: server, Token: strings.TrimSpace(in.Token)}
	switch {
	case cfg.Token != "":
	case in.Username != "" && in.Password != "":
		// The device credential (kept in credential.json, as the device
		// command line keeps it) keeps the device id of an earlier
		// sign-in, and with it the device's data and upload queue.
		creds := a.credentials()
		_, err := client.SignIn(ctx, a.opts.HTTPClient, server, in.Username, in.Password, client.DeviceInfo{Name: "field player", Platform: runtime.GOOS}, creds)
		switch {
		case outpost.ErrorCode(err) == outpost.CodeNotFound:
			return outpost.Invalidf("this server does not offer password sign-in: paste a token instead").WithTarget("password")
		case outpost.ErrorCode(err) == outpost.CodeUnauthorized:
			return outpost.Errorf(outpost.CodeUnauthorized, "the server did not accept this user name and password").WithTarget("password")
		case err != nil:
			return err
		}
		if cfg.sess, err = client.NewSession(ctx, server, a.opts.HTTPClient, creds, nil); err != nil {
			return err
		}
	default:
		return outpost.Invalidf("sign in with a user name and password, or paste a token").WithTarget("token")
	}
	sess, err := a.finishSignIn(ctx, cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sess)
}

// serverAddress checks and normalises a server address.
func serverAddress(in string) (string, error) {
	server := strings.TrimRight(strings.TrimSpace(in), "/")
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", outpost.Invalidf("the server address must be an http:// or https:// URL, such as http://127.0.0.1:8080, not %q", in).WithTarget("server")
	}
	return server, nil
}

// finishSignIn checks cfg's credential with the server, learns the user's
// name and makes cfg the agent's sign-in.
func (a *Agent) finishSignIn(ctx context.Context, cfg config) (Session, error) {
	var who struct {
		UserID string `json:"userid"`
	}
	if err := a.call(ctx, cfg, http.MethodGet, "/api/whoami", nil, &who); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return Session{}, outpost.Errorf(outpost.CodeUnauthorized, "the server did not accept these credentials").WithTarget("token")
		}
		return Session{}, err
	}
	user := who.UserID
	var me struct {
		FullName   string `json:"fullname"`
		DomainName string `json:"domainname"`
	}
	if a.call(ctx, cfg, http.MethodGet, "/api/data/systemuser("+url.PathEscape(who.UserID)+")?$select=fullname,domainname", nil, &me) == nil {
		user = strings.TrimSpace(me.FullName)
		if user == "" {
			user = me.DomainName
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.closeApp(); err != nil {
		a.logger.Warn("close app", "err", err)
	}
	cfg.User = user
	a.cfg = cfg
	a.signInError = ""
	if err := a.saveConfig(); err != nil {
		return Session{}, err
	}
	return Session{SignedIn: true, Server: cfg.Server, User: user}, nil
}

// signOut forgets the token; the device's stores stay (with any queued
// changes) for the next sign-in.
func (a *Agent) signOut(w http.ResponseWriter, r *http.Request) error {
	a.mu.Lock()
	if err := a.closeApp(); err != nil {
		a.logger.Warn("close app", "err", err)
	}
	a.cfg = config{Server: a.cfg.Server}
	err := errors.Join(a.saveConfig(), a.credentials().Delete(r.Context()))
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a.currentSession())
}

func (a *Agent) signedIn() (config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.cfg.signedIn() {
		return config{}, outpost.Errorf(outpost.CodeUnauthorized, "sign in first").WithTarget("session")
	}
	return a.cfg, nil
}

// apps lists the user's offline apps from the server; offline, the apps
// whose definitions are on this device.
func (a *Agent) apps(w http.ResponseWriter, r *http.Request) error {
	cfg, err := a.signedIn()
	if err != nil {
		return err
	}
	local := a.localApps()
	out := AppList{Apps: []AppSummary{}}
	var list struct {
		Value []serverApp `json:"value"`
	}
	err = a.call(r.Context(), cfg, http.MethodGet, "/api/offline/apps", nil, &list)
	switch {
	case errors.Is(err, client.ErrUnreachable):
		out.Offline = true
		for _, app := range local {
			out.Apps = append(out.Apps, AppSummary{ID: app.ID, Name: app.Name, Kind: app.Kind, OnDevice: true})
		}
	case err != nil:
		return err
	default:
		for _, s := range list.Value {
			if !s.Offline {
				continue
			}
			_, on := local[s.ID]
			out.Apps = append(out.Apps, AppSummary{ID: s.ID, Name: displayName(s), Kind: s.Kind, ProfileID: s.ProfileID, OnDevice: on})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func displayName(s serverApp) string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.Name
}

// appsDir holds the definitions of the apps opened on this device, so
// they open offline.
func (a *Agent) appsDir() string { return filepath.Join(a.opts.Home, "apps") }

func (a *Agent) localApps() map[string]*AppDefinition {
	out := map[string]*AppDefinition{}
	entries, _ := os.ReadDir(a.appsDir())
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(a.appsDir(), e.Name()))
		if err != nil {
			continue
		}
		var app AppDefinition
		if json.Unmarshal(b, &app) == nil && app.ID != "" {
			out[app.ID] = &app
		}
	}
	return out
}

// open opens an app: its store (registering the device on the first
// open) and its scheduler, which starts the first sync.
func (a *Agent) open(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.signedIn(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.openLocked(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	a.cfg.App = r.PathValue("id")
	if err := a.saveConfig(); err != nil {
		return err
	}
	s := Session{SignedIn: true, Server: a.cfg.Server, User: a.cfg.User, AppID: a.app.ID, AppName: a.app.Name}
	return writeJSON(w, http.StatusOK, s)
}

func (a *Agent) openApp(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.openLocked(ctx, id)
}

// openLocked opens app id; a.mu is held.
func (a *Agent) openLocked(ctx context.Context, id string) error {
	if a.closed {
		return errors.New("the agent is closing")
	}
	if a.dev != nil && a.app != nil && a.app.ID == id {
		return nil
	}
	if err := a.closeApp(); err != nil {
		a.logger.Warn("close app", "err", err)
	}
	// Opening reaches the server with mu held: Close cuts it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(a.life, cancel)()
	dev, err := client.Open(ctx, client.Options{Dir: filepath.Join(a.opts.Home, "stores"), Server: a.cfg.Server, Token: a.cfg.Token, Session: a.cfg.sess, AppID: id,
		HTTPClient: a.opts.HTTPClient, Logger: a.logger})
	if err != nil {
		return err
	}
	app, err := a.fetchApp(ctx, a.cfg, id, dev)
	if errors.Is(err, client.ErrUnreachable) {
		if app = a.localApps()[id]; app == nil {
			err = fmt.Errorf("the app's definition is not on this device yet and the server is unreachable: %w", err)
		} else {
			err = nil
		}
	}
	if err != nil {
		return errors.Join(err, dev.Close())
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = dev.Run(runCtx, client.RunOptions{RetryAfter: a.opts.RetryAfter})
	}()
	a.dev, a.app, a.run, a.stop, a.done = dev, app, runCtx, stop, done
	return nil
}

// fetchApp reads app id's definition from the server, completes it with
// the device's tables and keeps it on the device.
func (a *Agent) fetchApp(ctx context.Context, cfg config, id string, dev *client.Client) (*AppDefinition, error) {
	var s serverApp
	if err := a.call(ctx, cfg, http.MethodGet, "/api/offline/apps/"+url.PathEscape(id), nil, &s); err != nil {
		return nil, err
	}
	app := &AppDefinition{ID: s.ID, Name: displayName(s), Kind: s.Kind, Views: []View{}, Forms: []Form{}, Tables: []TableDef{}}
	for _, v := range s.Definition.Views {
		view := View{Name: v.Name, Table: v.Table, Columns: v.Columns, OrderBy: v.OrderBy, SearchColumns: v.SearchColumns}
		if len(v.Filter) > 0 && string(v.Filter) != "null" {
			e, err := filter.ParseJSON(v.Filter)
			if err != nil {
				return nil, fmt.Errorf("view %q of app %s has a filter the device cannot read: %w", v.Name, id, err)
			}
			view.Filter = filter.String(e)
		}
		if view.Columns == nil {
			view.Columns = []string{}
		}
		if view.SearchColumns == nil {
			view.SearchColumns = []string{}
		}
		app.Views = append(app.Views, view)
	}
	for _, f := range s.Definition.Forms {
		f.Columns, f.Required, f.ReadOnly = nonNil(f.Columns), nonNil(f.Required), nonNil(f.ReadOnly)
		if f.Sections == nil {
			f.Sections = []Section{}
		}
		app.Forms = append(app.Forms, f)
	}
	for _, name := range dev.Tables() {
		def, err := dev.Def(name)
		if err != nil {
			return nil, err
		}
		td := TableDef{Name: def.Name, PrimaryKey: def.PrimaryKey, Columns: []Column{}}
		for _, c := range def.Columns {
			col := Column{Name: c.Name, Type: c.Type, Target: c.Target, Required: c.Required, MaxLength: c.MaxLength, Options: []Option{}}
			for _, o := range c.Options {
				col.Options = append(col.Options, Option{Value: o.Value, Label: o.Label})
			}
			td.Columns = append(td.Columns, col)
		}
		app.Tables = append(app.Tables, td)
	}
	// Tables without a view in the definition get a plain one, so every
	// table of the app can be listed.
	for _, t := range s.Definition.Tables {
		if app.viewOf(t) == nil && dev.Has(t) {
			app.Views = append(app.Views, View{Name: "All " + t, Table: t, Columns: []string{}, SearchColumns: []string{}})
		}
	}
	if err := os.MkdirAll(a.appsDir(), 0o700); err != nil {
		return nil, err
	}
	if s.Kind == "canvas" {
		has, err := a.fetchBundle(ctx, cfg, id)
		if err != nil {
			return nil, err
		}
		app.Canvas = &CanvasInfo{Bundle: has, OfflineEnabled: s.Offline}
	}
	b, _ := json.MarshalIndent(app, "", "  ")
	if err := os.WriteFile(filepath.Join(a.appsDir(), "app-"+safeName(id)+".json"), b, 0o600); err != nil {
		return nil, fmt.Errorf("keep the app's definition: %w", err)
	}
	return app, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, id)
}

func (app *AppDefinition) view(name string) *View {
	if app == nil {
		return nil
	}
	for i := range app.Views {
		if app.Views[i].Name == name {
			return &app.Views[i]
		}
	}
	return nil
}

func (app *AppDefinition) viewOf(table string) *View {
	for i := range app.Views {
		if app.Views[i].Table == table {
			return &app.Views[i]
		}
	}
	return nil
}
