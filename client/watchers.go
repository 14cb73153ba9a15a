package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// watcherSet holds the channels that Watch handed out.
type watcherSet struct {
	mu   sync.Mutex
	list map[chan struct{}]struct{}
}

// Watch returns a channel that receives a value whenever the device's
// status may have changed: a sync began, made progress or ended, a local
// change was queued, or the link to the server came up. Several changes
// may arrive as one value. stop releases the channel.
func (c *Client) Watch() (ch <-chan struct{}, stop func()) {
	w := make(chan struct{}, 1)
	c.watchers.mu.Lock()
	if c.watchers.list == nil {
		c.watchers.list = map[chan struct{}]struct{}{}
	}
	c.watchers.list[w] = struct{}{}
	c.watchers.mu.Unlock()
	return w, func() {
		c.watchers.mu.Lock()
		delete(c.watchers.list, w)
		c.watchers.mu.Unlock()
	}
}

// notify tells every watcher that the status may have changed; it never
// blocks.
func (c *Client) notify() {
	c.watchers.mu.Lock()
	defer c.watchers.mu.Unlock()
	for w := range c.watchers.list {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Def returns the device's definition of table: its columns and types as
// the server's download plan gives them.
func (c *Client) Def(table string) (wire.Table, error) {
	lt, err := c.table(table)
	if err != nil {
		return wire.Table{}, err
	}
	return lt.def, nil
}

// PendingChange is one change in the upload queue.
type PendingChange struct {
	Seq     int64
	Table   string
	ID      string
	Op      string
	Columns map[string]any
	Time    string
}

// PendingChanges returns the upload queue in the order it uploads (at most
// limit changes; 0 means all). It works offline.
func (c *Client) PendingChanges(ctx context.Context, limit int) ([]PendingChange, error) {
	q := `SELECT seq, tablename, rowid, op, data, createdon FROM outpost_queue ORDER BY seq`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read upload queue: %w", err)
	}
	defer rows.Close()
	out := []PendingChange{}
	for rows.Next() {
		var p PendingChange
		var data string
		if err := rows.Scan(&p.Seq, &p.Table, &p.ID, &p.Op, &data, &p.Time); err != nil {
			return nil, err
		}
		if data != "" && data != "null" {
			if err := json.Unmarshal([]byte(data), &p.Columns); err != nil {
				return nil, fmt.Errorf("read upload queue: change %d: %w", p.Seq, err)
			}
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Count returns how many local rows of table match the $filter text (all
// rows when it is empty). Like Query it fails until the first sync
// finished.
func (c *Client) Count(ctx context.Context, table, filterText string) (int64, error) {
	return c.CountSearch(ctx, table, filterText, Search{})
}

// CountSearch returns how many local rows of table match the filter and
// the search.
func (c *Client) CountSearch(ctx context.Context, table, filterText string, s Search) (int64, error) {
	return c.CountSearchUpTo(ctx, table, filterText, s, 0)
}

// CountSearchUpTo counts like CountSearch but stops after limit+1 rows
// when limit is positive, so that a search matching many rows costs no
// more than reading limit of them: an answer above limit means "more
// than limit".
func (c *Client) CountSearchUpTo(ctx context.Context, table, filterText string, s Search, limit int64) (int64, error) {
	lt, err := c.readable(ctx, table)
	if err != nil {
		return 0, err
	}
	b := sqlgen.NewBuilder(sqlgen.SQLite)
	if limit <= 0 {
		b.SQL("SELECT count(*) FROM ").Ident(lt.def.Name).SQL(" AS t0")
		if err := c.whereSearch(ctx, b, lt, filterText, s, false); err != nil {
			return 0, err
		}
	} else {
		// The index's matches drive the rows read (rather than a list of
		// them all built first), so the count stops after limit+1.
		match := ""
		if s.Text != "" {
			if match, err = c.searchMatch(ctx, lt, s); err != nil {
				return 0, err
			}
		}
		b.SQL("SELECT count(*) FROM (SELECT 1 FROM ")
		if match != "" {
			b.Ident(searchIndexName(lt.def.Name)).SQL(" AS s0 CROSS JOIN ").Ident(lt.def.Name).SQL(" AS t0 ON t0.rowid = s0.rowid")
		} else {
			b.Ident(lt.def.Name).SQL(" AS t0")
		}
		if err := c.whereSearch(ctx, b, lt, filterText, s, match != ""); err != nil {
			return 0, err
		}
		b.SQL(" LIMIT ").Arg(limit + 1).SQL(")")
	}
	query, args := b.Build()
	var n int64
	if err := c.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// Has reports whether table is in the store's download plan.
func (c *Client) Has(table string) bool {
	_, err := c.table(table)
	return err == nil
}
