package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// The local store's own tables. Data tables carry the server's names.
var storeDDL = []string{
	`CREATE TABLE IF NOT EXISTS outpost_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	// One row per table of the plan: its definition, delta token, and the
	// first sync's cursor and snapshot token.
	`CREATE TABLE IF NOT EXISTS outpost_table (name TEXT PRIMARY KEY, def TEXT NOT NULL, token TEXT NOT NULL DEFAULT '',
		snaptoken TEXT NOT NULL DEFAULT '', cursor TEXT NOT NULL DEFAULT '', done INTEGER NOT NULL DEFAULT 0,
		lastsync TEXT NOT NULL DEFAULT '', lastcheck TEXT NOT NULL DEFAULT '')`,
	// The durable upload queue, in sequence order.
	`CREATE TABLE IF NOT EXISTS outpost_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, mutationid TEXT NOT NULL, tablename TEXT NOT NULL,
		op TEXT NOT NULL, rowid TEXT NOT NULL, baseversion INTEGER NOT NULL, data TEXT NOT NULL, createdon TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_queue_row ON outpost_queue (tablename, rowid)`,
	// Rejected changes as the device learnt them from upload results.
	`CREATE TABLE IF NOT EXISTS outpost_error (seq INTEGER PRIMARY KEY, syncerrorid TEXT NOT NULL, tablename TEXT NOT NULL, rowid TEXT NOT NULL,
		op TEXT NOT NULL, type INTEGER NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, time TEXT NOT NULL, data TEXT NOT NULL,
		resolved INTEGER NOT NULL DEFAULT 0)`,
}

func openDB(ctx context.Context, path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One connection: the device has one writer and its reads are short;
	// queueing in Go is simpler than SQLITE_BUSY handling.
	db.SetMaxOpenConns(1)
	for _, s := range append(storeDDL, fileDDL...) {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare store %s: %w", path, err)
		}
	}
	return db, nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getMeta(ctx context.Context, q execer, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM outpost_meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

func setMeta(ctx context.Context, q execer, key, value string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO outpost_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// localTable is one data table of the store.
type localTable struct {
	def   wire.Table
	t     *schema.Table
	types map[string]schema.Type
}

func newLocalTable(def wire.Table) *localTable {
	lt := &localTable{def: def, types: map[string]schema.Type{}}
	t := &schema.Table{Name: def.Name, PrimaryName: def.PrimaryKey, Ownership: schema.OwnedByNone}
	for _, c := range def.Columns {
		t.Columns = append(t.Columns, schema.Column{Name: c.Name, Type: schema.Type(c.Type), Target: c.Target})
		lt.types[c.Name] = schema.Type(c.Type)
		if c.Name == schema.ColOwnerID {
			t.Ownership = schema.OwnedByUser
		}
	}
	lt.t = t
	return lt
}

func (lt *localTable) pk() string { return lt.def.PrimaryKey }

func (lt *localTable) columnNames() []string {
	out := make([]string, len(lt.def.Columns))
	for i, c := range lt.def.Columns {
		out[i] = c.Name
	}
	return out
}

// sameShape reports whether two definitions have the same columns.
func sameShape(a, b wire.Table) bool {
	if a.PrimaryKey != b.PrimaryKey || len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i].Name != b.Columns[i].Name || a.Columns[i].Type != b.Columns[i].Type {
			return false
		}
	}
	return true
}

// localSchema builds a schema of the local tables for filters. Lookups to
// tables the device does not hold become plain id columns.
func localSchema(tables map[string]*localTable) (*schema.Schema, error) {
	var list []*schema.Table
	for _, lt := range tables {
		t := *lt.t
		t.Columns = append([]schema.Column(nil), lt.t.Columns...)
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.Type == schema.Lookup {
				if _, ok := tables[c.Target]; !ok {
					c.Type, c.Target = schema.ID, ""
				}
			}
			if c.Type == schema.Choice {
				c.Type = schema.Integer // options stay on the server
			}
			if c.Type == schema.Text || c.Type == schema.Memo {
				c.MaxLength = 0
			}
		}
		list = append(list, &t)
	}
	return schema.New(list, nil)
}

// storeValue converts a wire or user value for column type typ to what the
// local SQLite table stores.
func storeValue(typ schema.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case schema.Integer, schema.Choice:
		switch x := v.(type) {
		case json.Number:
			return x.Int64()
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case float64:
			if x != math.Trunc(x) {
				return nil, fmt.Errorf("%v is not a whole number", x)
			}
			return int64(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case schema.Decimal, schema.Money:
		switch x := v.(type) {
		case json.Number:
			return x.Float64()
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(x, 64)
		}
	case schema.Boolean:
		switch x := v.(type) {
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, err
			}
			return storeValue(typ, b)
		}
	case schema.DateTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Format(sqlgen.TimeFormat), nil
		case string:
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly} {
				if tm, err := time.Parse(layout, x); err == nil {
					return tm.UTC().Truncate(time.Millisecond).Format(sqlgen.TimeFormat), nil
				}
			}
			return nil, fmt.Errorf("%q is not a date and time such as 2026-01-31T14:00:00Z", x)
		}
	default:
		switch x := v.(type) {
		case string:
			if typ.IsReference() {
				return strings.ToLower(x), nil
			}
			return x, nil
		case json.Number:
			return x.String(), nil
		}
	}
	return nil, fmt.Errorf("%v (%T) does not fit a %s column", v, v, typ)
}

// readValue converts a stored value of type typ to its wire form.
func readValue(typ schema.Type, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if v == nil {
		return nil
	}
	switch typ {
	case schema.Boolean:
		if n, ok := v.(int64); ok {
			return n != 0
		}
	case schema.Decimal, schema.Money:
		if n, ok := v.(int64); ok {
			return float64(n)
		}
	case schema.Integer, schema.Choice:
		if f, ok := v.(float64); ok {
			return int64(f)
		}
	}
	return v
}

// upsert writes wire rows with the given columns into lt, skipping ids in
// skip (rows with queued local changes, which must not be hidden).
func (lt *localTable) upsert(ctx context.Context, tx *sql.Tx, cols []string, rows [][]any, skip map[string]bool) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	d := sqlgen.SQLite
	var sb strings.Builder
	sb.WriteString("INSERT OR REPLACE INTO " + d.Quote(lt.def.Name) + " (")
	for i, c := range cols {
		if _, ok := lt.types[c]; !ok {
			return 0, fmt.Errorf("table %s has no column %s", lt.def.Name, c)
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(d.Quote(c))
	}
	sb.WriteString(") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")")
	stmt, err := tx.PrepareContext(ctx, sb.String())
	if err != nil {
		return 0, fmt.Errorf("prepare upsert into %s: %w", lt.def.Name, err)
	}
	defer stmt.Close()
	args := make([]any, len(cols))
	n := 0
	for _, r := range rows {
		if len(r) != len(cols) {
			return n, outpost.Invalidf("row of %s has %d values for %d columns", lt.def.Name, len(r), len(cols))
		}
		if id, _ := r[0].(string); skip[id] {
			continue
		}
		for i, c := range cols {
			v, err := storeValue(lt.types[c], r[i])
			if err != nil {
				return n, fmt.Errorf("column %s of %s: %w", c, lt.def.Name, err)
			}
			args[i] = v
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return n, fmt.Errorf("upsert into %s: %w", lt.def.Name, err)
		}
		n++
	}
	return n, nil
}

// remove deletes the ids from lt, skipping ids in skip.
func (lt *localTable) remove(ctx context.Context, tx *sql.Tx, ids []string, skip map[string]bool) (int, error) {
	n := 0
	q := "DELETE FROM " + sqlgen.SQLite.Quote(lt.def.Name) + " WHERE " + sqlgen.SQLite.Quote(lt.pk()) + " = ?"
	for _, id := range ids {
		if skip[id] {
			continue
		}
		res, err := tx.ExecContext(ctx, q, id)
		if err != nil {
			return n, fmt.Errorf("remove from %s: %w", lt.def.Name, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// clear deletes every row of lt except the ids in keep.
func (lt *localTable) clear(ctx context.Context, tx *sql.Tx, keep map[string]bool) error {
	q := "DELETE FROM " + sqlgen.SQLite.Quote(lt.def.Name)
	var args []any
	if len(keep) > 0 {
		q += " WHERE " + sqlgen.SQLite.Quote(lt.pk()) + " NOT IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(keep)), ", ") + ")"
		for id := range keep {
			args = append(args, id)
		}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("clear %s: %w", lt.def.Name, err)
	}
	return nil
}
