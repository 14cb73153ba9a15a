package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
)

const deviceHomeHelp = `The device's home (--home DIR, else $OUTPOST_DEVICE_HOME, else ~/.outpost-device) holds
config.json (the server, the token and the open app), credential.json (a password sign-in's
device credential, mode 0600) and stores/ (one SQLite store per user and
offline profile, with its upload queue). To start the device over, remove the home directory
(changes not uploaded yet are lost with it), or point --home at a new one.`

// deviceCommand is one "outpost device" command: its usage and examples,
// and the method that declares its flags and returns how it runs.
type deviceCommand struct {
	name     string
	args     string // the usage after the command's name
	summary  string
	examples []string
	// store: the command works on the open app's store.
	store bool
	setup func(d *deviceCmd, fs *flag.FlagSet) deviceRun
}

// deviceRun runs a command with its positional arguments; c is the open
// store for commands that work on one, else nil.
type deviceRun func(ctx context.Context, c *client.Client, args []string) error

// deviceCommands lists the commands in the order of the help; it is set
// in init, as the commands' own help refers back to it.
var deviceCommands []deviceCommand

func init() {
	deviceCommands = []deviceCommand{
		{name: "login", args: "--server URL [--user NAME | --token TOKEN | --sso]", summary: "sign in with a user name and password (asked for), the organisation's single sign-on in a browser, or check an integration token and remember it",
			examples: []string{"outpost device login --server http://127.0.0.1:8080 --user nora@contoso.example",
				"outpost device login --server https://outpost.example.com --sso",
				"outpost device login --server http://127.0.0.1:8080 --token opt_..."}, setup: (*deviceCmd).loginCmd},
		{name: "open", args: "APPID", summary: "open an offline app (the first open needs the server)",
			examples: []string{"outpost device open 3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, setup: (*deviceCmd).openCmd},
		{name: "sync", args: "[--full]", summary: "upload queued changes, then download (progress on first sync)", store: true,
			examples: []string{"outpost device sync", "outpost device sync --full"}, setup: (*deviceCmd).syncCmd},
		{name: "status", args: "[--timeout 2s]", summary: "Connection.Sync state, tables, queue, storage, errors", store: true,
			examples: []string{"outpost device status"}, setup: (*deviceCmd).statusCmd},
		{name: "query", args: "TABLE [--filter ODATA] [--select a,b] [--orderby 'COL [desc]'] [--top N]", summary: "list local rows (works offline)", store: true,
			examples: []string{"outpost device query workorder --select name,priority --top 3",
				"outpost device query workorder --filter \"priority eq 1\" --orderby 'name desc' --top 0"}, setup: (*deviceCmd).queryCmd},
		{name: "create", args: "TABLE col=value ...", summary: "create a row offline (checked, then queued for upload)", store: true,
			examples: []string{"outpost device create workorder name=\"WO-NEW Check pump\" priority=2"}, setup: (*deviceCmd).createCmd},
		{name: "update", args: "TABLE ID col=value ...", summary: "change columns offline (checked, then queued)", store: true,
			examples: []string{"outpost device update workorder 3f2504e0-4f89-41d3-9a0c-0305e82c3301 priority=1 description=\"Replaced the filter\"",
				"outpost device update workorder ID description=null"}, setup: (*deviceCmd).updateCmd},
		{name: "delete", args: "TABLE ID", summary: "delete a row offline (queued)", store: true,
			examples: []string{"outpost device delete workorder 3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, setup: (*deviceCmd).deleteCmd},
		{name: "put-file", args: "TABLE ID COLUMN PATH", summary: "set a file or image column offline (queued)", store: true,
			examples: []string{"outpost device put-file workorder ID photo pump.jpg"}, setup: (*deviceCmd).putFileCmd},
		{name: "get-file", args: "TABLE ID COLUMN PATH", summary: "write the device's copy of a file or image (PATH - for stdout)", store: true,
			examples: []string{"outpost device get-file workorder ID photo -"}, setup: (*deviceCmd).getFileCmd},
		{name: "errors", args: "[--all]", summary: "sync errors (the server's when reachable, else the device's)", store: true,
			examples: []string{"outpost device errors", "outpost device errors --all   # administrators only: every user's"}, setup: (*deviceCmd).errorsCmd},
		{name: "retry", args: "SYNCERRORID", summary: "apply a rejected change again and resolve its sync error", store: true,
			examples: []string{"outpost device retry 3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, setup: (*deviceCmd).retryCmd},
		{name: "discard", args: "SYNCERRORID", summary: "resolve a sync error without applying its change", store: true,
			examples: []string{"outpost device discard 3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, setup: (*deviceCmd).discardCmd},
		{name: "serve", args: "[--addr 127.0.0.1:8765]", summary: "run the player: the field app in the browser (docs/player.md)",
			examples: []string{"outpost device serve", "outpost device --home ~/field serve --addr 127.0.0.1:0"}, setup: (*deviceCmd).serveCmd},
		{name: "help", args: "[COMMAND]", summary: "this list, or one command's usage",
			examples: []string{"outpost device help query"}, setup: (*deviceCmd).helpCmd},
	}
}

func findDeviceCommand(name string) *deviceCommand {
	for i := range deviceCommands {
		if deviceCommands[i].name == name {
			return &deviceCommands[i]
		}
	}
	return nil
}

func deviceUsage() string {
	return commandsUsage("Usage: outpost device [--home DIR] COMMAND [flags]\n\nCommands:\n",
		deviceCommands, func(c deviceCommand) (string, string) { return c.name, c.summary },
		"\nRun \"outpost device help COMMAND\" or \"outpost device COMMAND -h\" for a command's flags and examples.\n\n"+deviceHomeHelp+"\n")
}

// usage is the command's own help: usage line, summary, flags, examples.
func (dc *deviceCommand) usage(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: outpost device %s %s\n\n%s.\n", dc.name, dc.args, strings.ToUpper(dc.summary[:1])+dc.summary[1:])
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
	}
	b.WriteString("\nExamples:\n")
	for _, e := range dc.examples {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// deviceConfig is what login and open remember in the device home.
type deviceConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	App    string `json:"app"`
}

func runDevice(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	home := fs.String("home", defaultDeviceHome(getenv), "device directory: settings and stores ($OUTPOST_DEVICE_HOME)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, deviceUsage())
			return err
		}
		fmt.Fprint(stderr, deviceUsage())
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, deviceUsage())
		return errors.New("name a device command")
	}
	dc := findDeviceCommand(rest[0])
	if dc == nil {
		fmt.Fprint(stderr, deviceUsage())
		return fmt.Errorf("unknown device command %q", rest[0])
	}
	d := &deviceCmd{home: *home, stdout: stdout, stderr: stderr}
	cfs := flag.NewFlagSet("device "+dc.name, flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	runCmd := dc.setup(d, cfs)
	pos, err := parseInterspersed(cfs, rest[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, dc.usage(cfs))
		return err
	}
	if err != nil {
		fmt.Fprint(stderr, dc.usage(cfs))
		return fmt.Errorf("outpost device %s: %w", dc.name, err)
	}
	if err := d.loadConfig(); err != nil {
		return err
	}
	if !dc.store {
		return runCmd(ctx, nil, pos)
	}
	c, err := d.open(ctx)
	if err != nil {
		return d.signInHint(err)
	}
	defer c.Close()
	return d.signInHint(runCmd(ctx, c, pos))
}

// parseInterspersed parses flags anywhere among the arguments (as in
// "query workorder --top 3") and returns the others in order; "--" ends
// the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// wantArgs checks the count of positional arguments.
func wantArgs(cmd string, args []string, min, max int) error {
	dc := findDeviceCommand(cmd)
	switch {
	case len(args) < min:
		return fmt.Errorf("outpost device %s needs %s (see outpost device %s -h)", cmd, dc.args, cmd)
	case max >= 0 && len(args) > max:
		return fmt.Errorf("outpost device %s: unexpected argument %q (usage: outpost device %s %s)", cmd, args[max], cmd, dc.args)
	}
	return nil
}

// signInHint adds what to do when the server no longer accepts the token.
func (d *deviceCmd) signInHint(err error) error {
	var e *outpost.Error
	if errors.As(err, &e) && e.Code == outpost.CodeUnauthorized {
		return &outpost.Error{Code: e.Code, Target: e.Target,
			Message: e.Message + ": log in again with outpost device login --server " + d.cfg.Server + " --token TOKEN"}
	}
	return err
}

func defaultDeviceHome(getenv func(string) string) string {
	if h := getenv("OUTPOST_DEVICE_HOME"); h != "" {
		return h
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".outpost-device")
	}
	return ".outpost-device"
}

type deviceCmd struct {
	home           string
	cfg            deviceConfig
	stdout, stderr io.Writer
}

func (d *deviceCmd) loadConfig() error {
	b, err := os.ReadFile(filepath.Join(d.home, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read device settings: %w", err)
	}
	return json.Unmarshal(b, &d.cfg)
}

func (d *deviceCmd) saveConfig() error {
	if err := os.MkdirAll(d.home, 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(d.cfg, "", "  ")
	return os.WriteFile(filepath.Join(d.home, "config.json"), b, 0o600)
}

func (d *deviceCmd) open(ctx context.Context) (*client.Client, error) {
	if d.cfg.Server == "" {
		return nil, errors.New("not signed in: run outpost device login --server URL")
	}
	if d.cfg.App == "" {
		return nil, errors.New("no app open: run outpost device open APPID")
	}
	opts := client.Options{Dir: filepath.Join(d.home, "stores"), Server: d.cfg.Server, Token: d.cfg.Token, AppID: d.cfg.App}
	if d.cfg.Token == "" {
		opts.Credentials = d.credentials()
	}
	return client.Open(ctx, opts)
}

func (d *deviceCmd) loginCmd(fs *flag.FlagSet) deviceRun {
	server := fs.String("server", "http://127.0.0.1:8080", "server URL, with http:// or https://")
	token := fs.String("token", "", "a bearer token (for integrations); without it, sign in with a user name and password")
	user := fs.String("user", "", "user name for a password sign-in (asked for when not given)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	sso := fs.Bool("sso", false, "sign in with the server's single sign-on: prints an address to open in a browser on this machine")
	ssoWait := fs.Duration("sso-wait", 5*time.Minute, "how long --sso waits for the browser")
	return func(ctx context.Context, _ *client.Client, args []string) error {
		if err := wantArgs("login", args, 0, 0); err != nil {
			return err
		}
		base, err := client.ServerURL(*server)
		if err != nil {
			return err
		}
		if *sso {
			if *token != "" || *user != "" {
				return errors.New("--sso signs in through the browser: leave out --token and --user")
			}
			return d.ssoLogin(ctx, base, *timeout, *ssoWait)
		}
		if *token == "" {
			return d.passwordLogin(ctx, base, *user, *timeout, stdinReader)
		}
		cctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		who, err := client.WhoAmI(cctx, base, *token, nil)
		if err != nil {
			return err
		}
		d.cfg = deviceConfig{Server: base, Token: *token}
		if err := d.saveConfig(); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Signed in to %s as user %s. Next: outpost device open APPID\n", base, who.UserID)
		return nil
	}
}

func (d *deviceCmd) openCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, _ *client.Client, args []string) error {
		if err := wantArgs("open", args, 1, 1); err != nil {
			return err
		}
		d.cfg.App = args[0]
		c, err := d.open(ctx)
		if err != nil {
			return d.signInHint(err)
		}
		defer c.Close()
		if err := d.saveConfig(); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Opened app %s (device %s, store %s). Next: outpost device sync\n", d.cfg.App, c.DeviceID(), c.Path())
		return nil
	}
}

// plural says "1 change" or "2 changes".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// isTerminal reports whether w is a terminal, where a progress bar may
// redraw itself with carriage returns.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (d *deviceCmd) syncCmd(fs *flag.FlagSet) deviceRun {
	full := fs.Bool("full", false, "compare every table with the server's rows, not only what changed")
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("sync", args, 0, 0); err != nil {
			return err
		}
		bar := &progressWriter{w: d.stdout, tty: isTerminal(d.stdout)}
		res, err := c.Sync(ctx, client.SyncOptions{Full: *full, OnProgress: bar.show})
		bar.finish()
		if err != nil {
			if errors.Is(err, client.ErrUnreachable) {
				if st, _ := c.Status(ctx); st != nil {
					fmt.Fprintf(d.stdout, "Offline: %s for upload (%s).\n", plural(st.PendingUploads, "change waits", "changes wait"), st.State)
				}
				return fmt.Errorf("the server at %s does not answer; the device keeps its changes: sync again when it is reachable", d.cfg.Server)
			}
			return err
		}
		fmt.Fprintf(d.stdout, "Synced: %s uploaded, %d rejected, %s downloaded, %d removed", plural(res.Uploaded, "change", "changes"), res.Rejected,
			plural(res.Upserted, "row", "rows"), res.Removed)
		if res.Files > 0 {
			fmt.Fprintf(d.stdout, ", %s (%.1f MB)", plural(res.Files, "file or image", "files and images"), float64(res.FileBytes)/1e6)
		}
		fmt.Fprintln(d.stdout, ".")
		if res.Rejected > 0 {
			fmt.Fprintln(d.stdout, "Rejected changes were undone on this device; see outpost device errors.")
		}
		return nil
	}
}

// progressWriter shows a sync's progress: a bar redrawn in place on a
// terminal, else one line per table finished (logs get no carriage returns).
type progressWriter struct {
	w     io.Writer
	tty   bool
	drawn bool
	done  int // tables reported (not a terminal)
	files bool
}

func (b *progressWriter) show(p client.Progress) {
	var line string
	switch {
	case p.Phase == "first sync" && p.TotalRows > 0:
		line = progressBar(p)
		if !b.tty {
			if p.TablesDone == b.done {
				return
			}
			b.done = p.TablesDone
		}
	case p.Phase == "files" && p.FilesTotal > 0:
		line = filesBar(p)
		if !b.tty {
			if p.Files != p.FilesTotal || b.files {
				return
			}
			b.files = true
		}
	default:
		return
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r%s", line)
		b.drawn = true
		return
	}
	fmt.Fprintln(b.w, strings.TrimRight(line, " "))
}

func (b *progressWriter) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

func progressBar(p client.Progress) string {
	const width = 30
	frac := float64(p.Rows) / float64(max(p.TotalRows, 1))
	frac = min(frac, 1)
	n := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%%  %d/%d rows  %d/%d tables  %.1f MB  %-20s", strings.Repeat("#", n), strings.Repeat(".", width-n),
		frac*100, p.Rows, p.TotalRows, p.TablesDone, p.Tables, float64(p.Bytes)/1e6, p.Table)
}

func (d *deviceCmd) statusCmd(fs *flag.FlagSet) deviceRun {
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the server's answer (0: do not ask, show what is stored)")
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("status", args, 0, 0); err != nil {
			return err
		}
		var probeErr error
		asked := *timeout > 0
		if asked {
			pctx, cancel := context.WithTimeout(ctx, *timeout)
			probeErr = c.Probe(pctx)
			cancel()
		}
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		w := d.stdout
		fmt.Fprintf(w, "Sync status:      %s\nNetwork:          %s\nStore:            %s (%.1f MB)\nDevice:           %s\n", st.State,
			networkLine(st, asked, probeErr, time.Now()), st.Store, float64(st.StorageBytes)/1e6, st.DeviceID)
		fmt.Fprintf(w, "Ready:            %s\nPending uploads:  %s\nSync errors:      %d active\n", map[bool]string{true: "yes", false: "no: the first sync has not finished"}[st.Ready],
			plural(st.PendingUploads, "change", "changes"), st.ActiveErrors)
		if !st.LastSync.IsZero() {
			fmt.Fprintf(w, "Last sync:        %s\n", st.LastSync.Local().Format("2006-01-02 15:04:05"))
		}
		if st.LastMessage != "" {
			fmt.Fprintf(w, "Last message:     %s\n", st.LastMessage)
		}
		fmt.Fprintf(w, "Files and images: %s\n", filesLine(st))
		for _, warn := range st.Warnings {
			fmt.Fprintf(w, "Warning:          %s\n", warn)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nTABLE\tROWS\tREADY\tINTERVAL\tLAST SYNC\tNEXT SYNC")
		for _, t := range st.Tables {
			last, next := "-", "-"
			if !t.LastSync.IsZero() {
				last, next = clock(t.LastSync), clock(t.NextSync)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d min\t%s\t%s\n", t.Name, t.Rows, map[bool]string{true: "yes", false: "no"}[t.Ready], t.IntervalMinutes, last, next)
		}
		return tw.Flush()
	}
}

// networkLine says what is known of the server now.
func networkLine(st *client.Status, asked bool, probeErr error, now time.Time) string {
	last := "never"
	if !st.LastContact.IsZero() {
		last = ago(now.Sub(st.LastContact))
	}
	switch {
	case asked && st.Online && outpost.ErrorCode(probeErr) == outpost.CodeUnauthorized:
		return "online, but the server no longer accepts this sign-in: log in again"
	case asked && st.Online:
		return "online (the server answered just now)"
	case asked:
		return "offline: the server does not answer (last contact " + last + ")"
	case st.Online:
		return "online at the last contact (" + last + ")"
	}
	return "offline at the last attempt (last contact " + last + ")"
}

// ago says a duration in plain words: "just now", "3 min ago", "2 h ago".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// clock shows a time of today as 15:04:05 and any other day with its date.
func clock(t time.Time) string {
	t = t.Local()
	if y, m, dd := t.Date(); y == time.Now().Year() && m == time.Now().Month() && dd == time.Now().Day() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

func (d *deviceCmd) queryCmd(fs *flag.FlagSet) deviceRun {
	filterText := fs.String("filter", "", "OData $filter, such as \"priority eq 1\"")
	sel := fs.String("select", "", "columns, comma-separated")
	order := fs.String("orderby", "", "a column, and desc to sort descending: quote both, as in --orderby 'name desc'")
	top := fs.Int("top", 20, "rows at most (0: all)")
	return func(ctx context.Context, c *client.Client, args []string) error {
		if len(args) > 1 && *order != "" && strings.EqualFold(args[1], "desc") || len(args) > 1 && strings.EqualFold(args[1], "asc") {
			return fmt.Errorf("outpost device query: unexpected argument %q: quote the column and the direction together, as in --orderby '%s %s'", args[1], *order, args[1])
		}
		if err := wantArgs("query", args, 1, 1); err != nil {
			return err
		}
		q := client.Query{Filter: *filterText, OrderBy: *order, Top: *top}
		if *sel != "" {
			q.Select = strings.Split(*sel, ",")
		}
		rows, err := c.Query(ctx, args[0], q)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(d.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
}

// parseAssignments turns col=value arguments into values ("null" is nil)
// and returns the columns in the order given.
func parseAssignments(args []string) (map[string]any, []string, error) {
	vals := map[string]any{}
	var cols []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("%q is not column=value", a)
		}
		if _, dup := vals[k]; dup {
			return nil, nil, fmt.Errorf("column %q is given twice", k)
		}
		cols = append(cols, k)
		if v == "null" {
			vals[k] = nil
		} else {
			vals[k] = v
		}
	}
	return vals, cols, nil
}

func (d *deviceCmd) createCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("create", args, 2, -1); err != nil {
			return err
		}
		vals, cols, err := parseAssignments(args[1:])
		if err != nil {
			return err
		}
		id, err := c.Create(ctx, args[0], vals)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Created %s %s with %s; queued for upload.\n", args[0], id, strings.Join(cols, ", "))
		return nil
	}
}

func (d *deviceCmd) updateCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("update", args, 3, -1); err != nil {
			return err
		}
		vals, cols, err := parseAssignments(args[2:])
		if err != nil {
			return err
		}
		if err := c.Update(ctx, args[0], args[1], vals); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Updated %s %s: %s queued for upload.\n", args[0], args[1], strings.Join(cols, ", "))
		return nil
	}
}

func (d *deviceCmd) deleteCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("delete", args, 2, 2); err != nil {
			return err
		}
		if err := c.Delete(ctx, args[0], args[1]); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Deleted %s %s; queued for upload.\n", args[0], args[1])
		return nil
	}
}

