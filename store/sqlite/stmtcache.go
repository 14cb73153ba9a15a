package sqlite

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// stmtCacheSize bounds the prepared statements kept per connection.
const stmtCacheSize = 256

// connector opens connections that keep their prepared statements by query
// text. Outpost's SQL is parameterised, so the same few hundred texts
// recur; on a delta sync, parsing and planning them was half the server's
// CPU (docs/benchmarks.md). SQLite re-prepares a cached statement by itself
// when the schema changes.
type connector struct {
	dsn string
	drv *sqlite.Driver
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

// The interfaces of modernc's connection that database/sql uses.
type fullConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	st   driver.Stmt
	busy bool // rows of this statement are open
	used uint64
}

// cachingConn is a connection with a statement cache. database/sql uses a
// connection from one goroutine at a time; mu guards against rows closed
// late from another.
type cachingConn struct {
	driver.Conn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
	tick  uint64
}

func (c *cachingConn) full() fullConn { return c.Conn.(fullConn) }

// cacheable reports whether query is one statement worth keeping.
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	if strings.Contains(strings.TrimSuffix(q, ";"), ";") || len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return true
	}
	return strings.HasPrefix(strings.ToUpper(q), "WITH ")
}

// take returns the cached statement of query marked busy, preparing it on
// first use; nil when the query is not cacheable or its statement is busy.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		cs.busy, cs.used = true, c.tick
		return cs, nil
	}
	st, err := c.full().PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evict()
	}
	cs := &cachedStmt{st: st, busy: true, used: c.tick}
	c.stmts[query] = cs
	return cs, nil
}

// evict closes the least recently used idle statement.
func (c *cachingConn) evict() {
	var oldest string
	var at uint64
	for q, cs := range c.stmts {
		if !cs.busy && (oldest == "" || cs.used < at) {
			oldest, at = q, cs.used
		}
	}
	if oldest != "" {
		_ = c.stmts[oldest].st.Close()
		delete(c.stmts, oldest)
	}
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
}

// QueryContext runs query through its cached statement.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.full().QueryContext(ctx, query, args)
	}
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, done: func() { c.release(cs) }}, nil
}

// ExecContext runs query through its cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.full().ExecContext(ctx, query, args)
	}
	defer c.release(cs)
	return cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.full().BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.full().PrepareContext(ctx, query)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.full().Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error { return c.full().ResetSession(ctx) }

func (c *cachingConn) IsValid() bool { return c.full().IsValid() }

// Close finalizes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for q, cs := range c.stmts {
		_ = cs.st.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// cachedRows hands the statement back to the cache when closed.
type cachedRows struct {
	driver.Rows
	once sync.Once
	done func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.done)
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
