package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/syncsrv"
)

// TestDeviceCLI drives outpost device against a demo server: login, open,
// sync with a progress bar, query, then with the server down an offline
// create and a status that shows it waiting.
func TestDeviceCLI(t *testing.T) {
	ctx := context.Background()
	p, err := platform.Open(ctx, testenv.OpenSQLite(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 3})
	if err != nil {
		t.Fatal(err)
	}
	profiles := profile.New(p, profile.Options{})
	srv := httptest.NewServer(httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: syncsrv.New(p, profiles, syncsrv.Options{})}))
	defer srv.Close()
	tok, err := p.IssueToken(ctx, platform.System(), env.Technicians[0].ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	dev := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, append([]string{"device", "--home", home}, args...), func(string) string { return "" }, &out, &errb); err != nil {
			t.Fatalf("device %v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String()
	}
	dev("login", "--server", srv.URL, "--token", tok)
	dev("open", env.ModelDrivenApp)
	if out := dev("sync"); !strings.Contains(out, "100%") || !strings.Contains(out, "Synced:") {
		t.Fatalf("sync output lacks the progress bar or summary:\n%s", out)
	}
	if out := dev("status"); !strings.Contains(out, "Sync status:      Connected\n") {
		t.Fatalf("status after sync:\n%s", out)
	}
	if out := dev("query", "workorder", "--select", "name", "--top", "2"); !strings.Contains(out, `"name"`) {
		t.Fatalf("query output:\n%s", out)
	}
	srv.Close()
	if out := dev("create", "workorder", "name=Call back", "priority=3"); !strings.Contains(out, "Created workorder") {
		t.Fatalf("create output:\n%s", out)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"device", "--home", home, "sync"}, func(string) string { return "" }, &out, &out); err == nil || !strings.Contains(out.String(), "Offline: 1 changes wait") {
		t.Fatalf("sync with the server down: err %v\n%s", err, out.String())
	}
	if out := dev("status"); !strings.Contains(out, "NotConnectedPendingUpsync") || !strings.Contains(out, "Pending uploads:  1") {
		t.Fatalf("offline status:\n%s", out)
	}
}
