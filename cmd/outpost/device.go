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

	"github.com/outposthq/outpost/client"
)

const deviceUsage = `Usage: outpost device [--home DIR] COMMAND [flags]

Commands:
  login --server URL [--user NAME]     sign in with a user name and password (asked for)
  login --server URL --token TOKEN     or remember an integration token
  open APPID                           open an offline app (the first open needs the server)
  sync [--full]                        upload queued changes, then download (progress on first sync)
  status                               Connection.Sync state, tables, queue, storage, errors
  query TABLE [--filter ODATA] [--select a,b] [--orderby COL [desc]] [--top N]
  create TABLE col=value ...           create a row offline (queued for upload)
  update TABLE ID col=value ...        change columns offline (queued)
  delete TABLE ID                      delete a row offline (queued)
  put-file TABLE ID COLUMN PATH        set a file or image column offline (queued)
  get-file TABLE ID COLUMN PATH        write the device's copy of a file or image (PATH - for stdout)
  errors [--all]                       sync errors (the server's when reachable, else the device's)
  retry ID | discard ID                re-apply or resolve a sync error
`

// deviceConfig is what login and open remember in the device home.
type deviceConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	App    string `json:"app"`
}

func runDevice(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, deviceUsage) }
	home := fs.String("home", defaultDeviceHome(getenv), "device directory: stores and settings ($OUTPOST_DEVICE_HOME)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, deviceUsage)
		return errors.New("name a device command")
	}
	d := &deviceCmd{home: *home, stdout: stdout, stderr: stderr}
	if err := d.loadConfig(); err != nil {
		return err
	}
	cmd, cargs := rest[0], rest[1:]
	switch cmd {
	case "login":
		return d.login(cargs)
	case "open":
		if len(cargs) != 1 {
			return errors.New("usage: outpost device open APPID")
		}
		d.cfg.App = cargs[0]
		c, err := d.open(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := d.saveConfig(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Opened app %s (device %s, store %s). Run \"outpost device sync\".\n", d.cfg.App, c.DeviceID(), c.Path())
		return nil
	}
	c, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	switch cmd {
	case "sync":
		return d.sync(ctx, c, cargs)
	case "status":
		return d.status(ctx, c)
	case "query":
		return d.query(ctx, c, cargs)
	case "create", "update", "delete":
		return d.write(ctx, c, cmd, cargs)
	case "errors":
		return d.errors(ctx, c, cargs)
	case "put-file":
		return d.putFile(ctx, c, cargs)
	case "get-file":
		return d.getFile(ctx, c, cargs)
	case "retry", "discard":
		if len(cargs) != 1 {
			return fmt.Errorf("usage: outpost device %s SYNCERRORID", cmd)
		}
		return d.resolve(ctx, c, cmd, cargs[0])
	}
	fmt.Fprint(stderr, deviceUsage)
	return fmt.Errorf("unknown device command %q", cmd)
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

func (d *deviceCmd) login(args []string) error {
	fs := flag.NewFlagSet("device login", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "server URL")
	token := fs.String("token", "", "a bearer token (for integrations); without it, sign in with a user name and password")
	user := fs.String("user", "", "user name (asked for when not given)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return d.passwordLogin(strings.TrimRight(*server, "/"), *user, stdinReader)
	}
	d.cfg = deviceConfig{Server: strings.TrimRight(*server, "/"), Token: *token}
	if err := d.saveConfig(); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Signed in to %s. Next: outpost device open APPID\n", d.cfg.Server)
	return nil
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

func (d *deviceCmd) sync(ctx context.Context, c *client.Client, args []string) error {
	fs := flag.NewFlagSet("device sync", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	full := fs.Bool("full", false, "full delta sync: re-check every row by checksums")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bar := false
	res, err := c.Sync(ctx, client.SyncOptions{Full: *full, OnProgress: func(p client.Progress) {
		if p.Phase == "first sync" && p.TotalRows > 0 {
			bar = true
			fmt.Fprintf(d.stdout, "\r%s", progressBar(p))
		}
		if p.Phase == "files" && p.FilesTotal > 0 {
			bar = true
			fmt.Fprintf(d.stdout, "\r%s", filesBar(p))
		}
	}})
	if bar {
		fmt.Fprintln(d.stdout)
	}
	if err != nil {
		if errors.Is(err, client.ErrUnreachable) {
			st, _ := c.Status(ctx)
			if st != nil {
				fmt.Fprintf(d.stdout, "Offline: %d changes wait for upload (%s).\n", st.PendingUploads, st.State)
			}
		}
		return err
	}
	fmt.Fprintf(d.stdout, "Synced: %d changes uploaded, %d rejected, %d rows downloaded, %d removed", res.Uploaded, res.Rejected, res.Upserted, res.Removed)
	if res.Files > 0 {
		fmt.Fprintf(d.stdout, ", %d files and images (%.1f MB)", res.Files, float64(res.FileBytes)/1e6)
	}
	if len(res.Reconciled) > 0 {
		fmt.Fprintf(d.stdout, ", checked by checksums: %s", strings.Join(res.Reconciled, "; "))
	}
	fmt.Fprintln(d.stdout, ".")
	if res.Rejected > 0 {
		fmt.Fprintln(d.stdout, "Rejected changes were reverted; see outpost device errors.")
	}
	return nil
}

func progressBar(p client.Progress) string {
	const width = 30
	frac := float64(p.Rows) / float64(max(p.TotalRows, 1))
	frac = min(frac, 1)
	n := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%%  %d/%d rows  %d/%d tables  %.1f MB  %-20s", strings.Repeat("#", n), strings.Repeat(".", width-n),
		frac*100, p.Rows, p.TotalRows, p.TablesDone, p.Tables, float64(p.Bytes)/1e6, p.Table)
}

func (d *deviceCmd) status(ctx context.Context, c *client.Client) error {
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	w := d.stdout
	network := "offline (or not contacted yet)"
	if st.Online {
		network = "online"
	}
	fmt.Fprintf(w, "Sync status:      %s\nNetwork:          %s\nStore:            %s (%.1f MB)\nDevice:           %s\n", st.State, network, st.Store, float64(st.StorageBytes)/1e6, st.DeviceID)
	fmt.Fprintf(w, "Ready:            %v\nPending uploads:  %d changes\nSync errors:      %d active\n", st.Ready, st.PendingUploads, st.ActiveErrors)
	if !st.LastSync.IsZero() {
		fmt.Fprintf(w, "Last sync:        %s\n", st.LastSync.Format("2006-01-02 15:04:05"))
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
		fmt.Fprintf(tw, "%s\t%d\t%v\t%d min\t%s\t%s\n", t.Name, t.Rows, t.Ready, t.IntervalMinutes, last, next)
	}
	return tw.Flush()
}

// clock shows a time of today as 15:04:05 and any other day with its date.
func clock(t time.Time) string {
	t = t.Local()
	if y, m, dd := t.Date(); y == time.Now().Year() && m == time.Now().Month() && dd == time.Now().Day() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

func (d *deviceCmd) query(ctx context.Context, c *client.Client, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: outpost device query TABLE [--filter ODATA] [--select a,b] [--orderby COL] [--top N]")
	}
	table := args[0]
	fs := flag.NewFlagSet("device query", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	filterText := fs.String("filter", "", "OData $filter")
	sel := fs.String("select", "", "columns, comma-separated")
	order := fs.String("orderby", "", "column [desc]")
	top := fs.Int("top", 20, "rows at most (0: all)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	q := client.Query{Filter: *filterText, OrderBy: *order, Top: *top}
	if *sel != "" {
		q.Select = strings.Split(*sel, ",")
	}
	rows, err := c.Query(ctx, table, q)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(d.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// parseAssignments turns col=value arguments into values; "null" is nil.
func parseAssignments(args []string) (map[string]any, error) {
	vals := map[string]any{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not column=value", a)
		}
		if v == "null" {
			vals[k] = nil
		} else {
			vals[k] = v
		}
	}
	return vals, nil
}

func (d *deviceCmd) write(ctx context.Context, c *client.Client, cmd string, args []string) error {
	switch {
	case cmd == "create" && len(args) >= 1:
		vals, err := parseAssignments(args[1:])
		if err != nil {
			return err
		}
		id, err := c.Create(ctx, args[0], vals)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Created %s %s (queued for upload)\n", args[0], id)
	case cmd == "update" && len(args) >= 2:
		vals, err := parseAssignments(args[2:])
		if err != nil {
			return err
		}
		if err := c.Update(ctx, args[0], args[1], vals); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Updated %s %s (queued for upload)\n", args[0], args[1])
	case cmd == "delete" && len(args) == 2:
		if err := c.Delete(ctx, args[0], args[1]); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Deleted %s %s (queued for upload)\n", args[0], args[1])
	default:
		return fmt.Errorf("usage: outpost device %s TABLE %s", cmd, map[string]string{"create": "col=value ...", "update": "ID col=value ...", "delete": "ID"}[cmd])
	}
	return nil
}

func (d *deviceCmd) errors(ctx context.Context, c *client.Client, args []string) error {
	fs := flag.NewFlagSet("device errors", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	all := fs.Bool("all", false, "every user's sync errors (administrators)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(d.stdout, 2, 4, 2, ' ', 0)
	list, err := c.ServerErrors(ctx, *all)
	if err == nil {
		fmt.Fprintln(tw, "ID\tSTATE\tTYPE\tTABLE\tROW\tTIME\tMESSAGE")
		for _, e := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, map[int64]string{0: "Active", 1: "Resolved"}[e.State], errorType(int(e.Type)), e.Table, e.RegardingID, e.Time, e.Message)
		}
		return tw.Flush()
	}
	if !errors.Is(err, client.ErrUnreachable) {
		return err
	}
	local, lerr := c.LocalErrors(ctx)
	if lerr != nil {
		return lerr
	}
	fmt.Fprintln(d.stdout, "Offline: the sync errors this device knows of.")
	fmt.Fprintln(tw, "ID\tRESOLVED\tTYPE\tTABLE\tROW\tACTION\tMESSAGE")
	sort.Slice(local, func(i, j int) bool { return local[i].Seq > local[j].Seq })
	for _, e := range local {
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\t%s\n", e.SyncErrorID, e.Resolved, errorType(e.Type), e.Table, e.ID, e.Op, e.Message)
	}
	return tw.Flush()
}

func errorType(t int) string {
	return map[int]string{0: "Conflict", 1: "Record not found", 2: "Record already exists", 3: "Others"}[t]
}

func (d *deviceCmd) resolve(ctx context.Context, c *client.Client, cmd, id string) error {
	var err error
	if cmd == "retry" {
		_, err = c.RetryError(ctx, id)
	} else {
		_, err = c.DiscardError(ctx, id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Sync error %s %s. Run outpost device sync to download the result.\n", id, map[string]string{"retry": "retried and resolved", "discard": "discarded"}[cmd])
	return nil
}
