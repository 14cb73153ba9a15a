package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/outposthq/outpost/platform"
)

// runDev runs outpost device --home home args and returns the error and
// both outputs.
func runDev(home string, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"device", "--home", home}, args...), noEnv, &out, &errb)
	return out.String(), errb.String(), err
}

// TestDeviceHelpPerCommand: every device command answers -h, --help and
// "device help COMMAND" with its own usage, flags and examples, without
// running; unknown flags and arguments are errors.
func TestDeviceHelpPerCommand(t *testing.T) {
	home := t.TempDir()
	for _, dc := range deviceCommands {
		for _, args := range [][]string{{dc.name, "-h"}, {dc.name, "--help"}, {"help", dc.name}} {
			out, _, err := runDev(home, args...)
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("device %v: %v", args, err)
			}
			if !strings.HasPrefix(out, "Usage: outpost device "+dc.name+" ") || !strings.Contains(out, "Examples:\n  outpost device "+dc.name) {
				t.Fatalf("device %v printed:\n%s", args, out)
			}
		}
	}
	out, _, err := runDev(home, "query", "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "-orderby") || strings.Contains(out, "-full") {
		t.Fatalf("query --help: %v\n%s", err, out)
	}
	if out, _, _ := runDev(home, "status", "--help"); strings.Contains(out, "Sync status:") {
		t.Fatalf("status --help ran status:\n%s", out)
	}
	if out, _, err := runDev(home, "help"); err != nil || !strings.Contains(out, "query") || !strings.Contains(out, "OUTPOST_DEVICE_HOME") {
		t.Fatalf("device help: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"status", "--bogus"}, {"status", "extra"}, {"sync", "--all"}, {"errors", "--full"}, {"help", "nosuch"}} {
		if _, _, err := runDev(home, args...); err == nil || errors.Is(err, flag.ErrHelp) {
			t.Fatalf("device %v: accepted", args)
		}
	}
}

