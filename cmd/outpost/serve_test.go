package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestShutdownEndsEventStreams starts the server, connects a device's
// change-hint stream and stops the server: it shuts down promptly and
// cleanly, the stream ending.
func TestShutdownEndsEventStreams(t *testing.T) {
	base, out, stop := startDemo(t, "--data", t.TempDir(), "--accounts", "1")
	token := func(login string) string {
		m := regexp.MustCompile(regexp.QuoteMeta(login) + `\s+.*?\s(opt_\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no token for %s in:\n%s", login, out)
		}
		return m[1]
	}
	nora, maker := token("nora@contoso.example"), token("maker@contoso.example")
	call := func(method, path, tok, body string) *http.Response {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := call("GET", "/api/offline/apps", maker, "")
	var apps struct {
		Value []struct{ ID, Kind string }
	}
	_ = json.NewDecoder(res.Body).Decode(&apps)
	res.Body.Close()
	app := ""
	for _, a := range apps.Value {
		if a.Kind == "modeldriven" {
			app = a.ID
		}
	}
	device := "5f2504e0-4f89-41d3-9a0c-0305e82c3301"
	res = call("POST", "/api/sync/v1/open", nora, `{"deviceId":"`+device+`","appId":"`+app+`"}`)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("open app %q: %d", app, res.StatusCode)
	}
	res = call("GET", "/api/sync/v1/events?deviceId="+device, nora, "")
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, ": connected") {
		t.Fatalf("stream began %q, %v", line, err)
	}
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	t.Logf("shut down in %v with a change stream open", time.Since(start))
}

// TestAdminRefusesImplicitEnvironment runs `outpost admin` with no --data
// or --db in a directory without data: it refuses, says where it looked
// and how to point it at the demo, and creates nothing.
func TestAdminRefusesImplicitEnvironment(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, demo := range []bool{false, true} {
		if demo {
			if err := run(context.Background(), []string{"admin", "--data", "outpost-demo", "user", "list"}, noEnv, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		err := run(context.Background(), []string{"admin", "user", "list"}, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "outpost-data") || !strings.Contains(err.Error(), "outpost-demo") || !strings.Contains(err.Error(), "--data") {
			t.Fatalf("demo=%v: admin without --data: %v", demo, err)
		}
		if demo && !strings.Contains(err.Error(), "use --data outpost-demo") {
			t.Fatalf("the demo's directory is not suggested: %v", err)
		}
		if _, err := os.Stat("outpost-data"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("outpost-data was created: %v", err)
		}
	}
}

// The commit listener is started again after it fails, and stops when the
// server does.
func TestFollowCommitsListensAgain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	done := make(chan struct{})
	var logs bytes.Buffer
	go func() {
		defer close(done)
		followCommits(ctx, func(ctx context.Context) error {
			calls++
			if calls < 3 {
				return errors.New("connection lost")
			}
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}, slog.New(slog.NewTextHandler(&logs, nil)), time.Millisecond)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("followCommits did not return after its context ended")
	}
	if calls != 3 || strings.Count(logs.String(), "listening again") != 2 {
		t.Errorf("listen ran %d times, logs:\n%s", calls, logs.String())
	}
}
