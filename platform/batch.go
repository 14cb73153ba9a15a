package platform

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// PendingUpdate is one update of a batch: the columns of input set on row
// ID of Table, as Writer.Update takes them.
type PendingUpdate struct {
	Table string
	ID    string
	Input map[string]any
}

// UpdateBatch applies a run of updates whose checks were read ahead, a
// few queries for the whole run instead of several per row, and writes
// them a few rows per statement. It gives the answers Writer.Update would
// give, as long as nothing else is written between PrepareUpdates and the
// last Apply: updates of the tables it accepts (BatchUpdatable) never
// change a row's existence, owner, business unit or shares, which are all
// the checks depend on. Apply applies an update only when every check
// passes; otherwise it does nothing and the caller runs the update through
// Writer.Update, which answers with the exact error (after a Flush).
type UpdateBatch struct {
	w    *Writer
	by   *security.Principal
	ups  []PendingUpdate
	sets []outpost.Row // converted input, nil when conversion failed
	rows map[string]map[string]*batchRow
	// pending are the updates applied and not written yet (Flush).
	pending []pendingWrite
	// targets are the rows that lookups of the batch refer to, per table:
	// present when the row exists, true when by may append to it.
	targets map[string]map[string]bool
}

type batchRow struct {
	version             int64
	read, write, append bool
}

// BatchUpdatable reports whether updates of table can go through an
// UpdateBatch: an existing table, neither a relationship table nor one
// whose rows decide who may read what, and not business owned (there an
// update may move a row to another business unit).
func (w *Writer) BatchUpdatable(table string) bool {
	t, ok := w.Schema().Table(table)
	return ok && ordinaryTable(t)
}

// ordinaryTable reports whether t's writes do nothing beyond their rows:
// neither a relationship table nor one whose rows decide who may read
// what or that only the server writes, and not business owned.
func ordinaryTable(t *schema.Table) bool {
	return !t.Intersect && !securityTables[t.Name] && !serverTables[t.Name] && t.Ownership != schema.OwnedByBusiness
}

// batchChunk bounds the ids of one IN list; lists are cut into powers of
// two so that the few statement texts stay prepared.
const batchChunk = 256

// chunk returns how many of n ids the next IN list takes: the largest
// power of two not above n or batchChunk.
func chunk(n int) int {
	s := batchChunk
	for s > n {
		s /= 2
	}
	return s
}

