package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

func TestDemoServesSeededEnvironment(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--accounts", "3"}, noEnv, &out, &errOut)
	}()
	re := regexp.MustCompile(`serving at (http://\S+)`)
	var base string
	testenv.WaitFor(t, 60*time.Second, func() error {
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			select {
			case err := <-done:
				t.Fatalf("demo stopped: %v\n%s\n%s", err, out.String(), errOut.String())
			default:
			}
			return io.EOF
		}
		base = m[1]
		return nil
	})
	tok := regexp.MustCompile(`nora@contoso.example\s+.*?\s(opt_\S+)`).FindStringSubmatch(out.String())
	if tok == nil {
		t.Fatalf("no token for nora in:\n%s", out.String())
	}
	req, _ := http.NewRequest("GET", base+"/api/data/workorder?$count=true&$top=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// Nora owns 3 accounts × 5 work orders and shares the North team's 15.
	if res.StatusCode != 200 || !strings.Contains(string(body), `"@odata.count":30`) {
		t.Fatalf("nora's work orders: %d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not shut down")
	}
}

func TestAdminCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	admin := adminIn(t, dir)
	uid := admin("user", "create", "--name", "Kim Lee", "--domain", "kim@example.com", "--role", "Basic User")
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(uid) {
		t.Fatalf("user create printed %q", uid)
	}
	if tok := admin("token", "create", "--user", "kim@example.com"); !strings.HasPrefix(tok, "opt_") {
		t.Fatalf("token create printed %q", tok)
	}
	team := admin("team", "create", "--name", "Crew")
	admin("team", "add-member", "--team", team, "--user", uid)
	admin("role", "create", "--name", "Reader", "--grant", "account:read:businessunit", "--grant", "contact:read:user")
	admin("role", "assign", "--role", "Reader", "--team", team)
	if list := admin("user", "list"); !strings.Contains(list, "kim@example.com") {
		t.Fatalf("user list lacks the new user:\n%s", list)
	}
	if got := admin("table", "list"); !strings.Contains(got, "account") || !strings.Contains(got, "syncerror") {
		t.Fatalf("table list:\n%s", got)
	}
	var errOut bytes.Buffer
	err := run(ctx, []string{"admin", "--data", dir, "role", "create", "--name", "Bad", "--grant", "account:read"}, noEnv, io.Discard, &errOut)
	if err == nil || !strings.Contains(err.Error(), "TABLE:PRIVILEGE:DEPTH") {
		t.Fatalf("bad --grant gave %v", err)
	}
	if err := run(ctx, []string{"nope"}, noEnv, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown command succeeded")
	}
}
