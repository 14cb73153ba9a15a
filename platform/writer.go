package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// Writer is one write transaction. Every row one Write writes carries the
// same version (store.NextVersion); on SQLite, concurrent Writes may share
// the transaction, each in a savepoint with a version of its own
// (group.go).
type Writer struct {
	p       *Platform
	tx      *sql.Tx
	version int64
	now     time.Time
	touched map[string]bool
	// columns are the columns changed per touched table (scopelog.go);
	// a table touched without columns changed them all.
	columns map[string]map[string]bool
	// securityChanged is set when the transaction changed who may read what.
	securityChanged bool
	// security is the security log version the transaction began with
	// (SecurityVersion), read with its version.
	security int64
	// devicesRevoked is set when the transaction revoked signed-in devices:
	// cached tokens are forgotten once it commits.
	devicesRevoked bool
	// metadataChanged is set when the transaction changed tables or columns.
	metadataChanged bool
	// sch is the schema the transaction works with; metadata changes made
	// in it (WriteMeta) update it and are installed at commit.
	sch *schema.Schema
	// metaAllowed is set in WriteMeta transactions.
	metaAllowed bool
	savepoints  int
	// objects tracks the file store objects the transaction put (removed
	// again when it rolls back) and those it dropped (removed once it
	// commits), files.go.
	objects objectLog
}

// Version returns the version the current write of w stamps rows with.
func (w *Writer) Version() int64 { return w.version }

// Tx returns the transaction, for packages that keep their own tables in it.
func (w *Writer) Tx() *sql.Tx { return w.tx }

// Now returns the transaction's time.
func (w *Writer) Now() time.Time { return w.now }

// Touch records that the transaction changed table.
func (w *Writer) Touch(table string) {
	w.touched[table] = true
	w.columns[table] = nil
}

// Write runs fn in one write transaction and commits when fn returns nil.
// Hooks registered with OnCommit run after the commit. Under a context
// from Join, fn runs in the joined transaction instead, which commits or
// rolls back with everything else written in it. On SQLite, writes that
// wait for the writer meanwhile share one transaction (group.go): fn sees
// what those before it wrote, and its failure undoes only its own writes.
func (p *Platform) Write(ctx context.Context, fn func(w *Writer) error) error {
	if w, ok := ctx.Value(joinedKey{}).(*Writer); ok && w.p == p {
		return fn(w)
	}
	if !p.db.Dialect.IsPostgres() {
		return p.groupWrite(ctx, fn)
	}
	return p.write(ctx, fn, nil)
}

type joinedKey struct{}

// errStalePrincipal is what a write as a principal from memory (WriteAs)
// gives when the security log moved after the principal was loaded.
var errStalePrincipal = errors.New("the principal is older than the security log")

// WriteAs runs fn in a write transaction (Write) as by, a principal taken
// from memory (CachedPrincipal) that is exact at security log version v,
// sparing the request a read of the security log before it writes: the
// transaction checks v against the security log it began with, which it
// reads in the statement that takes its version. When a security change
// committed after by was loaded, or an earlier write of the same
// transaction changed security, fn does not run as by: it runs in a new
// transaction as the principal of by's user read afresh (Principal),
// which refuses a user since disabled or removed.
func (p *Platform) WriteAs(ctx context.Context, by *security.Principal, v int64, fn func(w *Writer, by *security.Principal) error) error {
	err := p.Write(ctx, func(w *Writer) error {
		if w.securityChanged || w.security != v {
			return errStalePrincipal
		}
		return fn(w, by)
	})
	if !errors.Is(err, errStalePrincipal) {
		return err
	}
	fresh, err := p.Principal(ctx, by.UserID)
	if err != nil {
		return err
	}
	return p.Write(ctx, func(w *Writer) error { return fn(w, fresh) })
}

// Join returns ctx under which every Write of w's platform runs in w's
// transaction: the writes of several requests (a $batch change set) commit
// or fail as one. Metadata changes (WriteMeta) refuse to join.
func Join(ctx context.Context, w *Writer) context.Context {
	return context.WithValue(ctx, joinedKey{}, w)
}

// WriteMeta is Write for transactions that also change metadata (tables,
// columns, offline flags) through the Writer's metadata methods: the DDL,
// the metadata and fn's data writes commit or fail together, and the new
// schema is installed at commit. Metadata transactions run one at a time.
func (p *Platform) WriteMeta(ctx context.Context, fn func(w *Writer) error) error {
	if _, ok := ctx.Value(joinedKey{}).(*Writer); ok {
		return outpost.Invalidf("a change to tables or columns cannot be part of a change set: send it on its own")
	}
	p.metaMu.Lock()
	defer p.metaMu.Unlock()
	var next *schema.Schema
	err := p.write(ctx, fn, &next)
	if err != nil {
		return err
	}
	if next != nil {
		p.mu.Lock()
		p.schema = next
		p.mu.Unlock()
	}
	return nil
}

