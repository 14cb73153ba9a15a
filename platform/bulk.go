package platform

import (
	"context"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// MaxBulkRows bounds the rows of one bulk write (CreateMany, UpdateMany,
// UpsertMany): larger loads go in several calls, as `outpost admin import`
// sends them.
const MaxBulkRows = 10000

// BulkOptions tunes a bulk write.
type BulkOptions struct {
	// ContinueOnError writes every row that passes its checks and reports
	// the others in BulkResult.Errors; without it the first refused row
	// fails the call, and the caller's transaction must be given up.
	ContinueOnError bool
}

// BulkResult is what a bulk write did, row by row in input order.
type BulkResult struct {
	// IDs holds each row's id; "" for a refused row.
	IDs []string
	// Created tells, for UpsertMany, which rows were created (the others
	// were updated).
	Created []bool
	// Errors are the refused rows (ContinueOnError only), in input order.
	Errors []RowError
}

// RowError is one row a bulk write refused: its index in the input and
// the error the single-row write gives.
type RowError struct {
	Index int
	Err   error
}

// CreateMany inserts inputs into table, each with the checks, defaults and
// errors of Writer.Create, all at w's version.
func (w *Writer) CreateMany(ctx context.Context, by *security.Principal, table string, inputs []map[string]any, opt BulkOptions) (*BulkResult, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	if len(inputs) > 1 && len(inputs) <= MaxBulkRows && !opt.ContinueOnError {
		ids, ok, err := w.createBatch(ctx, by, t, inputs)
		if err != nil {
			return nil, err
		}
		if ok {
			return &BulkResult{IDs: ids}, nil
		}
	}
	return w.bulk(ctx, inputs, opt, false, func(i int, in map[string]any) (string, bool, error) {
		row, err := w.Create(ctx, by, table, in)
		if err != nil {
			return "", false, err
		}
		id, _ := row[w.Schema().MustTable(table).PrimaryKey()].(string)
		return id, true, nil
	})
}

// UpdateMany applies inputs to table: each names its row by the primary
// key column and sets its other columns, with the checks and errors of
// Writer.Update.
func (w *Writer) UpdateMany(ctx context.Context, by *security.Principal, table string, inputs []map[string]any, opt BulkOptions) (*BulkResult, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	return w.bulk(ctx, inputs, opt, false, func(i int, in map[string]any) (string, bool, error) {
		id, rest, err := keyOf(t.PrimaryKey(), in)
		if err != nil {
			return "", false, err
		}
		if _, err := w.Update(ctx, by, table, id, rest); err != nil {
			return "", false, err
		}
		return id, false, nil
	})
}

// UpsertMany updates the rows of inputs that exist (named by the primary
// key) and creates the others, with the checks and errors of Writer.Update
// and Writer.Create. A row by may not read answers as Update answers for
// it, so an upsert tells no more about hidden rows than a PATCH does.
func (w *Writer) UpsertMany(ctx context.Context, by *security.Principal, table string, inputs []map[string]any, opt BulkOptions) (*BulkResult, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	return w.bulk(ctx, inputs, opt, true, func(i int, in map[string]any) (string, bool, error) {
		if v, ok := in[t.PrimaryKey()]; ok && v != nil {
			id, rest, err := keyOf(t.PrimaryKey(), in)
			if err != nil {
				return "", false, err
			}
			existing, err := w.p.getRow(ctx, w.tx, t, id)
			if err != nil {
				return "", false, err
			}
			if existing != nil {
				if _, err := w.Update(ctx, by, table, id, rest); err != nil {
					return "", false, err
				}
				return id, false, nil
			}
		}
		row, err := w.Create(ctx, by, table, in)
		if err != nil {
			return "", false, err
		}
		id, _ := row[t.PrimaryKey()].(string)
		return id, true, nil
	})
}

// bulk runs one write per input, in a savepoint each when errors are to
// be collected, and names the failing row in the error otherwise.
func (w *Writer) bulk(ctx context.Context, inputs []map[string]any, opt BulkOptions, upsert bool, one func(i int, in map[string]any) (id string, created bool, err error)) (*BulkResult, error) {
	if len(inputs) > MaxBulkRows {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "a bulk write takes at most %d rows, got %d: send them in several requests", MaxBulkRows, len(inputs)).WithTarget("Targets")
	}
	res := &BulkResult{IDs: make([]string, len(inputs))}
	if upsert {
		res.Created = make([]bool, len(inputs))
	}
	for i, in := range inputs {
		if in == nil {
			err := outpost.Invalidf("a row must be a JSON object of column values")
			if !opt.ContinueOnError {
				return nil, RowErr(i, err)
			}
			res.Errors = append(res.Errors, RowError{Index: i, Err: err})
			continue
		}
		var id string
		var created bool
		run := func() error {
			var err error
			id, created, err = one(i, in)
			return err
		}
		var err error
		if opt.ContinueOnError {
			err = w.Savepoint(ctx, run)
		} else {
			err = run()
		}
		if err != nil {
			if !opt.ContinueOnError || outpost.ErrorCode(err) == outpost.CodeInternal {
				return nil, RowErr(i, err)
			}
			res.Errors = append(res.Errors, RowError{Index: i, Err: err})
			continue
		}
		res.IDs[i] = id
		if upsert {
			res.Created[i] = created
		}
	}
	return res, nil
}