// PrepareUpdates reads what the checks of ups need: for each row its
// version and whether by may read and write it, and for each lookup value
// whether its row exists and by may append to it. Every table of ups must
// be BatchUpdatable.
func (w *Writer) PrepareUpdates(ctx context.Context, by *security.Principal, ups []PendingUpdate) (*UpdateBatch, error) {
	b := &UpdateBatch{w: w, by: by, ups: ups, sets: make([]outpost.Row, len(ups)),
		rows: map[string]map[string]*batchRow{}, targets: map[string]map[string]bool{}}
	sch := w.Schema()
	ids := map[string][]string{}
	refs := map[string][]string{}
	for i, u := range ups {
		t, err := sch.LookupTable(u.Table)
		if err != nil || !w.BatchUpdatable(t.Name) {
			return nil, fmt.Errorf("table %q cannot be updated in a batch", u.Table)
		}
		if outpost.ValidID(u.ID) {
			ids[t.Name] = append(ids[t.Name], u.ID)
		}
		set, err := convertInput(t, u.Input, false)
		if err != nil {
			continue
		}
		b.sets[i] = set
		for name, v := range set {
			c, _ := t.Column(name)
			id, ok := v.(string)
			if c == nil || c.Type != schema.Lookup || !ok || c.System {
				continue
			}
			refs[c.Target] = append(refs[c.Target], id)
		}
	}
	for _, table := range sortedKeys(ids) {
		t := sch.MustTable(table)
		got := map[string]*batchRow{}
		// Read, Write and Append (for lookups) on the rows; the share
		// branch of each filter carries its own right.
		checks := []filter.Expr{by.Filter(t, security.Read), by.Filter(t, security.Write), by.Filter(t, security.Append)}
		err := w.checkRows(ctx, by, t, ids[table], checks, func(id string, version int64, ok []bool) {
			got[id] = &batchRow{version: version, read: ok[0], write: ok[1], append: ok[2]}
		})
		if err != nil {
			return nil, err
		}
		b.rows[table] = got
	}
	for _, table := range sortedKeys(refs) {
		t, ok := sch.Table(table)
		if !ok {
			continue // Apply leaves these updates to Writer.Update
		}
		got := map[string]bool{}
		err := w.checkRows(ctx, by, t, refs[table], []filter.Expr{by.Filter(t, security.AppendTo)}, func(id string, _ int64, ok []bool) {
			got[id] = ok[0]
		})
		if err != nil {
			return nil, err
		}
		b.targets[table] = got
	}
	return b, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkRows reads, for the rows of t among ids, their version and whether
// each of checks holds, the same filters Writer.matches evaluates one row
// at a time; a nil check holds for no row. Rows without a version are left
// out: the one-row path reports them.
func (w *Writer) checkRows(ctx context.Context, by *security.Principal, t *schema.Table, ids []string, checks []filter.Expr, fn func(id string, version int64, ok []bool)) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for len(ids) > 0 {
		n := chunk(len(ids))
		part := ids[:n]
		ids = ids[n:]
		b := sqlgen.NewBuilder(w.p.db.Dialect)
		b.SQL("SELECT ").Cols("t0", []string{t.PrimaryKey(), schema.ColVersionNumber})
		for _, e := range checks {
			if e == nil {
				b.SQL(", 0")
				continue
			}
			b.SQL(", CASE WHEN (")
			if err := b.Expr(w.sch, t.Name, "t0", e, by.Env()); err != nil {
				return fmt.Errorf("compile access filter for %s: %w", t.Name, err)
			}
			b.SQL(") THEN 1 ELSE 0 END")
		}
		b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE t0.").Ident(t.PrimaryKey()).SQL(" IN (").StringsArgs(part).SQL(")")
		query, args := b.Build()
		rows, err := w.tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("check rows of %s: %w", t.Name, err)
		}
		var id string
		var version sql.NullInt64
		flags := make([]int64, len(checks))
		dest := []any{&id, &version}
		for i := range flags {
			dest = append(dest, &flags[i])
		}
		ok := make([]bool, len(checks))
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				_ = rows.Close()
				return fmt.Errorf("check rows of %s: %w", t.Name, err)
			}
			for i, f := range flags {
				ok[i] = f == 1
			}
			if version.Valid {
				fn(id, version.Int64, ok)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("check rows of %s: %w", t.Name, err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("check rows of %s: %w", t.Name, err)
		}
	}
	return nil
}

// Version returns the version of the row update i changes, and false when
// the row does not exist.
func (b *UpdateBatch) Version(i int) (int64, bool) {
	u := b.ups[i]
	r, ok := b.rows[u.Table][u.ID]
	if !ok {
		return 0, false
	}
	return r.version, true
}

// Apply performs update i when every check of Writer.Update passes, and
// reports whether it did. The row is written by the next Flush. When it
// reports false nothing was done and Writer.Update gives the reason.
func (b *UpdateBatch) Apply(i int) bool {
	u := b.ups[i]
	w, by := b.w, b.by
	t, err := w.Schema().LookupTable(u.Table)
	if err != nil || !outpost.ValidID(u.ID) {
		return false
	}
	// getVisible and require(Write).
	r, ok := b.rows[t.Name][u.ID]
	if !ok || !r.read || !r.write {
		return false
	}
	set := b.sets[i]
	if set == nil || t.Intersect {
		return false
	}
	// checkLookups.
	for name, v := range set {
		c, _ := t.Column(name)
		id, ok := v.(string)
		if c == nil || c.Type != schema.Lookup || !ok || c.System {
			continue
		}
		allowed, exists := b.targets[c.Target][id]
		if !exists || by.Depth(t, security.Append) == security.None || !r.append || !allowed {
			return false
		}
	}
	b.sets[i] = nil
	stampUpdate(set, w.version, by.UserID, w.now)
	b.pending = append(b.pending, pendingWrite{t: t, id: u.ID, set: set})
	w.touchColumns(t, set)
	return true
}

// pendingWrite is an applied update not yet sent to the database.
type pendingWrite struct {
	t   *schema.Table
	id  string
	set outpost.Row
}

// writeChunk bounds the rows of one multi-row UPDATE.
const writeChunk = 64

