package bench

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// queueUpdates queues k offline updates of ids on c.
func queueUpdates(ctx context.Context, c *client.Client, ids []string, k int, tag string) error {
	for i := range k {
		if err := c.Update(ctx, "workorder", ids[i%len(ids)], map[string]any{"description": fmt.Sprintf("%s %d", tag, i), "priority": int64(1 + i%3)}); err != nil {
			return fmt.Errorf("queue update %d: %w", i, err)
		}
	}
	return nil
}

// uploadPhase syncs c and returns the time of its upload phase and the
// sync's result. The phase runs from the start of the sync (the device
// reads its queue and sends the first batch) to the device's last "upload"
// progress report, which it makes once it has recorded the last batch's
// results; the delta that follows in the same sync is not counted.
func uploadPhase(ctx context.Context, c *client.Client) (time.Duration, *client.SyncResult, error) {
	start := time.Now()
	var up time.Duration
	res, err := c.Sync(ctx, client.SyncOptions{OnProgress: func(p client.Progress) {
		if p.Phase == "upload" {
			up = time.Since(start)
		}
	}})
	if up == 0 {
		up = time.Since(start)
	}
	return up, res, err
}

// upload times k queued changes from one device, against the baseline of
// the same updates as plain prepared UPDATEs in one server transaction;
// then devs devices upload per changes each at once; then k creates and
// the k deletes of those rows from one device.
func upload(ctx context.Context, r *recorder, e *env, c *client.Client, k int, devs []*client.Client, per int) error {
	if err := queueUpdates(ctx, c, e.own, k, "offline"); err != nil {
		return err
	}
	up, res, err := uploadPhase(ctx, c)
	if err != nil {
		return err
	}
	if res.Uploaded != k {
		return fmt.Errorf("uploaded %d of %d changes (%d rejected)", res.Uploaded, k, res.Rejected)
	}
	base, err := rawUpdates(ctx, e.p.DB(), e.own, k)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	rate := float64(k) / up.Seconds()
	r.add("upload", fmt.Sprintf("%d changes from one device", k), rate, "changes/s", base, "plain UPDATEs, one tx", ">=", 20000)
	if err := uploadMany(ctx, r, e, devs, per, base); err != nil {
		return err
	}
	// Last: the creates and deletes leave tombstones that the other
	// devices' deltas would otherwise carry.
	return uploadCreatesDeletes(ctx, r, e, c, k)
}

// uploadMany times devs devices each uploading per queued updates of their
// own rows at once, as whole syncs, against base (plain UPDATEs).
func uploadMany(ctx context.Context, r *recorder, e *env, devs []*client.Client, per int, base float64) error {
	for i, d := range devs {
		u := e.small[i%len(e.small)]
		if err := queueUpdates(ctx, d, u.wos, per, fmt.Sprintf("dev%d", i)); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(devs))
	applied := make([]int, len(devs))
	start := time.Now()
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := d.Sync(ctx, client.SyncOptions{})
			errs[i] = err
			if res != nil {
				applied[i] = res.Uploaded
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	total := 0
	for i := range devs {
		if errs[i] != nil {
			return fmt.Errorf("device %d: %w", i, errs[i])
		}
		total += applied[i]
	}
	if total != per*len(devs) {
		return fmt.Errorf("applied %d of %d changes", total, per*len(devs))
	}
	r.add("upload", fmt.Sprintf("%d devices x %d changes at once (whole syncs)", len(devs), per), float64(total)/el.Seconds(), "changes/s", base, "plain UPDATEs, one tx", "", 0)
	return nil
}

// rawUpdates is the physical limit of upload: the same k updates as plain
// prepared UPDATE statements in one transaction, without checks.
func rawUpdates(ctx context.Context, db *store.DB, ids []string, k int) (float64, error) {
	d := db.Dialect
	// The statement is prepared once and bound per row: the builder
	// numbers its placeholders, the arguments come with each execution.
	q := sqlgen.NewBuilder(d).SQL(`UPDATE workorder SET description = `).Arg(nil).SQL(`, priority = `).Arg(nil).SQL(`, modifiedon = `).Arg(nil).
		SQL(`, versionnumber = `).Arg(nil).SQL(` WHERE workorderid = `).Arg(nil).String()
	start := time.Now()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		v, err := db.NextVersion(ctx, tx)
		if err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer st.Close()
		now := d.TimeArg(time.Now().UTC())
		for i := range k {
			if _, err := st.ExecContext(ctx, fmt.Sprintf("raw %d", i), int64(1+i%3), now, v, ids[i%len(ids)]); err != nil {
				return err
			}
		}
		return nil
	})
	return float64(k) / time.Since(start).Seconds(), err
}