// RowErr names row i of a bulk write in err: its message starts with the
// row and its target is "Targets[i]" or "Targets[i].column".
func RowErr(i int, err error) error {
	code := outpost.ErrorCode(err)
	if code == outpost.CodeInternal {
		return fmt.Errorf("row %d: %w", i, err)
	}
	target := fmt.Sprintf("Targets[%d]", i)
	if t := outpost.ErrorTarget(err); t != "" {
		target += "." + t
	}
	return outpost.Errorf(code, "row %d: %s", i, outpost.ErrorMessage(err)).WithTarget(target)
}

// keyOf takes the row id out of a bulk update's input.
func keyOf(pk string, in map[string]any) (string, map[string]any, error) {
	id, ok := in[pk].(string)
	if !ok || !outpost.ValidID(id) {
		return "", nil, outpost.Invalidf("each row names its row by %q, a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301", pk).WithTarget(pk)
	}
	rest := make(map[string]any, len(in)-1)
	for k, v := range in {
		if k != pk {
			rest[k] = v
		}
	}
	return id, rest, nil
}

// createBatch inserts rows of t the way Writer.Create would, with a few
// queries for the whole batch: the lookups' targets checked with one query
// per target table, the owner read once, and multi-row INSERTs. It takes
// only batches whose every row would pass (it reports false, having
// written nothing, for anything else, and CreateMany then writes row by
// row, which gives the exact error): tables that BatchUpdatable accepts,
// rows owned by the caller (or, for administrators, by a named owner), and
// lookups to rows that exist and that the caller may append to.
func (w *Writer) createBatch(ctx context.Context, by *security.Principal, t *schema.Table, inputs []map[string]any) ([]string, bool, error) {
	if !w.BatchUpdatable(t.Name) || requireServerWrite(by, t, "created") != nil || by.Depth(t, security.Create) == security.None {
		return nil, false, nil
	}
	rows := make([]outpost.Row, len(inputs))
	refs := map[string][]string{}
	owners := map[string][2]string{} // owner → type, business unit
	var named []string               // ids the caller chose (they may be tombstones)
	for i, in := range inputs {
		if in == nil {
			return nil, false, nil
		}
		row, err := convertInput(t, in, true)
		if err != nil {
			return nil, false, nil
		}
		for name, v := range row {
			c, _ := t.Column(name)
			if id, ok := v.(string); ok && c != nil && c.Type == schema.Lookup && !c.System {
				refs[c.Target] = append(refs[c.Target], id)
			}
		}
		if t.Ownership == schema.OwnedByUser {
			owner, _ := row[schema.ColOwnerID].(string)
			if owner == "" {
				owner = by.UserID
			}
			if owner == "" || (owner != by.UserID && !by.Admin) {
				return nil, false, nil
			}
			row[schema.ColOwnerID] = owner
			owners[owner] = [2]string{}
		}
		if id, _ := row[t.PrimaryKey()].(string); id != "" {
			named = append(named, id)
		}
		rows[i] = row
	}
	if len(refs) > 0 && by.Depth(t, security.Append) == security.None {
		return nil, false, nil
	}
	for _, table := range sortedKeys(refs) {
		target, ok := w.Schema().Table(table)
		if !ok {
			return nil, false, nil
		}
		allowed := map[string]bool{}
		if err := w.checkRows(ctx, by, target, refs[table], []filter.Expr{by.Filter(target, security.AppendTo)}, func(id string, _ int64, ok []bool) {
			allowed[id] = ok[0]
		}); err != nil {
			return nil, false, err
		}
		for _, id := range refs[table] {
			if !allowed[id] {
				return nil, false, nil
			}
		}
	}
	for owner := range owners {
		typ, bu, err := w.ownerFor(ctx, by, owner)
		if outpost.ErrorCode(err) == outpost.CodeInternal {
			return nil, false, err
		} else if err != nil {
			return nil, false, nil
		}
		owners[owner] = [2]string{typ, bu}
	}
	ids := make([]string, len(rows))
	for i, row := range rows {
		if t.Ownership == schema.OwnedByUser {
			o := owners[row[schema.ColOwnerID].(string)]
			row[schema.ColOwnerIDType], row[schema.ColOwningBusinessUnit] = o[0], o[1]
		}
		stampCreate(t, row, w.version, by.UserID, w.now)
		ids[i] = row[t.PrimaryKey()].(string)
	}
	// A key that exists already: undo the batch and let the row-by-row
	// path name the row.
	var duplicate bool
	err := w.Savepoint(ctx, func() error {
		err := w.insertRows(ctx, t, rows)
		if err != nil && w.p.db.IsUnique(err) {
			duplicate = true
		}
		return err
	})
	if duplicate {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := w.clearTombstones(ctx, t, named); err != nil {
		return nil, false, err
	}
	w.touch(t)
	return ids, true, nil
}

// insertRows writes stamped rows of t with multi-row INSERTs: rows that
// set the same columns go together, up to writeChunk rows a statement.
func (w *Writer) insertRows(ctx context.Context, t *schema.Table, rows []outpost.Row) error {
	groups := map[string][]outpost.Row{}
	var order []string
	colsOf := map[string][]string{}
	for _, row := range rows {
		var cols []string
		for _, c := range t.Columns {
			if _, ok := row[c.Name]; ok {
				cols = append(cols, c.Name)
			}
		}
		key := strings.Join(cols, ",")
		if _, ok := groups[key]; !ok {
			order = append(order, key)
			colsOf[key] = cols
		}
		groups[key] = append(groups[key], row)
	}
	d := w.p.db.Dialect
	for _, key := range order {
		cols, all := colsOf[key], groups[key]
		for len(all) > 0 {
			n := min(writeChunk, len(all))
			b := sqlgen.NewBuilder(d).SQL("INSERT INTO ").Ident(t.Name).SQL(" (").Cols("", cols).SQL(") VALUES ")
			for r, row := range all[:n] {
				if r > 0 {
					b.SQL(", ")
				}
				b.SQL("(")
				for i, c := range cols {
					if i > 0 {
						b.SQL(", ")
					}
					b.Arg(d.Arg(row[c]))
				}
				b.SQL(")")
			}
			q, args := b.Build()
			if _, err := w.tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("insert %d rows into %s: %w", n, t.Name, err)
			}
			all = all[n:]
		}
	}
	return nil
}

// clearTombstones removes the tombstones of ids of t: rows created again
// under ids that were deleted are no longer deleted.
func (w *Writer) clearTombstones(ctx context.Context, t *schema.Table, ids []string) error {
	return w.p.clearTombstones(ctx, w.tx, t, ids)
}

func (p *Platform) clearTombstones(ctx context.Context, q store.Querier, t *schema.Table, ids []string) error {
	for len(ids) > 0 {
		n := chunk(len(ids))
		b := sqlgen.NewBuilder(p.db.Dialect)
		b.SQL("DELETE FROM outpost_tombstone WHERE tablename = ").Arg(t.Name).SQL(" AND id IN (").StringsArgs(ids[:n]).SQL(")")
		query, args := b.Build()
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("clear tombstones of %s: %w", t.Name, err)
		}
		ids = ids[n:]
	}
	return nil
}
