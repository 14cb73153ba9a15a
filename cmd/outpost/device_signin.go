package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
