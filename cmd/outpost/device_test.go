package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDeviceCLI drives outpost device against a demo server: login, open,
// sync with a progress bar, query, then with the server down an offline
// create and a status that shows it waiting.
func TestDeviceCLI(t *testing.T) {
	ctx := context.Background()
	fx := newDeviceFixture(t, 3)
	env, srv, tok, dev := fx.env, fx.srv, fx.tok, fx.dev
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
	if err := run(ctx, []string{"device", "--home", fx.home, "sync"}, func(string) string { return "" }, &out, &out); err == nil || !strings.Contains(out.String(), "Offline: 1 change waits") {
		t.Fatalf("sync with the server down: err %v\n%s", err, out.String())
	}
	if out := dev("status"); !strings.Contains(out, "NotConnectedPendingUpsync") || !strings.Contains(out, "Pending uploads:  1") {
		t.Fatalf("offline status:\n%s", out)
	}
}
