package sqlgen

import (
	"strings"

	"github.com/outposthq/outpost/schema"
)

// ColumnType returns the SQL type of a column type in d.
//
// Ids (primary keys, lookups, owners, file and image references) are text
// UUIDs on both engines. Datetimes are timestamptz on PostgreSQL and
// fixed-width UTC text (TimeFormat) on SQLite. Decimal and money are double
// precision; booleans are INTEGER 0/1 on SQLite.
func (d Dialect) ColumnType(t schema.Type) string {
	switch t {
	case schema.Integer, schema.Choice:
		return "BIGINT"
	case schema.Decimal, schema.Money:
		if d.IsPostgres() {
			return "DOUBLE PRECISION"
		}
		return "REAL"
	case schema.Boolean:
		if d.IsPostgres() {
			return "BOOLEAN"
		}
		return "INTEGER"
	case schema.DateTime:
		if d.IsPostgres() {
			return "TIMESTAMPTZ"
		}
		return "TEXT"
	default:
		return "TEXT"
	}
}

// CreateTable returns the statements that create the physical table of t
// and its indexes: the primary key, the version, and every reference column.
func (d Dialect) CreateTable(t *schema.Table) []string {
	var sb strings.Builder
	sb.WriteString("CREATE TABLE IF NOT EXISTS ")
	sb.WriteString(d.Quote(t.Name))
	sb.WriteString(" (")
	for i, c := range t.Columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(d.ColumnDef(t, &c))
	}
	sb.WriteString(")")
	stmts := []string{sb.String()}
	for _, c := range t.Columns {
		if d.indexed(t, &c) {
			stmts = append(stmts, d.CreateIndex(t, c.Name))
		}
	}
	return stmts
}

// ColumnDef returns the column definition of c in t for CREATE or ALTER TABLE.
func (d Dialect) ColumnDef(t *schema.Table, c *schema.Column) string {
	s := d.Quote(c.Name) + " " + d.ColumnType(c.Type)
	if c.Name == t.PrimaryKey() {
		s += " PRIMARY KEY"
	} else if c.Name == schema.ColVersionNumber {
		s += " NOT NULL"
	}
	return s
}

func (d Dialect) indexed(t *schema.Table, c *schema.Column) bool {
	if c.Name == t.PrimaryKey() {
		return false
	}
	return c.Name == schema.ColVersionNumber || c.Type == schema.Lookup || c.Type == schema.Owner
}

// CreateIndex returns the statement that indexes one column of t.
func (d Dialect) CreateIndex(t *schema.Table, column string) string {
	return "CREATE INDEX IF NOT EXISTS " + d.Quote("ix_"+t.Name+"_"+column) + " ON " + d.Quote(t.Name) + " (" + d.Quote(column) + ")"
}

// AddColumn returns the statements that add column c to the physical table of t.
func (d Dialect) AddColumn(t *schema.Table, c *schema.Column) []string {
	stmts := []string{"ALTER TABLE " + d.Quote(t.Name) + " ADD COLUMN " + d.ColumnDef(t, c)}
	if d.indexed(t, c) {
		stmts = append(stmts, d.CreateIndex(t, c.Name))
	}
	return stmts
}