// Flush writes the updates applied since the last Flush. It must run
// before anything else reads or writes the rows in the transaction. Rows
// that set the same columns of a table are written together, one
// statement for up to writeChunk rows; a row updated twice is written in
// order. An error is the database's: the transaction should be given up.
func (b *UpdateBatch) Flush(ctx context.Context) error {
	type group struct {
		t    *schema.Table
		cols []string
		rows []pendingWrite
	}
	var order []string
	groups := map[string]*group{}
	seen := map[string]bool{}
	flush := func() error {
		for _, key := range order {
			g := groups[key]
			for len(g.rows) > 0 {
				n := writeChunk
				for n > len(g.rows) {
					n /= 2
				}
				if err := b.w.updateRows(ctx, g.t, g.cols, g.rows[:n]); err != nil {
					return err
				}
				g.rows = g.rows[n:]
			}
		}
		order, groups, seen = order[:0], map[string]*group{}, map[string]bool{}
		return nil
	}
	for _, pw := range b.pending {
		if seen[pw.t.Name+"/"+pw.id] {
			// The row's earlier update goes first.
			if err := flush(); err != nil {
				return err
			}
		}
		seen[pw.t.Name+"/"+pw.id] = true
		var cols []string
		for _, c := range pw.t.Columns {
			if _, ok := pw.set[c.Name]; ok && c.Name != pw.t.PrimaryKey() {
				cols = append(cols, c.Name)
			}
		}
		key := pw.t.Name + ":" + strings.Join(cols, ",")
		g, ok := groups[key]
		if !ok {
			g = &group{t: pw.t, cols: cols}
			groups[key] = g
			order = append(order, key)
		}
		g.rows = append(g.rows, pw)
	}
	b.pending = b.pending[:0]
	return flush()
}

// updateRows sets cols of rows of t to each row's values in one
// statement, as updateRow does for one row: UPDATE … FROM (VALUES …),
// matched by primary key. The rows' ids are distinct.
func (w *Writer) updateRows(ctx context.Context, t *schema.Table, cols []string, rows []pendingWrite) error {
	if len(rows) == 1 {
		return w.p.updateRow(ctx, w.tx, t, rows[0].id, rows[0].set, w.version, "", w.now)
	}
	d := w.p.db.Dialect
	types := make([]string, len(cols)+1)
	types[0] = d.ColumnType(schema.ID)
	for i, name := range cols {
		c, _ := t.Column(name)
		types[i+1] = d.ColumnType(c.Type)
	}
	b := sqlgen.NewBuilder(d)
	b.SQL("UPDATE ").Ident(t.Name).SQL(" SET ")
	for i, name := range cols {
		if i > 0 {
			b.SQL(", ")
		}
		b.Ident(name).SQL(" = v.column" + strconv.Itoa(i+2))
	}
	b.SQL(" FROM (VALUES ")
	value := func(k int, v any) {
		if d.IsPostgres() {
			// Parameters in VALUES have no column to take their type from.
			b.SQL("CAST(").Arg(v).SQL(" AS " + types[k] + ")")
			return
		}
		b.Arg(v)
	}
	for r, row := range rows {
		if r > 0 {
			b.SQL(", ")
		}
		b.SQL("(")
		value(0, row.id)
		for i, name := range cols {
			b.SQL(", ")
			value(i+1, d.Arg(row.set[name]))
		}
		b.SQL(")")
	}
	b.SQL(") AS v WHERE ").Ident(t.Name).SQL(".").Ident(t.PrimaryKey()).SQL(" = v.column1")
	q, args := b.Build()
	if _, err := w.tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("update %d rows of %s: %w", len(rows), t.Name, err)
	}
	return nil
}

// CreateBatch inserts inputs into table as Writer.Create would insert each,
// all or none, with a few queries for the whole batch. It reports false,
// having written nothing, when any row needs Create's own path (an error,
// a key that exists, an owner or lookup the batch cannot check); the
// caller then creates the rows one by one, which gives the exact errors.
func (w *Writer) CreateBatch(ctx context.Context, by *security.Principal, table string, inputs []map[string]any) ([]string, bool, error) {
	t, ok := w.Schema().Table(table)
	if !ok {
		return nil, false, nil
	}
	return w.createBatch(ctx, by, t, inputs)
}

