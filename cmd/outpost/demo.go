package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"golang.org/x/crypto/bcrypt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store/sqlite"
)

// demoStateFile keeps, next to the demo's database, what the demo printed
// at its first start (users, tokens, app ids), so that a restart on the
// same --data serves the same data with the same tokens.
const demoStateFile = "demo.json"

// demoState is the content of demoStateFile.
type demoState struct {
	Env    *demo.Env         `json:"env"`
	Tokens map[string]string `json:"tokens"` // by domain name
	// Passwords are the users' sign-in passwords, by domain name.
	Passwords map[string]string `json:"passwords"`
}

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "outpost-demo", "data directory of the demo: seeded when empty, kept across restarts")
	reset := fs.Bool("reset", false, "remove the demo in --data and seed a new one (new tokens and app ids)")
	addr := fs.String("addr", envOr(getenv, "OUTPOST_ADDR", "127.0.0.1:8080"), "address to listen on")
	accounts := fs.Int("accounts", 40, "accounts per technician (each with 2 contacts and 5 work orders), when seeding")
	level := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	files := fs.String("files", getenv("OUTPOST_FILES"), "where file and image content is kept: dir:PATH, s3://BUCKET[/PREFIX]?endpoint=URL or db; default dir:DATA/files ($OUTPOST_FILES)")
	var lim limitFlags
	lim.register(fs)
	lim.metrics.register(fs, getenv)
	var oidcf oidcFlags
	oidcf.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := lim.metrics.check(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("outpost demo: unexpected argument %q", fs.Arg(0))
	}
	if err := lim.srv.check(); err != nil {
		return err
	}
	dbf := dbFlags{data: *data, files: *files}
	logger, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(*data, sqlite.FileName)
	statePath := filepath.Join(*data, demoStateFile)
	if *reset {
		fmt.Fprintf(stdout, "Removing the previous demo in %s\n", *data)
		for _, f := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", statePath} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("remove previous demo: %w", err)
			}
		}
		if spec, err := dbf.fileSpec(); err == nil && spec.Kind == "dir" && spec.Path == filepath.Join(*data, "files") {
			if err := os.RemoveAll(spec.Path); err != nil {
				return fmt.Errorf("remove previous demo: %w", err)
			}
		}
	}
	state, err := readDemoState(statePath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dbPath); err == nil && state == nil {
		return fmt.Errorf("%s holds an Outpost database that is not a demo's (or a demo of an older version): run outpost demo --reset to seed a new demo there, or choose another --data", *data)
	}
	db, err := sqlite.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	lim.srv.applyPool(db)
	fileStore, err := dbf.fileStore(ctx, getenv)
	if err != nil {
		return err
	}
	// The demo's passwords are random (64 bits) and printed on its
	// terminal; key stretching guards guessable passwords, and the demo has
	// none, so it hashes at bcrypt's lowest cost and starts in a moment.
	p, err := platform.Open(ctx, db, lim.platformOptions(platform.Options{Logger: logger, PasswordCost: bcrypt.MinCost, Files: fileStore}))
	if err != nil {
		return err
	}
	if state != nil {
		fmt.Fprintf(stdout, "Serving the demo kept in %s (outpost demo --reset seeds a new one)\n", *data)
	} else {
		fmt.Fprintf(stdout, "Seeding the field-service demo into %s\n", *data)
		env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: *accounts, Progress: func(m string) { fmt.Fprintf(stdout, "  … %s\n", m) }})
		if err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		state = &demoState{Env: env, Tokens: map[string]string{}}
		for _, u := range env.Users() {
			tok, err := p.IssueToken(ctx, platform.System(), u.ID, "demo")
			if err != nil {
				return err
			}
			state.Tokens[u.DomainName] = tok
		}
		if err := writeDemoState(statePath, state); err != nil {
			return err
		}
	}
	if state.Passwords == nil {
		if state.Passwords, err = demoPasswords(ctx, p, state.Env); err != nil {
			return err
		}
		if err := writeDemoState(statePath, state); err != nil {
			return err
		}
	}
	oidc, err := oidcf.options(ctx, p)
	if err != nil {
		return err
	}
	return serve(ctx, p, *addr, logger, lim, oidc, func(a net.Addr) {
		fmt.Fprint(stdout, demoBanner("http://"+a.String(), *data, state))
	})
}

