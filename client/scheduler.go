package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// RunOptions tunes Run. The zero value syncs on intervals and hints.
type RunOptions struct {
	// ManualOnly syncs only on SyncNow (the user's "manual only" setting).
	ManualOnly bool
	// RetryAfter is the wait after a failed sync; default 30 s.
	RetryAfter time.Duration
	// OnSync is called after every sync the scheduler runs.
	OnSync func(*SyncResult, error)
}

// SyncNow asks a running scheduler to sync at once (local changes do the
// same, so they are pushed promptly when online).
func (c *Client) SyncNow() { c.wake() }

// Run is the scheduler: it syncs each table on its own interval, at once
// on SyncNow or a local change, and when the server hints that data
// changed (server-sent events), until ctx ends.
func (c *Client) Run(ctx context.Context, opts RunOptions) error {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 30 * time.Second
	}
	hints := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.watch(ctx, hints)
	}()
	defer func() { <-done }()
	var retryAt time.Time
	for {
		// A sync cut by the end of ctx leaves its tables due: without this
		// check the loop would start them again at once, for ever.
		if ctx.Err() != nil {
			return nil
		}
		due, wait := c.due()
		if !retryAt.IsZero() {
			wait = max(0, time.Until(retryAt))
			due = nil
		}
		if opts.ManualOnly {
			due, wait = nil, time.Hour
		}
		if len(due) > 0 {
			retryAt = c.runSync(ctx, SyncOptions{Tables: due}, opts)
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
			if !retryAt.IsZero() {
				retryAt = c.runSync(ctx, SyncOptions{}, opts)
			}
		case <-c.kick:
			timer.Stop()
			retryAt = c.runSync(ctx, SyncOptions{}, opts)
		case <-hints:
			timer.Stop()
			if !opts.ManualOnly {
				retryAt = c.runSync(ctx, SyncOptions{}, opts)
			}
		}
	}
}

func (c *Client) runSync(ctx context.Context, so SyncOptions, opts RunOptions) (retryAt time.Time) {
	res, err := c.Sync(ctx, so)
	if opts.OnSync != nil && ctx.Err() == nil {
		opts.OnSync(res, err)
	}
	if err != nil && ctx.Err() == nil {
		c.logger.WarnContext(ctx, "sync failed", "err", err)
		return time.Now().Add(opts.RetryAfter)
	}
	return time.Time{}
}

// due returns the tables whose interval has passed and the wait until the
// next one is due.
func (c *Client) due() ([]string, time.Duration) {
	ctx := context.Background()
	rows, err := c.db.QueryContext(ctx, `SELECT name, lastsync, done FROM outpost_table`)
	if err != nil {
		return nil, time.Minute
	}
	defer rows.Close()
	now := c.now()
	wait := time.Hour
	var due []string
	for rows.Next() {
		var name, last string
		var done bool
		if rows.Scan(&name, &last, &done) != nil {
			continue
		}
		lt, _ := c.table(name)
		tm, perr := time.Parse(sqlgen.TimeFormat, last)
		next := tm.Add(time.Duration(interval(lt)) * time.Minute)
		if !done || perr != nil || !next.After(now) {
			due = append(due, name)
			continue
		}
		wait = min(wait, next.Sub(now))
	}
	return due, wait
}

// watch listens to the server's change hints and reconnects with backoff.
func (c *Client) watch(ctx context.Context, hints chan<- struct{}) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := c.listen(ctx, hints)
		c.mu.Lock()
		c.hintsOK = false
		c.mu.Unlock()
		c.notify()
		if ctx.Err() != nil {
			return
		}
		if accessLost(err) {
			c.logger.InfoContext(ctx, "change hints closed: the app's access was lost", "err", err)
			_ = c.loseAccess(ctx, err)
			return
		}
		c.logger.DebugContext(ctx, "change hints disconnected", "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, time.Minute)
	}
}

func (c *Client) listen(ctx context.Context, hints chan<- struct{}) error {
	resp, err := c.r.do(ctx, http.MethodGet, wire.Prefix+"/events?deviceId="+url.QueryEscape(c.DeviceID()), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.mu.Lock()
	c.hintsOK = true
	c.contact(true)
	c.mu.Unlock()
	c.notify()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "closed":
			var eb struct {
				Error struct{ Code, Message, Target string } `json:"error"`
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &eb) == nil && eb.Error.Code != "" {
				return &outpost.Error{Code: outpost.Code(eb.Error.Code), Message: eb.Error.Message, Target: eb.Error.Target}
			}
			return errors.New("change hints closed by the server")
		case strings.HasPrefix(line, "data: ") && event == "change":
			var h wire.Hint
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &h) == nil && c.relevant(h.Tables) {
				select {
				case hints <- struct{}{}:
				default:
				}
			}
		case line == "":
			event = ""
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("change hints ended")
}

// relevant reports whether a hint may concern the store: any table of the
// plan, or one the plan's filters may depend on (anything else but the
// store's own bookkeeping is cheap to check with a delta).
func (c *Client) relevant(tables []string) bool { return len(tables) > 0 }

// HintsConnected reports whether the change-hint stream is connected.
func (c *Client) HintsConnected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hintsOK
}
