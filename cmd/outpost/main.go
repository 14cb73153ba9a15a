// Command outpost is the one Outpost binary: serve, demo, admin.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/outposthq/outpost"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "outpost:", describeErr(err))
		os.Exit(1)
	}
}

func describeErr(err error) string {
	var e *outpost.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

const usage = `Outpost — an offline data platform for field apps.

Usage:
  outpost serve   [--data DIR | --db postgres://...] [--addr :8080]   run the server
  outpost demo    [--data DIR] [--addr 127.0.0.1:8080]                 run a seeded demo server
  outpost admin   COMMAND ...                                          administer an environment
  outpost device  COMMAND ...                                          work as a field device (offline store)
  outpost bench   [--scale 0.01] [--engines sqlite,postgres]           run the benchmarks (docs/benchmarks.md)
  outpost backup  --data DIR --out FILE                                copy an embedded server's database while it serves
  outpost restore --from FILE --data DIR [--force]                     put a backup in place (server stopped)
  outpost version

Run "outpost COMMAND -h" for the flags of a command.
`

// command is one of the binary's commands, run with the arguments after
// its name.
type command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// commands are the commands of the usage text but version and help, which
// need no flags.
var commands = map[string]command{
	"serve":   runServe,
	"demo":    runDemo,
	"admin":   runAdmin,
	"device":  runDevice,
	"bench":   runBench,
	"backup":  runBackup,
	"restore": runRestore,
}

// run is the whole program; tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("name a command: serve, demo, admin, device or version")
	}
	if cmd, ok := commands[args[0]]; ok {
		return cmd(ctx, args[1:], getenv, stdout, stderr)
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, "outpost", version)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: use serve, demo, admin, device or version", args[0])
}

const version = "0.1.0"

// commandFlags is the flag set of a command: its errors and usage go to
// stderr, the usage being head, the flags, then tail.
func commandFlags(name string, stderr io.Writer, head, tail string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, head)
		fs.PrintDefaults()
		fmt.Fprint(stderr, tail)
	}
	return fs
}

// commandsUsage is the usage text of a family of commands: head, a line
// for each command with the summaries aligned, then tail.
func commandsUsage[C any](head string, cmds []C, line func(C) (name, summary string), tail string) string {
	var b strings.Builder
	b.WriteString(head)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range cmds {
		name, summary := line(c)
		fmt.Fprintf(tw, "  %s\t%s\n", name, summary)
	}
	tw.Flush()
	b.WriteString(tail)
	return b.String()
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}