// TestDeviceLoginChecksToken: login refuses a URL without scheme, a server
// that does not answer and a token the server refuses, and remembers
// nothing then; a later refusal says to log in again.
func TestDeviceLoginChecksToken(t *testing.T) {
	fx := newDeviceFixture(t, 1)
	home := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, c := range []struct{ server, token, want string }{
		{strings.TrimPrefix(fx.srv.URL, "http://"), fx.tok, "needs http:// or https://"},
		{closed, fx.tok, "cannot reach the server at " + closed},
		{fx.srv.URL, "opt_wrong", "does not accept this token"},
	} {
		out, _, err := runDev(home, "login", "--server", c.server, "--token", c.token)
		if err == nil || !strings.Contains(describeErr(err), c.want) || strings.Contains(out, "Signed in") {
			t.Fatalf("login to %s with %s: %v (want %q)\n%s", c.server, c.token, err, c.want, out)
		}
		if _, err := os.Stat(filepath.Join(home, "config.json")); err == nil {
			t.Fatalf("a refused login was remembered")
		}
	}
	if out, _, err := runDev(home, "login", "--server", fx.srv.URL+"/", "--token", fx.tok); err != nil || !strings.Contains(out, "Signed in to "+fx.srv.URL+" as user "+fx.env.Technicians[0].ID) {
		t.Fatalf("good login: %v\n%s", err, out)
	}
	if _, _, err := runDev(home, "open", fx.env.ModelDrivenApp); err != nil {
		t.Fatal(err)
	}
	if err := fx.p.RevokeTokens(context.Background(), platform.System(), fx.env.Technicians[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runDev(home, "sync"); err == nil || !strings.Contains(describeErr(err), "log in again with outpost device login") {
		t.Fatalf("sync with a revoked token: %v", err)
	}
	if out, _, err := runDev(home, "status"); err != nil || !strings.Contains(out, "log in again") {
		t.Fatalf("status with a revoked token: %v\n%s", err, out)
	}
}

// TestDeviceQueryArguments: extra arguments are refused (a desc outside
// the --orderby quotes included), 'name desc' sorts descending, --top 0
// returns every row.
func TestDeviceQueryArguments(t *testing.T) {
	fx := newDeviceFixture(t, 6)
	fx.dev("login", "--server", fx.srv.URL, "--token", fx.tok)
	fx.dev("open", fx.env.ModelDrivenApp)
	fx.dev("sync")
	for _, args := range [][]string{
		{"query", "workorder", "--orderby", "name", "desc"},
		{"query", "workorder", "extra"},
		{"query", "workorder", "--orderby", "name sideways"},
		{"query", "workorder", "--top", "-1"},
		{"query"},
	} {
		if out, _, err := runDev(fx.home, args...); err == nil {
			t.Fatalf("device %v accepted:\n%.300s", args, out)
		}
	}
	names := func(out string) []string {
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("query output: %v\n%s", err, out)
		}
		var n []string
		for _, r := range rows {
			n = append(n, r["name"].(string))
		}
		return n
	}
	desc := names(fx.dev("query", "workorder", "--select", "name", "--orderby", "name desc", "--top", "5"))
	if len(desc) != 5 || desc[0] < desc[4] {
		t.Fatalf("'name desc' gave %v", desc)
	}
	all := names(fx.dev("query", "workorder", "--top", "0", "--select", "name"))
	m := regexp.MustCompile(`(?m)^workorder\s+(\d+)`).FindStringSubmatch(fx.dev("status"))
	held, _ := strconv.Atoi(m[1])
	if len(all) != held || held <= 20 {
		t.Fatalf("--top 0 gave %d rows of %d held", len(all), held)
	}
}

// TestDeviceCLIWordsAndChecks: offline edits are checked before they are
// queued, update names the columns it queued, messages count in plain
// words, the offline errors list has the online one's columns, status
// probes the server, and sync output off a terminal has no carriage
// returns.
func TestDeviceCLIWordsAndChecks(t *testing.T) {
	fx := newDeviceFixture(t, 2)
	fx.dev("login", "--server", fx.srv.URL, "--token", fx.tok)
	fx.dev("open", fx.env.ModelDrivenApp)
	if out := fx.dev("status"); !strings.Contains(out, "Sync status:      ConnectedRefresh\n") || !strings.Contains(out, "answered just now") {
		t.Fatalf("status after open:\n%s", out)
	}
	out := fx.dev("sync")
	if strings.Contains(out, "\r") || !strings.Contains(out, "100%") {
		t.Fatalf("sync output off a terminal:\n%q", out)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(fx.dev("query", "workorder", "--top", "1")), &rows); err != nil {
		t.Fatal(err)
	}
	id := rows[0]["workorderid"].(string)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "workorder", "name=X", "priority=9"}, `column "priority" of table "workorder": 9 is not one of its options`},
		{[]string{"create", "workorder", "priority=2"}, `column "name" of table "workorder" is required`},
		{[]string{"update", "workorder", id, "priority=abc"}, `column "priority" of table "workorder" takes a whole number, got the string "abc"`},
	} {
		_, _, err := runDev(fx.home, c.args...)
		if err == nil || !strings.HasPrefix(describeErr(err), c.want) {
			t.Fatalf("device %v: %v, want %q", c.args, err, c.want)
		}
	}
	if out := fx.dev("update", "workorder", id, "priority=1", "description=Replaced the filter"); !strings.Contains(out, "priority, description queued for upload") {
		t.Fatalf("update output:\n%s", out)
	}
	if out := fx.dev("status"); !strings.Contains(out, "Pending uploads:  1 change\n") {
		t.Fatalf("status with one change queued:\n%s", out)
	}
	online := fx.dev("errors")
	if _, _, err := runDev(fx.home, "errors", "--all"); err == nil || !strings.Contains(err.Error(), "only administrators") {
		t.Fatalf("errors --all as a technician: %v", err)
	}
	fx.srv.Close()
	if out := fx.dev("status"); !strings.Contains(out, "NotConnectedPendingUpsync") || !strings.Contains(out, "offline: the server does not answer (last contact just now)") {
		t.Fatalf("status with the server gone:\n%s", out)
	}
	offline := fx.dev("errors")
	header := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "ID ") {
				return strings.Join(strings.Fields(l), " ")
			}
		}
		return ""
	}
	if header(online) == "" || header(online) != header(offline) {
		t.Fatalf("errors columns online %q, offline %q", header(online), header(offline))
	}
	if _, _, err := runDev(fx.home, "errors", "--all"); err == nil || !strings.Contains(err.Error(), "--all") {
		t.Fatalf("errors --all offline: %v", err)
	}
}
