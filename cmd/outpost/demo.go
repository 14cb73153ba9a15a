package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store/sqlite"
)

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "outpost-demo", "data directory of the demo (recreated at every start)")
	addr := fs.String("addr", envOr(getenv, "OUTPOST_ADDR", "127.0.0.1:8080"), "address to listen on")
	accounts := fs.Int("accounts", 40, "accounts per technician (each with 2 contacts and 5 work orders)")
	level := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*data, sqlite.FileName)); err == nil {
		fmt.Fprintf(stdout, "Removing the previous demo in %s\n", *data)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(filepath.Join(*data, sqlite.FileName+suffix)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("remove previous demo: %w", err)
			}
		}
	}
	db, err := sqlite.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := platform.Open(ctx, db, platform.Options{Logger: logger})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Seeding the field-service demo into %s\n", *data)
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: *accounts, Progress: func(m string) { fmt.Fprintf(stdout, "  … %s\n", m) }})
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	tokens := map[string]string{}
	for _, u := range env.Users() {
		tok, err := p.IssueToken(ctx, platform.System(), u.ID, "demo")
		if err != nil {
			return err
		}
		tokens[u.DomainName] = tok
	}
	return serve(ctx, p, *addr, logger, func(a net.Addr) {
		base := "http://" + a.String()
		var b strings.Builder
		fmt.Fprintf(&b, "\nOutpost demo is serving at %s (embedded SQLite in %s)\n\nUsers and their tokens:\n", base, *data)
		for _, u := range env.Users() {
			fmt.Fprintf(&b, "  %-26s %-40s %s\n", u.DomainName, u.Role, tokens[u.DomainName])
		}
		nora := tokens[env.Technicians[0].DomainName]
		admin := tokens[env.Admin.DomainName]
		fmt.Fprintf(&b, "\nTry:\n")
		fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/data/workorder?$select=name,priority&$top=3&$count=true'\n", nora, base)
		fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/data/account?$filter=address1_city%%20eq%%20%%27Lakeside%%27&$select=name'\n", nora, base)
		fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/metadata/tables/workorder'\n", admin, base)
		fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/api/whoami'\n", nora, base)
		fmt.Fprintf(&b, "\nOffline apps (profile \"Field Technician\"):\n  %-40s model-driven  %s\n  %-40s canvas        %s\n",
			"Field Service", env.ModelDrivenApp, "Field Inspections", env.CanvasApp)
		fmt.Fprintf(&b, "\nTake it offline as Nora (see README \"Take it offline\"):\n")
		fmt.Fprintf(&b, "  outpost device login --server %s --token %s\n  outpost device open %s\n  outpost device sync\n  outpost device status\n", base, nora, env.ModelDrivenApp)
		fmt.Fprintf(&b, "\nOr in the browser: outpost device serve, open the link it prints, and sign in with %s and Nora's token.\n", base)
		fmt.Fprintf(&b, "\nThe maker portal: open %s/portal/, sign in with the maker's token and open the \"Field Technician\" profile.\n", base)
		fmt.Fprintf(&b, "\nNora sees her own and the North Field Team's rows; the admin sees all. Press Ctrl+C to stop.\n")
		fmt.Fprint(stdout, b.String())
	})
}
