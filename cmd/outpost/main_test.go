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
	base, out, stop := startDemo(t, "--data", t.TempDir(), "--accounts", "3")
	tok := regexp.MustCompile(`nora@contoso.example\s+.*?\s(opt_\S+)`).FindStringSubmatch(out)
	if tok == nil {
		t.Fatalf("no token for nora in:\n%s", out)
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
	stop()
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
