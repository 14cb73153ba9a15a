package platform

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
)

// notifyChannel is the PostgreSQL channel servers announce commits on.
const notifyChannel = "outpost_commits"

// commitNotice is one commit as announced to the other servers.
type commitNotice struct {
	Origin   string   `json:"o"`
	Tables   []string `json:"t,omitempty"`
	Metadata bool     `json:"m,omitempty"`
}

// publish announces a commit in tx; PostgreSQL delivers it when tx commits.
func (p *Platform) publish(ctx context.Context, tx *sql.Tx, tables []string, metadata bool) error {
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

// Listen runs until ctx is done, relaying commits announced by other
// servers sharing the database to this server's OnCommit hooks and dropping
// cached principals when security changed. On SQLite, where one process owns
// the database, it returns nil at once. ready, when not nil, is called once
// listening (or at once on SQLite).
func (p *Platform) Listen(ctx context.Context, ready func()) error {
	if p.db.Listen == nil {
		if ready != nil {
			ready()
		}
		return nil
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
		if len(tables) > 0 {
			p.notify(tables)
		}
	}, ready)
}