// BatchDeletable reports whether deletes of table can go through a
// DeleteBatch: a table BatchUpdatable accepts with no lookup to itself (a
// delete clears such lookups, which would move rows that later deletes of
// the batch check).
func (w *Writer) BatchDeletable(table string) bool {
	if !w.BatchUpdatable(table) {
		return false
	}
	for _, c := range w.Schema().MustTable(table).Columns {
		if c.Type == schema.Lookup && c.Target == table {
			return false
		}
	}
	return true
}

// DeleteBatch holds what deletes of rows of one table check, read for the
// whole batch at once (each row's version and whether by may read and
// delete it), and the deletes applied and not written yet (Flush).
type DeleteBatch struct {
	w       *Writer
	t       *schema.Table
	rows    map[string]*batchRow // write holds the Delete privilege's check
	pending []string
}

// PrepareDeletes reads the checks of deleting ids of table, which must be
// BatchDeletable.
func (w *Writer) PrepareDeletes(ctx context.Context, by *security.Principal, table string, ids []string) (*DeleteBatch, error) {
	t, ok := w.Schema().Table(table)
	if !ok || !w.BatchDeletable(table) {
		return nil, fmt.Errorf("rows of table %q cannot be deleted in a batch", table)
	}
	b := &DeleteBatch{w: w, t: t, rows: map[string]*batchRow{}}
	checks := []filter.Expr{by.Filter(t, security.Read), by.Filter(t, security.Delete)}
	err := w.checkRows(ctx, by, t, ids, checks, func(id string, version int64, ok []bool) {
		b.rows[id] = &batchRow{version: version, read: ok[0], write: ok[1]}
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Version returns the version of row id when it exists and by may read it,
// as Writer.VisibleVersion would.
func (b *DeleteBatch) Version(id string) (int64, bool) {
	r := b.rows[id]
	if r == nil || !r.read {
		return 0, false
	}
	return r.version, true
}

// Delete applies the delete of row id when Writer.Delete would delete it
// (by may read and delete it), to be written by Flush; it reports false,
// having done nothing, otherwise (Writer.Delete then gives the exact
// error).
func (b *DeleteBatch) Delete(id string) bool {
	r := b.rows[id]
	if r == nil || !r.read || !r.write {
		return false
	}
	delete(b.rows, id)
	b.pending = append(b.pending, id)
	return true
}

// Flush writes the applied deletes as Writer.Delete writes one, a few rows
// a statement: the rows go, leaving tombstones, their shares and files go,
// lookups to them are cleared and relationship rows naming them deleted.
// An error is the database's: the batch's transaction must not commit.
func (b *DeleteBatch) Flush(ctx context.Context) error {
	w, t, d := b.w, b.t, b.w.p.db.Dialect
	ids := b.pending
	b.pending = nil
	if len(ids) == 0 {
		return nil
	}
	for rest := ids; len(rest) > 0; {
		n := chunk(len(rest))
		part := rest[:n]
		rest = rest[n:]
		in := func(b *sqlgen.Builder) { b.SQL(" IN (").StringsArgs(part).SQL(")") }
		del := sqlgen.NewBuilder(d)
		del.SQL("DELETE FROM ").Ident(t.Name).SQL(" WHERE ").Ident(t.PrimaryKey())
		in(del)
		tomb := sqlgen.NewBuilder(d)
		tomb.SQL("INSERT INTO outpost_tombstone (tablename, id, version) VALUES ")
		for i, id := range part {
			if i > 0 {
				tomb.SQL(", ")
			}
			tomb.SQL("(").Arg(t.Name).SQL(", ").Arg(id).SQL(", ").Arg(w.version).SQL(")")
		}
		tomb.SQL(" ON CONFLICT (tablename, id) DO UPDATE SET version = excluded.version")
		unshare := sqlgen.NewBuilder(d)
		unshare.SQL("DELETE FROM outpost_share WHERE objecttable = ").Arg(t.Name).SQL(" AND objectid")
		in(unshare)
		for _, st := range []*sqlgen.Builder{del, tomb, unshare} {
			q, args := st.Build()
			if _, err := w.tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("delete %d rows of %s: %w", len(part), t.Name, err)
			}
		}
		if err := w.deleteFilesOf(ctx, t, part); err != nil {
			return err
		}
		if err := w.clearLinksTo(ctx, t, part); err != nil {
			return err
		}
	}
	w.touch(t)
	return nil
}
