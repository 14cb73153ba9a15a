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
	db, err := sql.Open(sqlDriverName, sqliteDSN(path, false))
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

// OpenSQLite opens the SQLite file at path with the driver and settings of
// the device store (read-only when readOnly), for tools that work on a
// store's file or compare with it.
func OpenSQLite(path string, readOnly bool) (*sql.DB, error) {
	return sql.Open(sqlDriverName, sqliteDSN(path, readOnly))
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
	t     *schema.Table // the local SQL table
	types map[string]schema.Type
	// rules is the table as the server checks written values (required
	// columns, lengths, options), for refusing offline edits at once.
	rules *schema.Table
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
	lt.rules = rulesOf(def)
	return lt
}

// rulesOf builds the server's checks of def's columns. A definition stored
// before the server sent them has no lengths and no options: then only
// types are checked, never a limit the server may not have.
func rulesOf(def wire.Table) *schema.Table {
	t := &schema.Table{Name: def.Name, PrimaryName: def.PrimaryKey}
	for _, c := range def.Columns {
		rc := schema.Column{Name: c.Name, Type: schema.Type(c.Type), Target: c.Target, Required: c.Required,
			MaxLength: c.MaxLength, System: schema.IsSystemColumn(def.Name, c.Name)}
		for _, o := range c.Options {
			rc.Options = append(rc.Options, schema.Option{Value: o.Value, Label: o.Label})
		}
		if (rc.Type == schema.Text || rc.Type == schema.Memo) && rc.MaxLength == 0 {
			rc.MaxLength = schema.MaxMemoLength
		}
		if rc.Type == schema.Choice && len(rc.Options) == 0 {
			rc.Type = schema.Integer
		}
		t.Columns = append(t.Columns, rc)
	}
	return t
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
			if wire.IsTimeText(x) {
				return x, nil // already the stored form
			}
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

// upsert writes wire rows with the given columns into lt, skipping ids in
// skip (rows with queued local changes, which must not be hidden).
func (lt *localTable) upsert(ctx context.Context, tx *sql.Tx, cols []string, rows [][]any, skip map[string]bool) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	in, err := newInserter(lt, cols)
	if err != nil {
		return 0, err
	}
	defer in.release()
	return in.insert(ctx, tx, rows, skip)
}

// maxInsertArgs bounds the parameters of one multi-row INSERT.
const maxInsertArgs = 999

// maxInsertRows bounds the rows of one multi-row INSERT.
const maxInsertRows = 64

// inserter writes rows of one column list into a table with multi-row
// INSERT OR REPLACE statements, prepared once per transaction: one
// statement per many rows costs much less per row than one per row.
type inserter struct {
	lt    *localTable
	cols  []string
	types []schema.Type
	chunk int // rows per full statement
	tx    *sql.Tx
	stmts map[int]*sql.Stmt // by rows per statement, prepared in tx
	args  []any
}

func newInserter(lt *localTable, cols []string) (*inserter, error) {
	in := &inserter{lt: lt, cols: cols, types: make([]schema.Type, len(cols)), stmts: map[int]*sql.Stmt{}}
	for i, c := range cols {
		t, ok := lt.types[c]
		if !ok {
			return nil, fmt.Errorf("table %s has no column %s", lt.def.Name, c)
		}
		in.types[i] = t
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("rows of %s carry no columns", lt.def.Name)
	}
	in.chunk = max(1, min(maxInsertRows, maxInsertArgs/len(cols)))
	return in, nil
}

// stmt returns the statement inserting k rows, prepared in tx.
func (in *inserter) stmt(ctx context.Context, tx *sql.Tx, k int) (*sql.Stmt, error) {
	if in.tx != tx {
		in.release()
		in.tx = tx
	}
	if st := in.stmts[k]; st != nil {
		return st, nil
	}
	d := sqlgen.SQLite
	var sb strings.Builder
	sb.WriteString("INSERT OR REPLACE INTO " + d.Quote(in.lt.def.Name) + " (")
	for i, c := range in.cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(d.Quote(c))
	}
	sb.WriteString(") VALUES ")
	tuple := "(" + sqlgen.SQLite.Placeholders(1, len(in.cols)) + ")"
	for i := range k {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(tuple)
	}
	st, err := tx.PrepareContext(ctx, sb.String())
	if err != nil {
		return nil, fmt.Errorf("prepare upsert into %s: %w", in.lt.def.Name, err)
	}
	in.stmts[k] = st
	return st, nil
}

// release closes the statements of the current transaction.
func (in *inserter) release() {
	if in == nil {
		return
	}
	for k, st := range in.stmts {
		_ = st.Close()
		delete(in.stmts, k)
	}
	in.tx = nil
}

func (in *inserter) close() { in.release() }

// insert writes rows (wire values in in.cols order) in tx, skipping ids in
// skip, and returns how many it wrote.
func (in *inserter) insert(ctx context.Context, tx *sql.Tx, rows [][]any, skip map[string]bool) (int, error) {
	name := in.lt.def.Name
	nc := len(in.cols)
	if cap(in.args) < in.chunk*nc {
		in.args = make([]any, 0, in.chunk*nc)
	}
	args := in.args[:0]
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		st, err := in.stmt(ctx, tx, len(args)/nc)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("upsert into %s: %w", name, err)
		}
		clear(args)
		args = args[:0]
		return nil
	}
	n := 0
	for _, r := range rows {
		if len(r) != nc {
			return n, outpost.Invalidf("row of %s has %d values for %d columns", name, len(r), nc)
		}
		if len(skip) > 0 {
			if id, _ := r[0].(string); skip[id] {
				continue
			}
		}
		for i, v := range r {
			sv, err := storeValue(in.types[i], v)
			if err != nil {
				return n, fmt.Errorf("column %s of %s: %w", in.cols[i], name, err)
			}
			args = append(args, sv)
		}
		n++
		if len(args) == in.chunk*nc {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	in.args = args
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

// removeKeys deletes the rows of lt whose wire.RemoveKey is among keys,
// skipping ids in skip. The keys name rows the device may not hold, so
// they are matched against the local ids (one pass over the table's
// primary key).
func (lt *localTable) removeKeys(ctx context.Context, tx *sql.Tx, keys []string, skip map[string]bool) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+sqlgen.SQLite.Quote(lt.pk())+" FROM "+sqlgen.SQLite.Quote(lt.def.Name))
	if err != nil {
		return 0, fmt.Errorf("match removals in %s: %w", lt.def.Name, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("match removals in %s: %w", lt.def.Name, err)
		}
		if want[wire.RemoveKey(id)] {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("match removals in %s: %w", lt.def.Name, err)
	}
	return lt.remove(ctx, tx, ids, skip)
}

// clear deletes every row of lt except the ids in keep.
func (lt *localTable) clear(ctx context.Context, tx *sql.Tx, keep map[string]bool) error {
	q := "DELETE FROM " + sqlgen.SQLite.Quote(lt.def.Name)
	var args []any
	if len(keep) > 0 {
		q += " WHERE " + sqlgen.SQLite.Quote(lt.pk()) + " NOT IN (" + sqlgen.SQLite.Placeholders(1, len(keep)) + ")"
		for id := range keep {
			args = append(args, id)
		}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("clear %s: %w", lt.def.Name, err)
	}
	return nil
}