func (d *deviceCmd) putFileCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("put-file", args, 4, 4); err != nil {
			return err
		}
		return d.putFile(ctx, c, args)
	}
}

func (d *deviceCmd) getFileCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("get-file", args, 4, 4); err != nil {
			return err
		}
		return d.getFile(ctx, c, args)
	}
}

func (d *deviceCmd) errorsCmd(fs *flag.FlagSet) deviceRun {
	all := fs.Bool("all", false, "every user's sync errors (administrators only)")
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs("errors", args, 0, 0); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(d.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tTYPE\tTABLE\tROW\tTIME\tMESSAGE")
		list, err := c.ServerErrors(ctx, *all)
		if err == nil {
			for _, e := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, errorState(e.State == 1), errorType(int(e.Type)), e.Table, e.RegardingID, e.Time, e.Message)
			}
			return tw.Flush()
		}
		if *all && outpost.ErrorCode(err) == outpost.CodeForbidden {
			return fmt.Errorf("only administrators may list every user's sync errors (--all): %w", err)
		}
		if !errors.Is(err, client.ErrUnreachable) {
			return err
		}
		if *all {
			return fmt.Errorf("every user's sync errors (--all) are on the server, which does not answer: %w", err)
		}
		local, lerr := c.LocalErrors(ctx)
		if lerr != nil {
			return lerr
		}
		fmt.Fprintln(d.stdout, "Offline: the sync errors this device knows of.")
		sort.Slice(local, func(i, j int) bool { return local[i].Seq > local[j].Seq })
		for _, e := range local {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.SyncErrorID, errorState(e.Resolved), errorType(e.Type), e.Table, e.ID, e.Time, e.Message)
		}
		return tw.Flush()
	}
}

