package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
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
// on PostgreSQL, a create that needs no read of its own
// (oneStatementChecks) runs as one statement.
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

// oneStatementTable reports whether a create in t as by may be one
// statement at all: an ordinary table, a user's principal, transaction-id
// versions, outside a change set.
func (p *Platform) oneStatementTable(ctx context.Context, by *security.Principal, t *schema.Table) bool {
	if !p.db.SparseVersions() || by.UserID == "" || by.Server {
		return false
	}
	if _, joined := ctx.Value(joinedKey{}).(*Writer); joined {
		return false
	}
	return ordinaryTable(t)
}

// lookupCheck is one lookup value of a new row, checked inside the
// create's statement: the target row must be one by may append to.
type lookupCheck struct {
	target *schema.Table
	id     string
	filter filter.Expr // by's Append To filter on target
}

// oneStatementChecks returns the lookup checks of row, converted input of
// a create in t as by, when none of Create's checks needs a read of its
// own: a new id, the caller as owner (its business unit is the
// principal's), a create privilege that reaches the caller's own rows, and
// lookups whose checks are conditions on their target rows (the Append
// privilege on t, an Append To filter on the target). ok is false when
// the create needs its transaction.
func oneStatementChecks(sch *schema.Schema, by *security.Principal, t *schema.Table, row outpost.Row) (checks []lookupCheck, ok bool) {
	if id, _ := row[t.PrimaryKey()].(string); id != "" {
		return nil, false // a chosen id may be taken or a tombstone's
	}
	if owner, set := row[schema.ColOwnerID]; set && owner != nil && owner != by.UserID {
		return nil, false
	}
	if !createReaches(by, t, by.UserID) {
		return nil, false
	}
	for name, v := range row {
		c, id := checkedLookup(t, name, v)
		if c == nil {
			continue
		}
		tt, found := sch.Table(c.Target)
		if !found || by.Depth(t, security.Append) == security.None {
			return nil, false
		}
		f := by.Filter(tt, security.AppendTo)
		if f == nil {
			return nil, false
		}
		checks = append(checks, lookupCheck{target: tt, id: id, filter: f})
	}
	return checks, true
}

// createInOneStatement is CreateAs's one statement; errNotOneStatement,
// having written nothing, when the create needs its transaction
// (oneStatementChecks), when the security log moved since by was loaded,
// or when a lookup's check fails (the transaction then gives the answer
// Create gives: a missing row, or the privilege lacking).
func (p *Platform) createInOneStatement(ctx context.Context, by *security.Principal, v int64, table string, input map[string]any) (outpost.Row, error) {
	sch := p.Schema()
	t, err := sch.LookupTable(table)
	if err != nil || !p.oneStatementTable(ctx, by, t) || by.Depth(t, security.Create) == security.None {
		return nil, errNotOneStatement
	}
	row, err := convertInput(t, input, true)
	if err != nil {
		return nil, errNotOneStatement // the transaction answers as Create does
	}
	checks, ok := oneStatementChecks(sch, by, t, row)
	if !ok {
		return nil, errNotOneStatement
	}
	// Create's ownership; it reads nothing for a row the caller owns.
	w := &Writer{p: p, sch: sch, now: p.Now(), touched: map[string]bool{}, columns: map[string]map[string]bool{}}
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
	b.SQL(", c.v FROM c WHERE c.sec = ").Arg(v)
	for _, lc := range checks {
		b.SQL(" AND EXISTS (")
		if err := matchSQL(b, sch, by, lc.target, lc.id, lc.filter); err != nil {
			return nil, err
		}
		b.SQL(")")
	}
	b.SQL(" RETURNING 1), log AS (INSERT INTO outpost_scopelog (version, tablename, columns) SELECT c.v, ").
		Arg(t.Name).SQL(", ").Arg(AllColumns).SQL(" FROM c, ins) SELECT c.v, (SELECT count(*) FROM ins) FROM c")
	q, args := b.Build()
	var version, inserted int64
	if err := p.db.Write.QueryRowContext(ctx, q, args...).Scan(&version, &inserted); err != nil {
		if p.db.IsUnique(err) {
			return nil, outpost.Conflictf("a row of table %q with id %s already exists", t.Name, row[t.PrimaryKey()]).WithTarget(t.PrimaryKey())
		}
		return nil, fmt.Errorf("insert into %s: %w", t.Name, err)
	}
	if inserted != 1 {
		return nil, errNotOneStatement // nothing was written
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