// write runs one transaction; when meta is not nil it receives the
// transaction's schema if fn changed metadata.
func (p *Platform) write(ctx context.Context, fn func(w *Writer) error, meta **schema.Schema) error {
	var touched []string
	revoked, announced := false, false
	var w *Writer
	err := p.db.WriteTx(ctx, securityVersionSQL, func(tx *sql.Tx, v, sec int64) error {
		w = &Writer{p: p, tx: tx, version: v, security: sec, now: p.Now(), touched: map[string]bool{}, columns: map[string]map[string]bool{}, sch: p.Schema(), metaAllowed: meta != nil}
		if err := fn(w); err != nil {
			return err
		}
		revoked = w.devicesRevoked
		if err := w.logScope(store.AtCommit(ctx)); err != nil {
			return err
		}
		if w.securityChanged {
			d := p.db.Dialect
			if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_securitylog (version, kind, principalid) VALUES (`+d.Placeholders(1, 3)+`)`, v, "security", ""); err != nil {
				return fmt.Errorf("record security change: %w", err)
			}
		}
		for t := range w.touched {
			touched = append(touched, t)
		}
		if meta != nil && w.metadataChanged {
			*meta = w.sch
			// Other processes on the same SQLite file (outpost admin) see it
			// in followMetadata.
			d := p.db.Dialect
			if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_setting (name, value) VALUES (`+d.Placeholders(1, 2)+`) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, metadataVersionSetting, fmt.Sprint(v)); err != nil {
				return fmt.Errorf("record metadata change: %w", err)
			}
		}
		if p.db.Listen != nil && (w.metadataChanged || w.securityChanged || slices.Contains(touched, CredentialsTable)) {
			// Delivered at commit to the other servers sharing the
			// database: they must not serve the old metadata or tokens.
			if err := p.publish(ctx, tx, touched, w.metadataChanged); err != nil {
				return err
			}
			announced = true
		}
		return nil
	})
	if w != nil {
		w.settleObjects(ctx, err == nil)
	}
	if err != nil {
		return err
	}
	if revoked {
		p.credentialsRevoked(ctx)
	}
	p.committed(ctx, touched, announced)
	return nil
}

// committed tells this server's OnCommit hooks, and unless the
// transaction announced them itself the other servers sharing the
// database, which tables a committed write changed.
func (p *Platform) committed(ctx context.Context, touched []string, announced bool) {
	if len(touched) == 0 {
		return
	}
	sort.Strings(touched)
	if p.db.Listen != nil && !announced {
		p.announce(ctx, touched)
	}
	p.notify(touched)
}

// Savepoint runs fn so that, when it fails, only its own writes are undone
// and the transaction goes on: one rejected change of an upload batch never
// blocks the others.
func (w *Writer) Savepoint(ctx context.Context, fn func() error) error {
	w.savepoints++
	name := fmt.Sprintf("sp%d", w.savepoints)
	if _, err := w.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	touched := make(map[string]bool, len(w.touched))
	for k, v := range w.touched {
		touched[k] = v
	}
	sec := w.securityChanged
	objects := w.objects.mark()
	if err := fn(); err != nil {
		if _, rerr := w.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return fmt.Errorf("roll back to savepoint: %w (after %w)", rerr, err)
		}
		w.rollBackObjects(ctx, objects)
		w.touched, w.securityChanged = touched, sec
		return err
	}
	if _, err := w.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

func (w *Writer) touch(t *schema.Table) {
	w.touched[t.Name] = true
	w.columns[t.Name] = nil
	if securityTables[t.Name] {
		w.securityChanged = true
	}
}

// Schema returns the schema the transaction works with.
func (w *Writer) Schema() *schema.Schema { return w.sch }

// matches reports whether row id of t satisfies e for by, evaluated in SQL
// inside the transaction.
func (w *Writer) matches(ctx context.Context, by *security.Principal, t *schema.Table, id string, e filter.Expr) (bool, error) {
	return w.p.matchesIn(ctx, w.sch, w.tx, by, t, id, e)
}

// matches reports whether row id of t satisfies e for by, evaluated in SQL.
func (p *Platform) matches(ctx context.Context, q store.Querier, by *security.Principal, t *schema.Table, id string, e filter.Expr) (bool, error) {
	return p.matchesIn(ctx, p.Schema(), q, by, t, id, e)
}

func (p *Platform) matchesIn(ctx context.Context, sch *schema.Schema, q store.Querier, by *security.Principal, t *schema.Table, id string, e filter.Expr) (bool, error) {
	if e == nil {
		return false, nil
	}
	b := sqlgen.NewBuilder(p.db.Dialect)
	if err := matchSQL(b, sch, by, t, id, e); err != nil {
		return false, err
	}
	query, args := b.Build()
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check access to %s %s: %w", t.Name, id, err)
	}
	return true, nil
}

// matchSQL writes the query of one row when row id of t satisfies e for
// by: SELECT 1 FROM t AS t0 WHERE t0.id = id AND (e).
func matchSQL(b *sqlgen.Builder, sch *schema.Schema, by *security.Principal, t *schema.Table, id string, e filter.Expr) error {
	b.SQL("SELECT 1 FROM ").Ident(t.Name).SQL(" AS t0 WHERE t0.").Ident(t.PrimaryKey()).SQL(" = ").Arg(id).SQL(" AND (")
	if err := b.Expr(sch, t.Name, "t0", e, by.Env()); err != nil {
		return fmt.Errorf("compile access filter for %s: %w", t.Name, err)
	}
	b.SQL(")")
	return nil
}

// getVisible returns row id of t if it exists and by may read it; otherwise
// a not-found error that does not tell the two apart.
func (w *Writer) getVisible(ctx context.Context, by *security.Principal, t *schema.Table, id string) (outpost.Row, error) {
	return w.getAllowed(ctx, by, t, id, security.Read)
}

// getAllowed is getVisible and then require(priv) in one statement: row id
// of t when it exists and by may read it, else the same not-found error
// for either; when by may read it but lacks priv on it, require's
// forbidden error.
func (w *Writer) getAllowed(ctx context.Context, by *security.Principal, t *schema.Table, id string, priv security.Privilege) (outpost.Row, error) {
	notFound := outpost.NotFoundf("no row of table %q has id %s", t.Name, id).WithTarget("id")
	if !outpost.ValidID(id) {
		return nil, outpost.Invalidf("%q is not a row id: use a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301", id).WithTarget("id")
	}
	read := by.Filter(t, security.Read)
	if read == nil {
		return nil, notFound
	}
	b := sqlgen.NewBuilder(w.p.db.Dialect)
	cols := t.ColumnNames()
	b.SQL("SELECT ").Cols("t0", cols).SQL(", ")
	if e := by.Filter(t, priv); e != nil {
		b.SQL("CASE WHEN ")
		if err := w.accessSQL(b, by, t, e); err != nil {
			return nil, err
		}
		b.SQL(" THEN 1 ELSE 0 END")
	} else {
		b.SQL("0")
	}
	b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE t0.").Ident(t.PrimaryKey()).SQL(" = ").Arg(id).SQL(" AND ")
	if err := w.accessSQL(b, by, t, read); err != nil {
		return nil, err
	}
	query, args := b.Build()
	var allowed int64
	sc, err := newRowScanner(t, cols, &allowed)
	if err != nil {
		return nil, err
	}
	row, err := sc.scan(w.tx.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if allowed != 1 {
		return nil, outpost.Forbiddenf("you lack the %s privilege on this row of table %q", priv, t.Name).WithTarget(t.Name)
	}
	return row, nil
}

// accessSQL writes e, an access filter of by on t, as a parenthesised
// condition on the row aliased t0.
func (w *Writer) accessSQL(b *sqlgen.Builder, by *security.Principal, t *schema.Table, e filter.Expr) error {
	b.SQL("(")
	if err := b.Expr(w.sch, t.Name, "t0", e, by.Env()); err != nil {
		return fmt.Errorf("compile access filter for %s: %w", t.Name, err)
	}
	b.SQL(")")
	return nil
}

// VisibleVersion returns the version of row id of table when it exists and
// by may read it; otherwise the not-found error of a missing row, the same
// code and message either way, so a caller learns nothing about rows it
// cannot read.
func (w *Writer) VisibleVersion(ctx context.Context, by *security.Principal, table, id string) (int64, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return 0, err
	}
	row, err := w.getVisible(ctx, by, t, id)
	if err != nil {
		return 0, err
	}
	v, _ := row[schema.ColVersionNumber].(int64)
	return v, nil
}

// require checks that by holds priv on row id of t, returning a forbidden
// error that names what is missing.
func (w *Writer) require(ctx context.Context, by *security.Principal, t *schema.Table, id string, priv security.Privilege) error {
	ok, err := w.matches(ctx, by, t, id, by.Filter(t, priv))
	if err != nil {
		return err
	}
	if !ok {
		return outpost.Forbiddenf("you lack the %s privilege on this row of table %q", priv, t.Name).WithTarget(t.Name)
	}
	return nil
}