// uploadCreatesDeletes times k offline creates from one device, then the
// deletes of the same rows, against the same rows as plain INSERTs, then
// plain DELETEs, each in one server transaction.
func uploadCreatesDeletes(ctx context.Context, r *recorder, e *env, c *client.Client, k int) error {
	ids := make([]string, k)
	for i := range k {
		id, err := c.Create(ctx, "workorder", map[string]any{"name": fmt.Sprintf("OFF-%d", i), "description": "Inspect the unit and replace worn parts.", "priority": int64(1 + i%3)})
		if err != nil {
			return fmt.Errorf("queue create %d: %w", i, err)
		}
		ids[i] = id
	}
	created, res, err := uploadPhase(ctx, c)
	if err != nil {
		return err
	}
	if res.Uploaded != k {
		return fmt.Errorf("uploaded %d of %d creates (%d rejected)", res.Uploaded, k, res.Rejected)
	}
	for i, id := range ids {
		if err := c.Delete(ctx, "workorder", id); err != nil {
			return fmt.Errorf("queue delete %d: %w", i, err)
		}
	}
	deleted, res, err := uploadPhase(ctx, c)
	if err != nil {
		return err
	}
	if res.Uploaded != k {
		return fmt.Errorf("uploaded %d of %d deletes (%d rejected)", res.Uploaded, k, res.Rejected)
	}
	ins, del, err := rawInsertsDeletes(ctx, e.p.DB(), k)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	r.add("upload", fmt.Sprintf("%d creates from one device", k), float64(k)/created.Seconds(), "changes/s", ins, "plain INSERTs, one tx", ">=", 20000)
	r.add("upload", fmt.Sprintf("%d deletes from one device", k), float64(k)/deleted.Seconds(), "changes/s", del, "plain DELETEs, one tx", ">=", 20000)
	return nil
}

// rawInsertsDeletes is the physical limit of uploaded creates and deletes:
// k rows of the device's columns inserted with prepared single-row INSERTs
// in one transaction into a table of the same columns, then deleted with
// prepared single-row DELETEs in another.
func rawInsertsDeletes(ctx context.Context, db *store.DB, k int) (ins, del float64, err error) {
	d := db.Dialect
	if err := db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE benchupload (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, priority INTEGER, versionnumber BIGINT NOT NULL)`)
		return err
	}); err != nil {
		return 0, 0, fmt.Errorf("create the baseline table: %w", err)
	}
	ids := make([]string, k)
	for i := range ids {
		ids[i] = outpost.NewID()
	}
	timed := func(q string, args func(i int) []any) (float64, error) {
		start := time.Now()
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			defer st.Close()
			for i := range k {
				if _, err := st.ExecContext(ctx, args(i)...); err != nil {
					return err
				}
			}
			return nil
		})
		return float64(k) / time.Since(start).Seconds(), err
	}
	ins, err = timed(`INSERT INTO benchupload (id, name, description, priority, versionnumber) VALUES (`+d.Placeholders(1, 5)+`)`,
		func(i int) []any {
			return []any{ids[i], fmt.Sprintf("RAW-%d", i), "Inspect the unit and replace worn parts.", int64(1 + i%3), int64(i)}
		})
	if err != nil {
		return 0, 0, err
	}
	del, err = timed(sqlgen.NewBuilder(d).SQL(`DELETE FROM benchupload WHERE id = `).Arg(nil).String(), func(i int) []any { return []any{ids[i]} })
	return ins, del, err
}
