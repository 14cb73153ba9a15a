package syncsrv

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// maxBuckets is the finest bucketing; every wire.BucketCount divides it, so
// one pass computes the sums for any bucket count.
const maxBuckets = 8192

// scope reads (id, version) of every row of it in the device's scope.
func (s *session) scope(ctx context.Context, it *profile.PlanItem, fn func(id string, v int64)) error {
	t := s.sch.MustTable(it.Table)
	b := sqlgen.NewBuilder(s.d)
	b.SQL("SELECT ").Cols("t0", []string{t.PrimaryKey(), schema.ColVersionNumber}).SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE ")
	if err := s.where(b, it); err != nil {
		return err
	}
	q, args := b.Build()
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read scope of %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return fmt.Errorf("read scope of %s: %w", t.Name, err)
		}
		fn(id, v)
	}
	return rows.Err()
}

// checksums returns the bucket sums of it in the device's scope.
func (s *session) checksums(ctx context.Context, it *profile.PlanItem) (*wire.Checksums, error) {
	fine := make([]uint64, maxBuckets)
	var n int64
	err := s.scope(ctx, it, func(id string, v int64) {
		fine[wire.Bucket(id, maxBuckets)] += wire.RowHash(id, v)
		n++
	})
	if err != nil {
		return nil, err
	}
	c := &wire.Checksums{Buckets: wire.BucketCount(n), Rows: n}
	c.Sums = make([]uint64, c.Buckets)
	for i, sum := range fine {
		c.Sums[i%c.Buckets] += sum
	}
	return c, nil
}

// Reconcile compares the device's rows of the buckets that differed with
// the server's and returns the rows to upsert (missing or at another
// version) and the ids to remove (not in scope). Bytes are proportional
// to the rows of the differing buckets, not to the table.
func (e *Engine) Reconcile(ctx context.Context, by *security.Principal, req wire.ReconcileRequest) (*wire.ReconcileResponse, error) {
	if req.Buckets < 1 || req.Buckets > maxBuckets || maxBuckets%req.Buckets != 0 {
		return nil, outpost.Invalidf("buckets must be a power of two from 1 to %d, got %d", maxBuckets, req.Buckets).WithTarget("buckets")
	}
	diff := make(map[int]bool, len(req.Diff))
	for _, b := range req.Diff {
		if b < 0 || b >= req.Buckets {
			return nil, outpost.Invalidf("bucket %d is out of range 0 to %d", b, req.Buckets-1).WithTarget("diff")
		}
		diff[b] = true
	}
	out := &wire.ReconcileResponse{Table: req.Table}
	err := e.read(ctx, by, req.DeviceID, func(s *session) error {
		it, _, err := s.item(req.Table)
		if err != nil {
			return err
		}
		server := map[string]int64{}
		err = s.scope(ctx, it, func(id string, v int64) {
			if diff[wire.Bucket(id, req.Buckets)] {
				server[id] = v
			}
		})
		if err != nil {
			return err
		}
		have := make(map[string]int64, len(req.Have))
		for _, h := range req.Have {
			have[h.ID] = h.Version
			if _, ok := server[h.ID]; !ok {
				out.Removes = append(out.Removes, h.ID)
			}
		}
		var need []string
		for id, v := range server {
			if hv, ok := have[id]; !ok || hv != v {
				need = append(need, id)
			}
		}
		out.Columns = s.cols(it)
		out.Upserts, err = s.rowsByID(ctx, it, need)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rowsByID reads the rows of it with the given ids that are in scope.
func (s *session) rowsByID(ctx context.Context, it *profile.PlanItem, ids []string) ([][]any, error) {
	t := s.sch.MustTable(it.Table)
	cols := s.cols(it)
	var out [][]any
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		b := sqlgen.NewBuilder(s.d)
		b.SQL("SELECT ").Cols("t0", cols)
		b.SQL(" FROM ").Ident(t.Name).SQL(" AS t0 WHERE ").Col("t0", t.PrimaryKey()).SQL(" IN (").StringsArgs(chunk).SQL(") AND ")
		if err := s.where(b, it); err != nil {
			return nil, err
		}
		q, args := b.Build()
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read rows of %s: %w", t.Name, err)
		}
		err = scanWire(rows, t, cols, 0, func(v []any, _ []int64) error {
			out = append(out, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
