package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// A one-row create in one statement (PostgreSQL). The data API's POST of
// one row, when nothing about it needs a read first, is one statement in a
// transaction of its own: it takes the version (the transaction id, after
// the environment's advisory lock, as every write transaction's first
// statement does), reads the security log version beside it, inserts the
// row only when that version is still the one the caller's principal was
// loaded at, and logs the changed table, all in one round trip and without
// BEGIN and COMMIT. A create transaction sent whole as a pipeline still
// costs PostgreSQL five statements; one statement costs it one.

// CreateAs creates one row of table for by, a principal taken from memory
// that is exact at security log version v (WriteAs), and returns it as
// stored. It answers as WriteAs with Writer.Create under WriteLast does;
// on PostgreSQL, a create that needs no read first (oneStatementCreate)
// runs as one statement.
func (p *Platform) CreateAs(ctx context.Context, by *security.Principal, v int64, table string, input map[string]any) (outpost.Row, error) {
	if row, err := p.createInOneStatement(ctx, by, v, table, input); !errors.Is(err, errNotOneStatement) {
		return row, err
	}
	var row outpost.Row
	err := p.WriteAs(ctx, by, v, func(w *Writer, by *security.Principal) (err error) {
		row, err = w.Create(WriteLast(ctx), by, table, input)
		return err
	})
	return row, err
}

// errNotOneStatement is what createInOneStatement gives when the create
// must run as a transaction of statements: it wrote nothing.
var errNotOneStatement = errors.New("the create needs a transaction")

// oneStatementCreate reports whether creating input in t as by needs no
// read before the INSERT: a new id, no lookup to check, an owner that is
// the caller, in an ordinary table the caller's create privilege reaches
// for its own rows, with versions that are transaction ids.
func (p *Platform) oneStatementCreate(ctx context.Context, by *security.Principal, t *schema.Table, input map[string]any) bool {
	if !p.db.SparseVersions() || by.UserID == "" || by.Server {
		return false
	}
	if _, joined := ctx.Value(joinedKey{}).(*Writer); joined {
		return false
	}
	if t.Intersect || securityTables[t.Name] || serverTables[t.Name] || t.Ownership == schema.OwnedByBusiness {
		return false
	}
	if id, ok := input[t.PrimaryKey()]; ok && id != nil && id != "" {
		return false // a chosen id may be taken or a tombstone's
	}
	for k, v := range input {
		if k == schema.ColOwnerID {
			if v != nil && v != by.UserID {
				return false
			}
			continue
		}
		if c, _ := checkedLookup(t, k, v); c != nil || strings.HasSuffix(k, "@odata.bind") {
			return false
		}
	}
	return !(t.HasOwner() || t.HasBusinessUnit()) || by.Reaches(t, security.Create, by.UserID)
}

// createInOneStatement is CreateAs's one statement; errNotOneStatement
// when the create is not one (oneStatementCreate) or the security log
// moved since by was loaded, having written nothing.
func (p *Platform) createInOneStatement(ctx context.Context, by *security.Principal, v int64, table string, input map[string]any) (outpost.Row, error) {
	sch := p.Schema()
	t, err := sch.LookupTable(table)
	if err != nil || !p.oneStatementCreate(ctx, by, t, input) {
		return nil, errNotOneStatement
	}
	// The checks Create makes before its INSERT; none of them reads, given
	// oneStatementCreate (the owner is the caller, no lookup is set).
	w := &Writer{p: p, sch: sch, now: p.Now(), touched: map[string]bool{}, columns: map[string]map[string]bool{}}
	if by.Depth(t, security.Create) == security.None {
		return nil, outpost.Forbiddenf("you lack the create privilege on table %q", t.Name).WithTarget(t.Name)
	}
	row, err := convertInput(t, input, true)
	if err != nil {
		return nil, err
	}
	if err := w.fillOwnership(ctx, by, t, row); err != nil {
		return nil, err
	}
	stampCreate(t, row, 0, by.UserID, w.now)
	delete(row, schema.ColVersionNumber) // the statement's own version
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d)
	b.SQL("WITH c (v, sec) AS (").SQL(p.db.VersionSQL("coalesce((" + securityVersionSQL + "), 0)")).SQL("), ins AS (INSERT INTO ").Ident(t.Name).SQL(" (")
	cols := insertColumns(t, row)
	b.Cols("", cols).SQL(", ").Ident(schema.ColVersionNumber).SQL(") SELECT ")
	insertValues(b, d, cols, row)
	b.SQL(", c.v FROM c WHERE c.sec = ").Arg(v).SQL(" RETURNING 1), log AS (INSERT INTO outpost_scopelog (version, tablename, columns) SELECT c.v, ").
		Arg(t.Name).SQL(", ").Arg(AllColumns).SQL(" FROM c, ins) SELECT c.v, c.sec FROM c")
	q, args := b.Build()
	var version, sec int64
	if err := p.db.Write.QueryRowContext(ctx, q, args...).Scan(&version, &sec); err != nil {
		if p.db.IsUnique(err) {
			return nil, outpost.Conflictf("a row of table %q with id %s already exists", t.Name, row[t.PrimaryKey()]).WithTarget(t.PrimaryKey())
		}
		return nil, fmt.Errorf("insert into %s: %w", t.Name, err)
	}
	if sec != v {
		return nil, errNotOneStatement // nothing was written: WriteAs loads the principal again
	}
	row[schema.ColVersionNumber] = version
	p.oneStatementCreates.Add(1)
	p.committed(ctx, []string{t.Name}, false)
	return storedRow(d, t, row), nil
}

// insertColumns returns the columns of t that row sets, in t's order.
func insertColumns(t *schema.Table, row outpost.Row) []string {
	cols := make([]string, 0, len(row))
	for _, c := range t.Columns {
		if _, ok := row[c.Name]; ok {
			cols = append(cols, c.Name)
		}
	}
	return cols
}

// insertValues writes row's values of cols, comma-separated, as arguments.
func insertValues(b *sqlgen.Builder, d sqlgen.Dialect, cols []string, row outpost.Row) {
	for i, c := range cols {
		if i > 0 {
			b.SQL(", ")
		}
		b.Arg(d.Arg(row[c]))
	}
}
