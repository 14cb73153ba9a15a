package main

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/outposthq/outpost/client"
)

// stdinReader is where device login and admin user set-password read
// what they ask for.
var stdinReader io.Reader = os.Stdin

// credentials is the device's credential file: owner-only (0600).
func (d *deviceCmd) credentials() client.FileCredentials {
	return client.FileCredentials{Path: filepath.Join(d.home, "credential.json")}
}

// passwordLogin signs the device in with a user name and password, asked
// for on the terminal (the password without echo) or read as two lines
// from standard input, and keeps the device credential.
func (d *deviceCmd) passwordLogin(ctx context.Context, server, user string, timeout time.Duration, in io.Reader) error {
	br := bufio.NewReader(in)
	tty := false
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	if user == "" {
		fmt.Fprint(d.stderr, "User name: ")
		line, err := br.ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no user name given: pass --user or type it")
		}
		user = strings.TrimSpace(line)
	}
	fmt.Fprint(d.stderr, "Password: ")
	var password string
	if tty {
		b, err := term.ReadPassword(int(in.(*os.File).Fd()))
		fmt.Fprintln(d.stderr)
		if err != nil {
			return fmt.Errorf("read password: %w", err)
		}
		password = string(b)
	} else {
		line, err := br.ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password given")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _ := os.Hostname()
	cred, err := client.SignIn(ctx, nil, server, user, password, client.DeviceInfo{Name: "outpost device on " + host, Platform: runtime.GOOS}, d.credentials())
	if err != nil {
		return err
	}
	d.cfg = deviceConfig{Server: server, App: d.cfg.App}
	if err := d.saveConfig(); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Signed in to %s as %s (device %s). Next: outpost device open APPID\n", server, user, cred.DeviceID)
	return nil
}

// ssoLogin signs the device in through the server's single sign-on, as
// native apps do (RFC 8252): it listens on a loopback port, prints the
// address to open in a browser on this machine, takes the browser's
// return there (checking the state), exchanges the one-time code with the
// PKCE verifier and keeps the device credential, as a password sign-in
// does.
func (d *deviceCmd) ssoLogin(ctx context.Context, server string, timeout, wait time.Duration) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the browser's return: %w", err)
	}
	defer ln.Close()
	req := client.StartSSO(server, "http://"+ln.Addr().String()+"/callback")
	type result struct {
		cred *client.Credential
		err  error
	}
	done := make(chan result, 1)
	var once sync.Once
	host, _ := os.Hostname()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/callback" || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(req.State)) != 1 {
			http.Error(w, "This is not the reply of the sign-in outpost device login started.", http.StatusBadRequest)
			return
		}
		var res result
		switch {
		case q.Get("error") != "":
			why := q.Get("error_description")
			if why == "" {
				why = q.Get("error")
			}
			res.err = fmt.Errorf("single sign-on was refused: %s", why)
		case q.Get("code") == "":
			res.err = errors.New("the server came back without a sign-in code")
		default:
			cctx, cancel := context.WithTimeout(ctx, timeout)
			res.cred, res.err = client.SignInWithCode(cctx, nil, server, q.Get("code"), req.Verifier, client.DeviceInfo{Name: "outpost device on " + host, Platform: runtime.GOOS}, d.credentials())
			cancel()
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "Not signed in: %v\n", res.err)
		} else {
			fmt.Fprintln(w, "Signed in. You can close this page and go back to the terminal.")
		}
		once.Do(func() { done <- res })
	})}
	go srv.Serve(ln)
	defer func() {
		// The handler hands over its result before net/http has sent its
		// page: Shutdown waits for the page to reach the browser (Close
		// would cut it off), then closes.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()
	fmt.Fprintf(d.stdout, "Open this address in a browser on this machine to sign in:\n  %s\n", req.URL)
	var res result
	select {
	case res = <-done:
	case <-time.After(wait):
		return fmt.Errorf("no sign-in came back from the browser within %s: run outpost device login --sso again", wait)
	case <-ctx.Done():
		return ctx.Err()
	}
	if res.err != nil {
		return res.err
	}
	d.cfg = deviceConfig{Server: server, App: d.cfg.App}
	if err := d.saveConfig(); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Signed in to %s as user %s (device %s). Next: outpost device open APPID\n", server, res.cred.UserID, res.cred.DeviceID)
	return nil
}
