package platform_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// TestWritesQueuedTogether holds the writer with one write while others
// arrive, then lets them run: on SQLite they share one transaction (group
// commit), on PostgreSQL each has its own. Either way every write keeps
// its own outcome: a refused create, a write that fails after writing and
// one that panics leave nothing behind and take nothing with them; two
// updates of one row carry different versions, the later one winning; a
// write whose context ended before its turn writes nothing.
func TestWritesQueuedTogether(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		o := newOrg(t, p)
		shared := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "task", map[string]any{"subject": "shared", "ownerid": o.u1}))
		id := shared["taskid"].(string)
		errFailed := errors.New("failed after writing")
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		create := func(subject string) func() (outpost.Row, error) {
			return func() (outpost.Row, error) {
				return p.Create(ctx, sys, "task", map[string]any{"subject": subject, "ownerid": o.u1})
			}
		}
		update := func(subject string) func() (outpost.Row, error) {
			return func() (outpost.Row, error) {
				return p.Update(ctx, sys, "task", id, map[string]any{"subject": subject})
			}
		}
		failing := func(subject string, panics bool) func() (outpost.Row, error) {
			return func() (outpost.Row, error) {
				return nil, p.Write(ctx, func(w *platform.Writer) error {
					if _, err := w.Create(ctx, sys, "task", map[string]any{"subject": subject, "ownerid": o.u1}); err != nil {
						return err
					}
					if panics {
						panic(subject)
					}
					return errFailed
				})
			}
		}

		for _, withPanic := range []bool{false, true} {
			ops := []func() (outpost.Row, error){
				create("a"),
				update("first"),
				func() (outpost.Row, error) { // the id is taken
					return p.Create(ctx, sys, "task", map[string]any{"taskid": id, "subject": "duplicate", "ownerid": o.u1})
				},
				update("second"),
				failing("rolled back", false),
				func() (outpost.Row, error) {
					return p.Create(cancelled, sys, "task", map[string]any{"subject": "cancelled", "ownerid": o.u1})
				},
				create("b"),
			}
			if withPanic {
				ops = append(ops, failing("panicked", true))
			} else {
				// The last of a group fails: the counter must still end at
				// the last version a write kept.
				ops = append(ops, failing("last rolled back", false))
			}
			before := p.WriteStats()
			release, held := holdWriter(t, p)
			type result struct {
				row       outpost.Row
				err       error
				recovered any
			}
			results := make([]result, len(ops))
			queued := !p.DB().Dialect.IsPostgres()
			if !queued {
				// PostgreSQL writers do not wait for each other, except on
				// the counter row of an older database: the ops run in turn.
				release()
			}
			var wg sync.WaitGroup
			for i, op := range ops {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { results[i].recovered = recover() }()
					results[i].row, results[i].err = op()
				}()
				if !queued {
					wg.Wait()
					continue
				}
				// Queue them in order, so the updates run in order.
				testenv.WaitFor(t, 10*time.Second, func() error {
					if p.WriteStats().Waiting < i+1 {
						return errors.New("not queued yet")
					}
					return nil
				})
			}
			if queued {
				release()
			}
			wg.Wait()
			testenv.Must(t, held())

			for _, i := range []int{0, 1, 3, 6} {
				if results[i].err != nil || results[i].recovered != nil {
					t.Fatalf("panic %v: op %d: %v %v", withPanic, i, results[i].err, results[i].recovered)
				}
			}
			if outpost.ErrorCode(results[2].err) != outpost.CodeConflict {
				t.Fatalf("panic %v: a create under a taken id: %v, want a conflict", withPanic, results[2].err)
			}
			if !errors.Is(results[4].err, errFailed) || !errors.Is(results[5].err, context.Canceled) {
				t.Fatalf("panic %v: failing write: %v; cancelled one: %v", withPanic, results[4].err, results[5].err)
			}
			if withPanic && results[7].recovered != "panicked" {
				t.Fatalf("the panicking write recovered %v in its own goroutine, want its panic", results[7].recovered)
			}
			if !withPanic && !errors.Is(results[7].err, errFailed) {
				t.Fatalf("the failing last write: %v", results[7].err)
			}
			// The kept writes carry versions in the order they ran, and
			// every later write and token is past the last of them.
			var kept []int64
			for _, i := range []int{0, 1, 3, 6} {
				kept = append(kept, results[i].row["versionnumber"].(int64))
			}
			for k := 1; k < len(kept); k++ {
				if kept[k] <= kept[k-1] {
					t.Fatalf("panic %v: the kept writes carry versions %v", withPanic, kept)
				}
			}
			last := kept[len(kept)-1]
			if token := testenv.MustGet[int64](t)(p.DB().CurrentVersion(ctx, p.DB().Read)); token < last {
				t.Fatalf("panic %v: a reader's token is %d after writes at versions %v", withPanic, token, kept)
			}
			next := testenv.MustGet[outpost.Row](t)(create("after")())
			if v := next["versionnumber"].(int64); v <= last {
				t.Fatalf("panic %v: the write after the group has version %d, not past %v", withPanic, v, kept)
			}
			first, second := results[1].row["versionnumber"].(int64), results[3].row["versionnumber"].(int64)
			if first >= second {
				t.Fatalf("panic %v: the updates of one row carry versions %d then %d", withPanic, first, second)
			}
			got := testenv.MustGet[outpost.Row](t)(p.Get(ctx, sys, "task", id, nil))
			if got["subject"] != "second" || got["versionnumber"] != second {
				t.Fatalf("panic %v: the row is %v at version %v, want second at %d", withPanic, got["subject"], got["versionnumber"], second)
			}
			for _, subject := range []string{"rolled back", "cancelled", "duplicate", "panicked"} {
				page := testenv.MustGet[*platform.Page](t)(p.List(ctx, sys, "task", platform.Query{Filter: "subject eq '" + subject + "'"}))
				if len(page.Rows) != 0 {
					t.Fatalf("panic %v: %q was written", withPanic, subject)
				}
			}
			after := p.WriteStats()
			if p.DB().Dialect.IsPostgres() {
				continue
			}
			writes, txs := after.Writes-before.Writes, after.Transactions-before.Transactions
			if writes != uint64(len(ops)+2) { // and the holder and the write after
				t.Fatalf("panic %v: %d writes counted, want %d", withPanic, writes, len(ops)+1)
			}
			// The holder ran alone and the others waited for it: together
			// in one transaction, or each alone again after a panic.
			if want := uint64(3); !withPanic && txs != want {
				t.Fatalf("%d transactions for %d writes, want %d", txs, writes, want)
			}
		}
	})
}