func errorState(resolved bool) string {
	if resolved {
		return "Resolved"
	}
	return "Active"
}

func errorType(t int) string {
	return map[int]string{0: "Conflict", 1: "Record not found", 2: "Record already exists", 3: "Others"}[t]
}

func (d *deviceCmd) retryCmd(fs *flag.FlagSet) deviceRun {
	return d.onSyncError("retry", func(ctx context.Context, c *client.Client, id string) error {
		_, err := c.RetryError(ctx, id)
		return err
	}, "Sync error %s: the change was applied again and the error resolved. Next: outpost device sync\n")
}

func (d *deviceCmd) discardCmd(fs *flag.FlagSet) deviceRun {
	return d.onSyncError("discard", func(ctx context.Context, c *client.Client, id string) error {
		_, err := c.DiscardError(ctx, id)
		return err
	}, "Sync error %s discarded: its change is not applied.\n")
}

// onSyncError runs command cmd, which resolves the one sync error its
// argument names with resolve, and says so with done (the error's id in
// it).
func (d *deviceCmd) onSyncError(cmd string, resolve func(ctx context.Context, c *client.Client, id string) error, done string) deviceRun {
	return func(ctx context.Context, c *client.Client, args []string) error {
		if err := wantArgs(cmd, args, 1, 1); err != nil {
			return err
		}
		if err := resolve(ctx, c, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, done, args[0])
		return nil
	}
}

func (d *deviceCmd) helpCmd(fs *flag.FlagSet) deviceRun {
	return func(ctx context.Context, _ *client.Client, args []string) error {
		if err := wantArgs("help", args, 0, 1); err != nil {
			return err
		}
		if len(args) == 0 {
			fmt.Fprint(d.stdout, deviceUsage())
			return nil
		}
		dc := findDeviceCommand(args[0])
		if dc == nil {
			return fmt.Errorf("unknown device command %q: outpost device help lists them", args[0])
		}
		cfs := flag.NewFlagSet("device "+dc.name, flag.ContinueOnError)
		dc.setup(d, cfs)
		fmt.Fprint(d.stdout, dc.usage(cfs))
		return nil
	}
}
