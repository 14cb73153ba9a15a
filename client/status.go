package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/outposthq/outpost/sqlgen"
)

// SyncState is the one Connection.Sync value of the device.
type SyncState string

// The nine Connection.Sync states.
const (
	Connected                 SyncState = "Connected"
	ConnectedWithWarning      SyncState = "ConnectedWithWarning"
	ConnectedPendingUpsync    SyncState = "ConnectedPendingUpsync"
	ConnectedError            SyncState = "ConnectedError"
	ConnectedRefresh          SyncState = "ConnectedRefresh"
	NotConnected              SyncState = "NotConnected"
	NotConnectedWithWarning   SyncState = "NotConnectedWithWarning"
	NotConnectedPendingUpsync SyncState = "NotConnectedPendingUpsync"
	NotConnectedSyncError     SyncState = "NotConnectedSyncError"
)

// Conditions are what decides a device's Connection.Sync state.
type Conditions struct {
	// Online: the server answered the last request.
	Online bool
	// Refreshing: a sync is downloading (or the first sync is unfinished).
	Refreshing bool
	// Failed: the last sync attempt failed for a reason other than the
	// network (the server refused it, the row cap, a local fault).
	Failed bool
	// Pending: the upload queue holds changes.
	Pending bool
	// Warning: unresolved Sync Errors, or the store is past a guardrail.
	Warning bool
}

// StateOf computes the Connection.Sync state. Precedence, highest first:
// refresh in progress > error > pending upload > warning > plain. Offline
// there is no refresh; an error offline is NotConnectedSyncError.
func StateOf(c Conditions) SyncState {
	if c.Online {
		switch {
		case c.Refreshing:
			return ConnectedRefresh
		case c.Failed:
			return ConnectedError
		case c.Pending:
			return ConnectedPendingUpsync
		case c.Warning:
			return ConnectedWithWarning
		}
		return Connected
	}
	switch {
	case c.Failed:
		return NotConnectedSyncError
	case c.Pending:
		return NotConnectedPendingUpsync
	case c.Warning:
		return NotConnectedWithWarning
	}
	return NotConnected
}

// runState is what the device knows about its last sync attempts.
type runState struct {
	online   bool
	syncing  bool
	lastErr  error
	lastMsg  string
	lastSync time.Time
	// lastContact is when the server last answered (a sync, a probe, the
	// change-hint stream, the first open).
	lastContact time.Time
	progress    Progress
}

// contact records an answer from the server, or its absence; c.mu is held.
func (c *Client) contact(ok bool) {
	c.state.online = ok
	if ok {
		c.state.lastContact = c.now()
	}
}

// Probe asks the server whether it answers, within ctx (give it a short
// deadline), and records the outcome, so that Status tells what is known
// now rather than at the last sync. It returns ErrUnreachable when the
// server does not answer, or the server's refusal (a token no longer valid,
// for one): an answer all the same, so the device counts as online.
func (c *Client) Probe(ctx context.Context) error {
	var who map[string]any
	err := c.r.call(ctx, http.MethodGet, "/api/whoami", nil, &who)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer from %s in time: %w", c.opts.Server, ErrUnreachable)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.saveState()
	c.contact(!errors.Is(err, ErrUnreachable))
	return err
}

func (c *Client) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.syncing = true
	c.state.progress = Progress{}
	c.notify()
}

func (c *Client) setProgress(p Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.progress = p
	c.notify()
}

func (c *Client) end(res *SyncResult, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.notify()
	defer c.saveState()
	s := &c.state
	s.syncing = false
	switch {
	case err == nil:
		c.contact(true)
		s.lastErr, s.lastSync = nil, c.now()
		s.lastMsg = fmt.Sprintf("synced: %s uploaded, %d rejected, %s downloaded, %d removed", count(res.Uploaded, "change", "changes"), res.Rejected,
			count(res.Upserted, "row", "rows"), res.Removed)
	case errors.Is(err, ErrUnreachable):
		c.contact(false)
		s.lastMsg = "offline: " + err.Error()
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		s.lastMsg = "sync interrupted; it resumes where it stopped"
	default:
		c.contact(true)
		s.lastErr = err
		s.lastMsg = "sync failed: " + err.Error()
		c.r.failures.Add(1) // reported with the next request
	}
}

// timeApply adds the time since start to the apply time reported to the
// server with the next request (wire.ClientReportHeader).
func (c *Client) timeApply(start time.Time) { c.r.applyNs.Add(int64(time.Since(start))) }

// Guardrails of contract §2 that raise a warning.
const warnRows = 200_000

// TableStatus is one table on the status page.
type TableStatus struct {
	Name            string
	Rows            int64
	Ready           bool
	IntervalMinutes int
	LastSync        time.Time
	NextSync        time.Time
}

// Status is the device status page.
type Status struct {
	State          SyncState
	Online         bool
	Syncing        bool
	Ready          bool
	PendingUploads int // individual queued changes, not rows
	ActiveErrors   int
	StorageBytes   int64
	LastSync       time.Time
	LastContact    time.Time // the server's last answer; zero if never
	LastMessage    string
	LastError      string
	Progress       Progress
	Files          FileStatus
	Warnings       []string
	Tables         []TableStatus
	DeviceID       string
	Store          string
	// AccessLost says why the user may no longer use the app offline
	// (ErrAccessLost), empty while they may.
	AccessLost string
}