func readDemoState(path string) (*demoState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the demo's state: %w", err)
	}
	var s demoState
	if err := json.Unmarshal(b, &s); err != nil || s.Env == nil || len(s.Env.Technicians) == 0 {
		return nil, fmt.Errorf("%s is damaged: run outpost demo --reset to seed a new demo", path)
	}
	return &s, nil
}

func writeDemoState(path string, s *demoState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("write the demo's state: %w", err)
	}
	return os.Rename(path+".tmp", path)
}

// demoBanner is what the demo prints once it serves: users and tokens, the
// apps, and the README walkthrough's first commands with the values filled
// in, for the ./outpost binary the README builds.
func demoBanner(base, data string, s *demoState) string {
	env := s.Env
	var b strings.Builder
	fmt.Fprintf(&b, "\nOutpost demo is serving at %s (embedded SQLite in %s)\n\nUsers, their passwords and tokens:\n", base, data)
	for _, u := range env.Users() {
		fmt.Fprintf(&b, "  %-26s %-40s %-14s %s\n", u.DomainName, u.Role, s.Passwords[u.DomainName], s.Tokens[u.DomainName])
	}
	nora := s.Tokens[env.Technicians[0].DomainName]
	admin := s.Tokens[env.Admin.DomainName]
	fmt.Fprintf(&b, "\nTry:\n")
	fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/data/workorder?$select=name,priority&$top=3&$count=true'\n", nora, base)
	fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/data/account?$filter=address1_city%%20eq%%20%%27Lakeside%%27&$select=name'\n", nora, base)
	fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/metadata/tables/workorder'\n", admin, base)
	fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/whoami'\n", nora, base)
	fmt.Fprintf(&b, "\nOffline apps (profile \"Field Technician\"):\n  %-40s model-driven  %s\n  %-40s canvas        %s\n",
		"Field Service", env.ModelDrivenApp, "Field Inspections", env.CanvasApp)
	fmt.Fprintf(&b, "\nTake it offline as Nora (README \"Take it offline\"; build the binary once: go build -o outpost ./cmd/outpost):\n")
	fmt.Fprintf(&b, "  export NORA=%s ADMIN=%s APP=%s\n", nora, admin, env.ModelDrivenApp)
	if env.WorkOrder != "" {
		fmt.Fprintf(&b, "  export WO=%s   # Nora's work order %q, priority 3 (High)\n", env.WorkOrder, env.WorkOrderName)
	}
	nora0 := env.Technicians[0].DomainName
	fmt.Fprintf(&b, "  ./outpost device login --server %s --user %s   # password: %s\n  ./outpost device open $APP\n  ./outpost device sync\n  ./outpost device status\n",
		base, nora0, s.Passwords[nora0])
	fmt.Fprintf(&b, "\nOr in the browser: ./outpost device serve, open the link it prints, sign in with %s and $NORA.\n", base)
	fmt.Fprintf(&b, "\nThe maker portal: open %s/portal/, sign in as the maker (password above) and open the \"Field Technician\" profile.\n", base)
	fmt.Fprintf(&b, "\nNora sees her own and the North Field Team's rows; the admin sees all. Press Ctrl+C to stop;\n")
	fmt.Fprintf(&b, "outpost demo --data %s serves the same demo again (same tokens and passwords); --reset seeds a new one.\n", data)
	return b.String()
}

// demoPasswords gives every demo user a new random password (printed with
// the tokens) and returns them by login.
func demoPasswords(ctx context.Context, p *platform.Platform, env *demo.Env) (map[string]string, error) {
	out := map[string]string{}
	for _, u := range env.Users() {
		var raw [8]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, err
		}
		pw := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
		if err := p.SetPassword(ctx, platform.System(), u.ID, pw, ""); err != nil {
			return nil, fmt.Errorf("set the password of %s: %w", u.DomainName, err)
		}
		out[u.DomainName] = pw
	}
	return out, nil
}