// TestWriteAfterAPanic: a write that panics alone rolls back, its panic
// reaches its caller, and the next write gets the writer.
func TestWriteAfterAPanic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		o := newOrg(t, p)
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Errorf("recovered %v, want the write's panic", v)
				}
			}()
			_ = p.Write(ctx, func(w *platform.Writer) error {
				if _, err := w.Create(ctx, sys, "task", map[string]any{"subject": "before the panic", "ownerid": o.u1}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		next, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		testenv.MustGet[outpost.Row](t)(p.Create(next, sys, "task", map[string]any{"subject": "after", "ownerid": o.u1}))
		page := testenv.MustGet[*platform.Page](t)(p.List(ctx, sys, "task", platform.Query{Filter: "subject eq 'before the panic'"}))
		if len(page.Rows) != 0 {
			t.Fatal("the panicking write's row was kept")
		}
	})
}

// TestWriteAsAfterASecurityChangeInItsGroup: a write as a principal from
// memory that queues behind a security change runs after it, and on
// SQLite in the same group transaction, whose security log has not moved
// yet: it must still not run as the principal from before the change.
// The user's role is removed ahead of the user's create; the create is
// refused and leaves no row.
func TestWriteAsAfterASecurityChangeInItsGroup(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		o := newOrg(t, p)
		r, _, cached, v := accountCreator(t, p, o.u1)

		before := p.WriteStats()
		release, held := holdWriter(t, p)
		queued := !p.DB().Dialect.IsPostgres()
		if !queued {
			release() // PostgreSQL writers do not queue: the two run in turn
		}
		wait := func(n int) {
			if queued {
				testenv.WaitFor(t, 10*time.Second, func() error {
					if p.WriteStats().Waiting < n {
						return errors.New("not queued yet")
					}
					return nil
				})
			}
		}
		removed := make(chan error, 1)
		go func() { removed <- p.RemoveUserRole(ctx, sys, o.u1, r) }()
		wait(1)
		if !queued {
			testenv.Must(t, <-removed)
		}
		created := make(chan error, 1)
		go func() {
			created <- p.WriteAs(ctx, cached, v, func(w *platform.Writer, by *security.Principal) error {
				_, err := w.Create(ctx, by, "account", map[string]any{"name": "after the change"})
				return err
			})
		}()
		wait(2)
		if queued {
			release()
			testenv.Must(t, <-removed)
		}
		wantCode(t, <-created, outpost.CodeForbidden)
		testenv.Must(t, held())
		if queued {
			// The holder's transaction, the group of the two, and the
			// create again on its own with the principal read afresh.
			if got := p.WriteStats().Transactions - before.Transactions; got != 3 {
				t.Errorf("%d transactions, want 3: the role removal and the create did not share a group", got)
			}
		}
		if n := len(names(t, p, sys, "account", platform.Query{Filter: "name eq 'after the change'"})); n != 0 {
			t.Fatalf("the refused create left %d rows", n)
		}
	})
}
