package sqlgen_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	_ "github.com/outposthq/outpost/sqlgen/sqlitefold" // the fold function compiled filters call

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

// testSchema is the built-in schema plus a small field-service table set:
// workorder (user owned, N:1 to account and systemuser, N:N to contact) and
// workorderpart (N:1 to workorder, so workorder has a 1:N).
func testSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s := schema.BuiltIn()
	wo := schema.WithSystemColumns(&schema.Table{
		Name: "workorder", Ownership: schema.OwnedByUser, PrimaryName: "name", Offline: true, ChangeTracking: true,
		Columns: []schema.Column{
			{Name: "name", Type: schema.Text, MaxLength: 100},
			{Name: "customerid", Type: schema.Lookup, Target: "account"},
			{Name: "technicianid", Type: schema.Lookup, Target: "systemuser"},
			{Name: "priority", Type: schema.Choice, Options: []schema.Option{{Value: 1, Label: "Low"}, {Value: 2, Label: "Normal"}, {Value: 3, Label: "High"}}},
			{Name: "amount", Type: schema.Decimal},
			{Name: "quantity", Type: schema.Integer},
			{Name: "scheduledon", Type: schema.DateTime},
			{Name: "completed", Type: schema.Boolean},
			{Name: "notes", Type: schema.Memo},
		},
	})
	part := schema.WithSystemColumns(&schema.Table{
		Name: "workorderpart", Ownership: schema.OwnedByOrganization, PrimaryName: "name",
		Columns: []schema.Column{
			{Name: "name", Type: schema.Text},
			{Name: "workorderid", Type: schema.Lookup, Target: "workorder"},
			{Name: "quantity", Type: schema.Integer},
		},
	})
	var err error
	for _, tb := range []*schema.Table{wo, part} {
		if s, err = s.WithTable(tb); err != nil {
			t.Fatalf("add table %s: %v", tb.Name, err)
		}
	}
	s, err = s.WithManyToMany(schema.ManyToManyDef{Name: "workorder_contact", Table1: "workorder", Table2: "contact", Intersect: "workordercontact"})
	if err != nil {
		t.Fatalf("add N:N: %v", err)
	}
	return s
}

// testDB is a database with the tables of a schema.
type testDB struct {
	name string
	d    sqlgen.Dialect
	db   *sql.DB
}

func createTables(t testing.TB, d sqlgen.Dialect, db *sql.DB, s *schema.Schema) {
	t.Helper()
	stmts := []string{"CREATE TABLE " + sqlgen.ShareTable + " (objecttable TEXT NOT NULL, objectid TEXT NOT NULL, principalid TEXT NOT NULL, accessmask BIGINT)"}
	for _, tb := range s.Tables() {
		stmts = append(stmts, d.CreateTable(tb)...)
	}
	for _, st := range stmts {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

func openSQLite(t testing.TB, s *schema.Schema) *testDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	createTables(t, sqlgen.SQLite, db, s)
	return &testDB{name: "sqlite", d: sqlgen.SQLite, db: db}
}

// openPostgres returns a fresh schema on OUTPOST_TEST_POSTGRES, or nil when
// the variable is unset.
func openPostgres(t testing.TB, s *schema.Schema) *testDB {
	t.Helper()
	dsn := os.Getenv("OUTPOST_TEST_POSTGRES")
	if dsn == "" {
		return nil
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse OUTPOST_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	createTables(t, sqlgen.Postgres, db, s)
	return &testDB{name: "postgres", d: sqlgen.Postgres, db: db}
}

// openDBs returns SQLite and, when configured, PostgreSQL.
func openDBs(t testing.TB, s *schema.Schema) []*testDB {
	dbs := []*testDB{openSQLite(t, s)}
	if pg := openPostgres(t, s); pg != nil {
		dbs = append(dbs, pg)
	}
	return dbs
}

// insert writes rows into table, converting values for the dialect.
func (tdb *testDB) insert(t testing.TB, s *schema.Schema, table string, rows []outpost.Row) {
	t.Helper()
	ctx := context.Background()
	tx, err := tdb.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, row := range rows {
		b := sqlgen.NewBuilder(tdb.d)
		b.SQL("INSERT INTO ").Ident(table).SQL(" (")
		var args []any
		i := 0
		for col, v := range row {
			if i > 0 {
				b.SQL(", ")
			}
			b.Ident(col)
			args = append(args, dbValue(tdb.d, v))
			i++
		}
		b.SQL(") VALUES (").Args(args...).SQL(")")
		q, qargs := b.Build()
		if _, err := tx.ExecContext(ctx, q, qargs...); err != nil {
			t.Fatalf("%s %v: %v", q, qargs, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func dbValue(d sqlgen.Dialect, v any) any {
	switch v := v.(type) {
	case time.Time:
		return d.TimeArg(v)
	case bool:
		return d.BoolArg(v)
	}
	return v
}

// count runs SELECT count(*) for a compiled WHERE clause.
func (tdb *testDB) count(t testing.TB, query string, args []any) int {
	t.Helper()
	var n int
	if err := tdb.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %s %v: %v", tdb.name, query, args, err)
	}
	return n
}

// selectQuery builds "SELECT count(*) FROM table AS t0 WHERE <e>" (or the
// primary keys when ids is set).
func selectQuery(t testing.TB, d sqlgen.Dialect, s *schema.Schema, table string, e filter.Expr, env *filter.Env, ids bool) (string, []any) {
	t.Helper()
	b := sqlgen.NewBuilder(d)
	if ids {
		b.SQL("SELECT t0.").Ident(table + "id")
	} else {
		b.SQL("SELECT count(*)")
	}
	b.SQL(" FROM ").Ident(table).SQL(" AS t0 WHERE ")
	if err := b.Expr(s, table, "t0", e, env); err != nil {
		t.Fatalf("compile %s: %v", filter.String(e), err)
	}
	return b.Build()
}

// formatArgs prints bound arguments one a line for golden files.
func formatArgs(args []any) string {
	var sb strings.Builder
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			fmt.Fprintf(&sb, "-- $%d = time.Time %s\n", i+1, v.Format(time.RFC3339Nano))
		default:
			fmt.Fprintf(&sb, "-- $%d = %T %#v\n", i+1, a, a)
		}
	}
	return sb.String()
}