// Status returns the device status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	c.mu.Lock()
	rs := c.state
	tables := c.tables
	c.mu.Unlock()
	st := &Status{Online: rs.online, Syncing: rs.syncing, LastSync: rs.lastSync, LastContact: rs.lastContact, LastMessage: rs.lastMsg, Progress: rs.progress, DeviceID: c.DeviceID(), Store: c.path}
	if rs.lastErr != nil {
		st.LastError = rs.lastErr.Error()
	}
	ready, err := getMeta(ctx, c.db, "ready")
	if err != nil {
		return nil, err
	}
	st.Ready = ready == "1"
	if st.AccessLost, err = getMeta(ctx, c.db, "accesslost"); err != nil {
		return nil, err
	}
	if st.AccessLost != "" {
		st.Warnings = append(st.Warnings, "this app is no longer available to you offline: "+st.AccessLost)
	}
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM outpost_queue`).Scan(&st.PendingUploads); err != nil {
		return nil, err
	}
	if st.Files, err = c.fileStatus(ctx); err != nil {
		return nil, err
	}
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM outpost_error WHERE resolved = 0`).Scan(&st.ActiveErrors); err != nil {
		return nil, err
	}
	states, err := c.tableStates(ctx)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, s := range states {
		lt := tables[s.name]
		ts := TableStatus{Name: s.name, Ready: s.done, IntervalMinutes: interval(lt)}
		if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM `+sqlgen.SQLite.Quote(s.name)).Scan(&ts.Rows); err != nil {
			return nil, err
		}
		var last string
		_ = c.db.QueryRowContext(ctx, `SELECT lastsync FROM outpost_table WHERE name = ?`, s.name).Scan(&last)
		if tm, err := time.Parse(sqlgen.TimeFormat, last); err == nil {
			ts.LastSync = tm
			ts.NextSync = tm.Add(time.Duration(ts.IntervalMinutes) * time.Minute)
		}
		total += ts.Rows
		st.Tables = append(st.Tables, ts)
	}
	sort.Slice(st.Tables, func(i, j int) bool { return st.Tables[i].Name < st.Tables[j].Name })
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(c.path + suffix); err == nil {
			st.StorageBytes += fi.Size()
		}
	}
	if total > warnRows {
		st.Warnings = append(st.Warnings, fmt.Sprintf("the store holds %d rows, more than the recommended %d", total, warnRows))
	}
	if st.ActiveErrors > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf("%d changes were rejected by the server: see the sync errors", st.ActiveErrors))
	}
	st.State = StateOf(Conditions{Online: rs.online, Refreshing: rs.syncing || (!st.Ready && rs.online), Failed: rs.lastErr != nil,
		Pending: st.PendingUploads > 0, Warning: len(st.Warnings) > 0})
	return st, nil
}

// interval returns a table's sync interval in minutes (default 10).
func interval(lt *localTable) int {
	if lt == nil || lt.def.IntervalMinutes <= 0 {
		return 10
	}
	return lt.def.IntervalMinutes
}

func sortStrings(s []string) { sort.Strings(s) }

// saveState keeps the outcome of the last sync in the store, so that a
// status read by another process (the CLI) shows it; c.mu is held.
func (c *Client) saveState() {
	s := c.state
	lastErr := ""
	if s.lastErr != nil {
		lastErr = s.lastErr.Error()
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(sqlgen.TimeFormat)
	}
	ctx := context.Background()
	for k, v := range map[string]string{"state.online": fmt.Sprint(s.online), "state.lasterr": lastErr, "state.lastmsg": s.lastMsg,
		"state.lastsync": stamp(s.lastSync), "state.lastcontact": stamp(s.lastContact)} {
		if err := setMeta(ctx, c.db, k, v); err != nil {
			c.logger.Warn("save sync state", "err", err)
			return
		}
	}
}

// loadState restores what saveState kept.
func (c *Client) loadState(ctx context.Context) error {
	vals := map[string]string{}
	for _, k := range []string{"state.online", "state.lasterr", "state.lastmsg", "state.lastsync", "state.lastcontact"} {
		v, err := getMeta(ctx, c.db, k)
		if err != nil {
			return err
		}
		vals[k] = v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.online = vals["state.online"] == "true"
	c.state.lastMsg = vals["state.lastmsg"]
	if vals["state.lasterr"] != "" {
		c.state.lastErr = errors.New(vals["state.lasterr"])
	}
	if tm, err := time.Parse(sqlgen.TimeFormat, vals["state.lastsync"]); err == nil {
		c.state.lastSync = tm
	}
	if tm, err := time.Parse(sqlgen.TimeFormat, vals["state.lastcontact"]); err == nil {
		c.state.lastContact = tm
	}
	return nil
}

// count says "1 change" or "2 changes".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
