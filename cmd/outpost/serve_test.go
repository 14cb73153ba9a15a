package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
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
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"admin", "--data", dir, "user", "create", "--name", "Kim", "--domain", "kim@example.com", "--role", "Basic User"}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("user create: %v %s", err, errOut.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"admin", "--data", dir, "token", "create", "--user", "kim@example.com"}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("token create: %v %s", err, errOut.String())
	}
	token := strings.TrimSpace(out.String())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, noEnv, &logs, &logs)
	}()
	re := regexp.MustCompile(`"?addr"?[=:]"?(127\.0\.0\.1:[0-9]+)`)
	var addr string
	waitFor(t, 30*time.Second, func() error {
		m := re.FindStringSubmatch(logs.String())
		if m == nil {
			return context.DeadlineExceeded
		}
		addr = m[1]
		return nil
	})
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/sync/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, ": connected") {
		t.Fatalf("stream began %q, %v", line, err)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v\n%s", err, logs.String())
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("shutdown took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not shut down with a stream open\n%s", logs.String())
	}
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
