package platform

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
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
	if _, err := w.Schema().LookupTable(table); err != nil {
		return nil, err
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
