package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outposthq/outpost/internal/testenv"
)

// startDemo runs outpost demo with args until the test stops it; it
// returns the server's URL, the demo's output so far and the stop, which
// fails the test unless the demo shuts down cleanly within 20 seconds.
func startDemo(t *testing.T, args ...string) (string, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0"}, args...), noEnv, &out, &errOut)
	}()
	re := regexp.MustCompile(`serving at (http://\S+)`)
	var base string
	testenv.WaitFor(t, 60*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s\n%s", err, out.String(), errOut.String())
		default:
		}
		m := re.FindStringSubmatch(out.String())
		if m == nil || !strings.Contains(out.String(), "Press Ctrl+C") {
			return io.EOF
		}
		base = m[1]
		return nil
	})
	return base, out.String(), func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("demo returned %v\n%s", err, errOut.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("demo did not shut down\n%s", errOut.String())
		}
	}
}

func demoValue(t *testing.T, out, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, out)
	}
	return m[1]
}

func demoGet(t *testing.T, base, token, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return string(b)
}

// TestDemoKeepsItsDataAcrossRestarts: a restart on the same --data serves
// the same rows, tokens and app ids (a change made before the restart is
// still there); --reset seeds anew; a directory holding another database
// is refused. The banner prints the README's ./outpost commands and the
// work order to edit.
func TestDemoKeepsItsDataAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	base, out, stop := startDemo(t, "--data", data, "--accounts", "15")
	if !strings.Contains(out, "rows: 100 of 105 accounts (95%)") {
		t.Fatalf("seeding shows no progress:\n%s", out)
	}
	nora := demoValue(t, out, `export NORA=(opt_\S+)`)
	app := demoValue(t, out, `APP=(\S+)`)
	wo := demoValue(t, out, `export WO=(\S+)`)
	if !strings.Contains(out, "./outpost device login --server "+base+" --user nora@contoso.example") || !strings.Contains(out, "./outpost device open $APP") {
		t.Fatalf("the banner's device commands differ from the README's:\n%s", out)
	}
	password := demoValue(t, out, `--user nora@contoso.example\s+# password: (\S+)`)
	if !strings.Contains(out, "nora@contoso.example") || !regexp.MustCompile(`nora@contoso.example\s+.*\s`+password+`\s+opt_`).MatchString(out) {
		t.Fatalf("the users' list lacks Nora's password:\n%s", out)
	}
	demoLogin(t, base, password)
	if row := demoGet(t, base, nora, "/api/data/workorder("+wo+")?$select=priority,completed"); !strings.Contains(row, `"priority":3`) || !strings.Contains(row, `"completed":false`) {
		t.Fatalf("the work order to pick: %s", row)
	}
	admin := demoValue(t, out, `ADMIN=(opt_\S+)`)
	req, _ := http.NewRequest(http.MethodPatch, base+"/api/data/workorder("+wo+")", strings.NewReader(`{"priority":2}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("PATCH: %v %v", res, err)
	}
	stop()

	base, out2, stop := startDemo(t, "--data", data)
	if !strings.Contains(out2, "Serving the demo kept in") || strings.Contains(out2, "Seeding") {
		t.Fatalf("restart reseeded:\n%s", out2)
	}
	if demoValue(t, out2, `export NORA=(opt_\S+)`) != nora || demoValue(t, out2, `APP=(\S+)`) != app {
		t.Fatalf("the restart changed the token or the app id")
	}
	if demoValue(t, out2, `--user nora@contoso.example\s+# password: (\S+)`) != password {
		t.Fatalf("the restart changed Nora's password")
	}
	demoLogin(t, base, password)
	if row := demoGet(t, base, nora, "/api/data/workorder("+wo+")?$select=priority"); !strings.Contains(row, `"priority":2`) {
		t.Fatalf("the change before the restart is lost: %s", row)
	}
	stop()

	_, out3, stop := startDemo(t, "--data", data, "--reset", "--accounts", "2")
	if demoValue(t, out3, `export NORA=(opt_\S+)`) == nora || !strings.Contains(out3, "Seeding") {
		t.Fatalf("--reset kept the old demo:\n%s", out3)
	}
	stop()

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "outpost.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"demo", "--data", other, "--addr", "127.0.0.1:0"}, noEnv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("a directory with another database: %v", err)
	}
}

// demoLogin signs Nora in with password.
func demoLogin(t *testing.T, base, password string) {
	t.Helper()
	res, err := http.Post(base+"/api/auth/login", "application/json",
		strings.NewReader(`{"username":"nora@contoso.example","password":"`+password+`","mode":"device","device":{"name":"test"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("Nora's sign-in with the printed password: %d %s", res.StatusCode, b)
	}
}
