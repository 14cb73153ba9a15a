package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/outposthq/outpost/store"
)

// Write transactions in fewer round trips. A one-row write through the
// data API runs BEGIN, the statement that takes its version, its INSERT or
// UPDATE, the scope log's INSERT and COMMIT: five round trips through
// database/sql, each a wait for the network and a wake-up of the server
// and of the client. pgx can send several statements as one pipeline (a
// batch: one write, one Sync, the results read in order), so this wrapper
// of pgx's database/sql connection sends the transaction's first
// statement (store.FirstStatementOf) with its BEGIN, and keeps the
// statements run under store.AtCommit to send them with its COMMIT: three
// round trips. Everything else goes to pgx's connection unchanged.

// connector opens connections wrapped as conn.
type connector struct{ driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return nil, fmt.Errorf("pgx returned a %T, not its database/sql connection", dc)
	}
	return &conn{Conn: sc}, nil
}

// conn is pgx's database/sql connection that pipelines the first and the
// last statements of a write transaction with its BEGIN and COMMIT.
type conn struct {
	*stdlib.Conn
	tx *tx // the write transaction open on the connection, if any
}

// queued is a statement kept for the COMMIT.
type queued struct {
	query string
	args  []any
}

// BeginTx begins a write transaction (default options) itself, sending
// the first statement the context carries with it; other transactions
// (read-only, or of another isolation) are pgx's.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts != (driver.TxOptions{}) {
		return c.Conn.BeginTx(ctx, opts)
	}
	pc := c.Conn.Conn()
	if pc.IsClosed() {
		return nil, driver.ErrBadConn
	}
	var b pgx.Batch
	b.Queue("begin")
	first := store.FirstStatementOf(ctx)
	if first != nil {
		b.Queue(first.Query).QueryRow(func(row pgx.Row) error { return row.Scan(first.Dest...) })
	}
	if err := pc.SendBatch(ctx, &b).Close(); err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, errors.Join(err, rollback(ctx, pc))
	}
	if first != nil {
		first.Done = true
	}
	c.tx = &tx{c: c, ctx: ctx}
	return c.tx, nil
}

// ExecContext keeps a statement run under store.AtCommit in the open write
// transaction for its COMMIT.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.tx != nil && store.IsAtCommit(ctx) {
		q := queued{query: query, args: make([]any, len(args))}
		for i, a := range args {
			q.args[i] = a.Value
		}
		c.tx.atCommit = append(c.tx.atCommit, q)
		return driver.RowsAffected(0), nil
	}
	return c.Conn.ExecContext(ctx, query, args)
}

// tx is a write transaction conn began.
type tx struct {
	c        *conn
	ctx      context.Context
	atCommit []queued
}

// Commit sends the statements kept for it, then COMMIT, as one pipeline.
// A failed statement fails the commit: the transaction rolls back.
func (t *tx) Commit() error {
	pc := t.c.Conn.Conn()
	kept := t.atCommit
	t.c.tx = nil
	var b pgx.Batch
	for _, q := range kept {
		b.Queue(q.query, q.args...)
	}
	var tag pgconn.CommandTag
	b.Queue("commit").Exec(func(ct pgconn.CommandTag) error {
		tag = ct
		return nil
	})
	if err := pc.SendBatch(t.ctx, &b).Close(); err != nil {
		return errors.Join(err, rollback(t.ctx, pc))
	}
	if tag.String() == "ROLLBACK" {
		// The transaction had failed before: PostgreSQL rolled it back.
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback drops the statements kept for the COMMIT and rolls back.
func (t *tx) Rollback() error {
	t.c.tx = nil
	return rollback(t.ctx, t.c.Conn.Conn())
}

// rollbackTimeout bounds a rollback sent after the transaction's own
// context ended.
const rollbackTimeout = 10 * time.Second

// rollback ends the transaction open on pc, if any; a connection it
// cannot roll back is closed, so that it never goes back to the pool
// inside a transaction.
func rollback(ctx context.Context, pc *pgx.Conn) error {
	if pc.IsClosed() || pc.PgConn().TxStatus() == 'I' {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := pc.Exec(ctx, "rollback"); err != nil {
		_ = pc.Close(ctx)
		return driver.ErrBadConn
	}
	return nil
}
