package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestServeFlagsFromEnvironment: every serve flag reads OUTPOST_<FLAG>
// when it is not on the command line; the command line wins; a bad value
// in the environment names the variable.
func TestServeFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"OUTPOST_MAX_BODY_MIB":          "9",
		"OUTPOST_MAX_FILE_MIB":          "64",
		"OUTPOST_READ_TIMEOUT":          "7s",
		"OUTPOST_IDLE_TIMEOUT":          "45s",
		"OUTPOST_DB_MAX_CONNS":          "12",
		"OUTPOST_ACCESS_TOKEN_LIFETIME": "5m",
		"OUTPOST_MAX_ROWS_PER_DEVICE":   "1000",
		"OUTPOST_COMPRESS":              "false",
		"OUTPOST_FILES":                 "dir:/srv/files",
		"OUTPOST_LOG_LEVEL":             "debug",
	}
	getenv := func(k string) string { return env[k] }
	c, err := parseServe([]string{"--max-body-mib", "5", "--read-timeout=2m"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"body": c.lim.maxBodyMiB, "file": c.lim.maxFileMiB, "read": c.lim.srv.readTimeout, "idle": c.lim.srv.idleTimeout,
		"conns": c.lim.srv.dbMaxConns, "access": c.lim.srv.accessTTL, "rows": c.lim.maxRows, "compress": c.lim.web.compress, "files": c.dbf.files, "level": c.level,
		"write": c.lim.srv.writeTimeout}
	want := map[string]any{"body": int64(5), "file": int64(64), "read": 2 * time.Minute, "idle": 45 * time.Second,
		"conns": 12, "access": 5 * time.Minute, "rows": int64(1000), "compress": false, "files": "dir:/srv/files", "level": "debug",
		"write": defaultWriteTimeout}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}

	env = map[string]string{"OUTPOST_WRITE_TIMEOUT": "soon"}
	_, err = parseServe(nil, getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "OUTPOST_WRITE_TIMEOUT") {
		t.Fatalf("a bad duration in the environment: %v, want the variable named", err)
	}
	env = map[string]string{"OUTPOST_READ_TIMEOUT": "0s"}
	if _, err = parseServe(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "--read-timeout") {
		t.Fatalf("a zero timeout: %v, want refused", err)
	}

	// Every flag has its own variable, and each takes its default's text.
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg serveConfig
	cfg.dbf.register(fs, func(string) string { return "" })
	cfg.lim.register(fs)
	cfg.oidcf.register(fs, func(string) string { return "" })
	names := map[string]string{}
	defaults := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if other, dup := names[envName(f.Name)]; dup {
			t.Errorf("--%s and --%s share %s", f.Name, other, envName(f.Name))
		}
		names[envName(f.Name)] = f.Name
		defaults[envName(f.Name)] = f.DefValue
	})
	if err := applyEnv(fs, func(k string) string { return defaults[k] }); err != nil {
		t.Fatalf("a flag does not take its default's text from the environment: %v", err)
	}
	if len(names) < 30 {
		t.Fatalf("serve has %d flags; expected the limits, server and web flags too", len(names))
	}

	var help bytes.Buffer
	if _, err := parseServe([]string{"-h"}, func(string) string { return "" }, &help); err != flag.ErrHelp || !strings.Contains(help.String(), "OUTPOST_MAX_BODY_MIB") || !strings.Contains(help.String(), "-files") {
		t.Fatalf("serve -h: %v\n%s", err, help.String())
	}
}
