package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/outposthq/outpost/store"
)

// notifyChannel is the PostgreSQL channel servers announce commits on.
const notifyChannel = "outpost_commits"

// commitNotice is one commit as announced to the other servers.
type commitNotice struct {
	Origin   string   `json:"o"`
	Tables   []string `json:"t,omitempty"`
	Metadata bool     `json:"m,omitempty"`
}

// publish announces a commit in tx; PostgreSQL delivers it when tx commits
// (at once when tx is the pool).
func (p *Platform) publish(ctx context.Context, tx store.Querier, tables []string, metadata bool) error {
	sorted := append([]string(nil), tables...)
	sort.Strings(sorted)
	payload, err := json.Marshal(commitNotice{Origin: p.origin, Tables: sorted, Metadata: metadata})
	if err != nil {
		return fmt.Errorf("encode commit notice: %w", err)
	}
	if len(payload) > 7000 { // NOTIFY payloads are limited to 8000 bytes
		payload, _ = json.Marshal(commitNotice{Origin: p.origin, Tables: []string{"*"}, Metadata: metadata})
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, string(payload)); err != nil {
		return fmt.Errorf("announce commit: %w", err)
	}
	return nil
}

// announcer coalesces the commit notices of data-only commits, sent after
// they commit and apart from them: at most one NOTIFY every
// announceInterval, carrying every table touched since the last one. A
// NOTIFY inside a write transaction takes PostgreSQL's global notification
// lock at commit, which would queue every writer behind the others'
// commits; data notices are only hints (other servers' readers check
// versions in the database, never a notice), so they need not be part of
// the transaction, nor delay the request that committed. Metadata,
// security and credential changes are still announced inside their
// transaction.
type announcer struct {
	mu      sync.Mutex
	pending map[string]bool
	sending bool
}

// announceInterval is the least time between two data notices. Sent as
// soon as one was due, one per commit or two, they cost each write a
// statement of its own and woke every listening server for it: at 16
// clients writing single rows, 34,847 notices for 71,145 writes.
const announceInterval = 20 * time.Millisecond

// announce tells the other servers, soon, that tables changed in a
// committed transaction; it never waits for the database. The first notice
// after a quiet spell goes at once; what commits meanwhile goes together in
// the next, announceInterval later.
func (p *Platform) announce(ctx context.Context, tables []string) {
	a := &p.announcer
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[string]bool{}
	}
	for _, t := range tables {
		a.pending[t] = true
	}
	if a.sending {
		return
	}
	a.sending = true
	go p.sendAnnouncements(context.WithoutCancel(ctx))
}

// sendAnnouncements sends the pending notices, one every announceInterval,
// until none is pending.
func (p *Platform) sendAnnouncements(ctx context.Context) {
	a := &p.announcer
	a.mu.Lock()
	for len(a.pending) > 0 {
		batch := make([]string, 0, len(a.pending))
		for t := range a.pending {
			batch = append(batch, t)
		}
		clear(a.pending)
		a.mu.Unlock()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := p.publish(sctx, p.db.Write, batch, false); err != nil {
			p.logger.Warn("announce a commit to the other servers", "err", err)
		}
		cancel()
		time.Sleep(announceInterval)
		a.mu.Lock()
	}
	a.sending = false
	a.mu.Unlock()
}

// Listen runs until ctx is done, relaying commits announced by other
// servers sharing the database to this server's OnCommit hooks and dropping
// cached principals when security changed. On SQLite, where there is no
// LISTEN, it follows metadata changes made by other processes on the same
// file (outpost admin) instead, by polling (followMetadata). ready, when
// not nil, is called once listening.
func (p *Platform) Listen(ctx context.Context, ready func()) error {
	if p.db.Listen == nil {
		return p.followMetadata(ctx, ready)
	}
	return p.db.Listen(ctx, notifyChannel, func(payload string) {
		var n commitNotice
		if err := json.Unmarshal([]byte(payload), &n); err != nil || n.Origin == p.origin {
			return
		}
		if n.Metadata {
			if err := p.Reload(ctx); err != nil {
				p.logger.Warn("reload metadata announced by another server", "err", err)
			}
		}
		tables := n.Tables
		if len(tables) == 1 && tables[0] == "*" {
			tables = nil
			for _, t := range p.Schema().Tables() {
				tables = append(tables, t.Name)
			}
		}
		if slices.Contains(tables, CredentialsTable) {
			p.forgetTokens()
		}
		if len(tables) > 0 {
			p.notify(tables)
		}
	}, ready)
}

// metadataVersionSetting names the outpost_setting row holding the version
// of the last metadata change.
const metadataVersionSetting = "metadataversion"

// MetadataPoll is how often a server on SQLite looks for metadata changed
// by another process.
var MetadataPoll = time.Second

// followMetadata reloads the metadata whenever another process (outpost
// admin on the same data directory) changed it, until ctx is done: one
// indexed read every MetadataPoll. Data and security changes need no
// following: rows are read from the database, and principals are checked
// against the security log on every request.
func (p *Platform) followMetadata(ctx context.Context, ready func()) error {
	read := func() string {
		var v string
		_ = p.db.Read.QueryRowContext(ctx, `SELECT value FROM outpost_setting WHERE name = '`+metadataVersionSetting+`'`).Scan(&v)
		return v
	}
	last := read()
	if ready != nil {
		ready()
	}
	tick := time.NewTicker(MetadataPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if v := read(); v != last {
			if err := p.Reload(ctx); err != nil {
				p.logger.Warn("reload metadata changed by another process", "err", err)
				continue
			}
			last = v
			var tables []string
			for _, t := range p.Schema().Tables() {
				tables = append(tables, t.Name)
			}
			p.notify(tables)
		}
	}
}
