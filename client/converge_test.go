package client_test

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

var seedFlag = flag.String("seed", "", "seeds for TestConvergence: a comma-separated list of seeds and ranges (1-500); default OUTPOST_SYNC_SEEDS, else "+defaultSeeds)

// defaultSeeds are the seeds of a plain test run (the race-detector run of
// CI among them); CI also runs seeds 1-250 per engine without the race
// detector (.ci/run). OUTPOST_SYNC_SEEDS and -seed choose others,
// OUTPOST_SYNC_REPEAT runs each seed that many times (the long sweep:
// make converge-sweep, docs/protocol.md).
const defaultSeeds = "1-5"

func convergenceSeeds(t *testing.T) []uint64 {
	src := *seedFlag
	if src == "" {
		src = os.Getenv("OUTPOST_SYNC_SEEDS")
	}
	if src == "" {
		src = defaultSeeds
	}
	var out []uint64
	for _, s := range strings.Split(src, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 64)
		}
		if err != nil || b < a {
			t.Fatalf("seeds %q: %q is neither a seed nor a range lo-hi", src, s)
		}
		for n := a; n <= b; n++ {
			out = append(out, n)
		}
	}
	return out
}

// convergenceRepeat is how often each seed runs (OUTPOST_SYNC_REPEAT,
// default once).
func convergenceRepeat(t *testing.T) int {
	s := os.Getenv("OUTPOST_SYNC_REPEAT")
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("OUTPOST_SYNC_REPEAT=%q: want a whole number from 1", s)
	}
	return n
}

// sweepLog appends a line per finished seed to the file named by
// OUTPOST_SYNC_PROGRESS, so that a long sweep shows its progress while it
// runs (go test shows parallel subtests' output only when the whole test
// ends) and a cut sweep still records which seeds passed.
type sweepLog struct {
	mu sync.Mutex
	f  *os.File
}

func openSweepLog(t *testing.T) *sweepLog {
	path := os.Getenv("OUTPOST_SYNC_PROGRESS")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("OUTPOST_SYNC_PROGRESS: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return &sweepLog{f: f}
}

func (l *sweepLog) done(name string, ok bool, took time.Duration) {
	if l == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "FAIL"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%s %s %s %.2fs\n", time.Now().UTC().Format(time.RFC3339), name, result, took.Seconds())
}

// TestConvergence runs seeded random histories: server writes, owner
// reassignments, team and role changes, profile republishes, conflict
// detection switched on and off, three devices editing offline and
// syncing at random points through injected failures (network down, a
// stream cut mid-body, an upload reply lost after the server applied it, a
// device killed mid-sync and reopened), work-order filters relative to the
// clock switched on and off, and the server clock jumping forward (across
// the now edge, midnight, weeks and months). After a final sync every
// device equals its download plan exactly, every offline change was applied
// or is a Sync Error, and none was applied twice.
//
// Everything a run does follows from its seed: the steps, the fault points
// (where a kill, a cut or a lost reply lands is counted in progress reports
// and bytes, never in time), the server clock (set, moved only by steps),
// and which rows steps pick (ordered by their names, which the run assigns,
// not by their random ids).
//
// Run one seed: go test ./client -run TestConvergence -seed 1234
func TestConvergence(t *testing.T) {
	repeat := convergenceRepeat(t)
	progress := openSweepLog(t)
	for _, e := range testenv.Engines(t) {
		for _, seed := range convergenceSeeds(t) {
			for r := range repeat {
				name := fmt.Sprintf("%s/seed=%d", e.Name, seed)
				if repeat > 1 {
					name += fmt.Sprintf("/run=%d", r)
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					ok, began := false, time.Now()
					defer func() {
						progress.done(name, ok, time.Since(began))
						if !ok {
							t.Logf("FAILING SEED: %d (engine %s); rerun with: go test ./client -run 'TestConvergence/%s/seed=%d' -seed %d", seed, e.Name, e.Name, seed, seed)
						}
					}()
					converge(t, e, seed, 60)
					ok = true
				})
			}
		}
	}
}

// clockConds are the work-order windows the convergence steps switch to;
// the work orders are scheduled on November 1 to 20, 2026.
var clockConds = []*filter.Cond{
	{Column: "scheduledstart", Op: filter.LastXDays, Values: []any{int64(2)}},
	{Column: "scheduledstart", Op: filter.NextXDays, Values: []any{int64(3)}},
	{Column: "scheduledstart", Op: filter.Today},
	{Column: "scheduledstart", Op: filter.ThisWeek},
	{Column: "scheduledstart", Op: filter.NextWeek},
	{Column: "scheduledstart", Op: filter.ThisMonth},
	{Column: "scheduledstart", Op: filter.LastXWeeks, Values: []any{int64(1)}},
}

// clockJumps are how far the server clock moves before a sync: no time,
// seconds (the now edge), hours (midnight) and days (weeks, months).
var clockJumps = []time.Duration{0, 0, 3 * time.Second, 10 * time.Minute, 5 * time.Hour, 13 * time.Hour, 26 * time.Hour, 3 * 24 * time.Hour}

// rowName is what convergence orders rows by: names the run assigns.
func rowName(table string, row map[string]any) string {
	key := map[string]string{"contact": "lastname"}[table]
	if key == "" {
		key = "name"
	}
	s, _ := row[key].(string)
	return s
}

type simDevice struct {
	user     int
	dir      string
	f        *faults
	c        *client.Client
	enqueued int
}

func converge(t *testing.T, e testenv.Engine, seed uint64, steps int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	w := newWorld(t, e, 4)
	// The clock starts late on a Saturday, a day before the first
	// scheduled work orders (November 1, 2026 is a Sunday), and moves only
	// in steps.
	w.clock.Set(time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(7200)) * time.Second))
	w.seed([]string{w.users[0], w.users[1], w.users[2], w.users[3], w.team}, 3, 3)
	sys := platform.System()
	devs := make([]*simDevice, 3)
	for i := range devs {
		d := &simDevice{user: i, dir: t.TempDir(), f: &faults{}}
		d.c = w.device(i, d.dir, d.f)
		devs[i] = d
	}
	// pick chooses a row by the order of the names the run gave its rows,
	// so a seed picks the same rows whatever their random ids.
	pick := func(table string) string {
		page, err := w.p.List(ctx, sys, table, platform.Query{PageSize: platform.MaxPageSize})
		testenv.Must(t, err)
		if len(page.Rows) == 0 {
			return ""
		}
		slices.SortFunc(page.Rows, func(a, b outpost.Row) int { return strings.Compare(rowName(table, a), rowName(table, b)) })
		return page.Rows[rng.IntN(len(page.Rows))][table+"id"].(string)
	}
	owners := append(slices.Clone(w.users), w.team)
	// who names a user (u0…) or the team in the trace.
	who := func(id string) string {
		if i := slices.Index(w.users, id); i >= 0 {
			return fmt.Sprintf("u%d", i)
		}
		return "team"
	}
	marker := 0
	for step := range steps {
		// trace writes what the step does, with -v: a failing seed's
		// history reads step by step.
		trace := func(format string, args ...any) {
			if testing.Verbose() {
				t.Logf("step %d: "+format, append([]any{step}, args...)...)
			}
		}
		switch r := rng.IntN(100); {
		case r < 22: // server data writes
			id := pick("workorder")
			switch {
			case id == "" || rng.IntN(4) == 0:
				owner := owners[rng.IntN(len(owners))]
				trace("server seeds rows of %s", who(owner))
				w.seed([]string{owner}, 1, 1+rng.IntN(2))
			case rng.IntN(5) == 0:
				trace("server deletes work order %s", id)
				err := w.p.Delete(ctx, sys, "workorder", id)
				testenv.Must(t, err)
			default:
				trace("server updates work order %s", id)
				marker++
				_, err := w.p.Update(ctx, sys, "workorder", id, map[string]any{"description": fmt.Sprintf("server %d", marker), "completed": rng.IntN(2) == 0})
				testenv.Must(t, err)
			}
		case r < 32: // owner reassignments
			table := []string{"workorder", "account", "contact"}[rng.IntN(3)]
			if id := pick(table); id != "" {
				owner := owners[rng.IntN(len(owners))]
				trace("server assigns %s %s to %s", table, id, who(owner))
				_, err := w.p.Assign(ctx, sys, table, id, owner)
				testenv.Must(t, err)
			}
		case r < 37: // team membership
			u := w.users[rng.IntN(len(w.users))]
			if rng.IntN(2) == 0 {
				trace("%s joins the team", who(u))
				testenv.Must(t, w.p.AddTeamMember(ctx, sys, w.team, u))
			} else {
				trace("%s leaves the team", who(u))
				testenv.Must(t, w.p.RemoveTeamMember(ctx, sys, w.team, u))
			}
		case r < 41: // roles
			u := w.users[rng.IntN(3)]
			role := []string{w.role, w.wide}[rng.IntN(2)]
			if rng.IntN(3) == 0 {
				trace("%s loses role %s", who(u), role)
				testenv.Must(t, w.p.RemoveUserRole(ctx, sys, u, role))
			} else {
				trace("%s gets role %s", who(u), role)
				testenv.Must(t, w.p.AssignUserRole(ctx, sys, u, role))
			}
		case r < 43: // republish the profile
			trace("the profile is republished")
			w.planner.version.Add(1)
		case r < 44: // a work-order window relative to the clock, or none
			if rng.IntN(3) == 0 {
				trace("work orders have no clock window")
				w.planner.when.Store(nil)
			} else {
				c := clockConds[rng.IntN(len(clockConds))]
				trace("work orders in the window %s %v", c.Op, c.Values)
				w.planner.when.Store(c)
			}
		case r < 46:
			detect := rng.IntN(2) == 0
			trace("conflict detection %v", detect)
			testenv.Must(t, w.eng.SetSettings(ctx, sys, wire.Settings{ConflictDetection: detect}))
		case r < 72: // offline edits
			d := devs[rng.IntN(len(devs))]
			d.f.set(func(f *faults) { f.down = true })
			trace("device %d edits offline", d.user)
			if deviceEdit(t, rng, d, &marker) {
				d.enqueued++
			}
		default: // a sync, maybe with a fault; the clock moves first
			jump := clockJumps[rng.IntN(len(clockJumps))]
			w.clock.Add(jump)
			d := devs[rng.IntN(len(devs))]
			trace("the clock moves %v to %v", jump, w.clock.Now().Format(time.RFC3339))
			syncWithFault(t, w, rng, d, step)
		}
	}
	// Final: faults off, every device syncs (uploading its queue), then
	// every device syncs again to download the others' uploads.
	for pass := range 2 {
		for _, d := range devs {
			d.f.set(func(f *faults) { f.down, f.cutAfter, f.loseReply = false, 0, false })
			if _, err := d.c.Sync(ctx, client.SyncOptions{}); err != nil {
				t.Fatalf("final sync %d of device %d: %v", pass, d.user, err)
			}
		}
	}
	for _, d := range devs {
		w.checkEqual(t, d.user, d.c)
		checkExactlyOnce(t, w, d)
		rows := 0
		for _, table := range d.c.Tables() {
			r, err := d.c.Rows(ctx, table)
			testenv.Must(t, err)
			rows += len(r)
		}
		le, err := d.c.LocalErrors(ctx)
		testenv.Must(t, err)
		t.Logf("device %d: %d changes queued, %d rejected, %d rows held", d.user, d.enqueued, len(le), rows)
	}
}

// deviceEdit makes one random offline change; it reports whether the
// change was queued.
func deviceEdit(t *testing.T, rng *rand.Rand, d *simDevice, marker *int) bool {
	ctx := context.Background()
	rows, err := d.c.Rows(ctx, "workorder")
	testenv.Must(t, err)
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	byName := func(rows map[string]map[string]any, table string) func(a, b string) int {
		return func(a, b string) int {
			return cmp.Or(strings.Compare(rowName(table, rows[a]), rowName(table, rows[b])), strings.Compare(a, b))
		}
	}
	slices.SortFunc(ids, byName(rows, "workorder"))
	*marker++
	switch n := rng.IntN(10); {
	case n < 3 || len(ids) == 0:
		accs, err := d.c.Rows(ctx, "account")
		testenv.Must(t, err)
		vals := map[string]any{"name": fmt.Sprintf("device %d edit %d", d.user, *marker), "priority": int64(1 + rng.IntN(3))}
		if len(accs) > 0 {
			aids := make([]string, 0, len(accs))
			for id := range accs {
				aids = append(aids, id)
			}
			slices.SortFunc(aids, byName(accs, "account"))
			vals["customerid"] = aids[rng.IntN(len(aids))]
		}
		_, err = d.c.Create(ctx, "workorder", vals)
		testenv.Must(t, err)
	case n < 9:
		id := ids[rng.IntN(len(ids))]
		if testing.Verbose() {
			t.Logf("device %d updates work order %s offline", d.user, id)
		}
		err := d.c.Update(ctx, "workorder", id, map[string]any{"description": fmt.Sprintf("device %d edit %d", d.user, *marker)})
		testenv.Must(t, err)
	default:
		id := ids[rng.IntN(len(ids))]
		if testing.Verbose() {
			t.Logf("device %d deletes work order %s offline", d.user, id)
		}
		testenv.Must(t, d.c.Delete(ctx, "workorder", id))
	}
	return true
}

func syncWithFault(t *testing.T, w *world, rng *rand.Rand, d *simDevice, step int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.f.set(func(f *faults) { f.down, f.cutAfter, f.loseReply = false, 0, false })
	opts := client.SyncOptions{Full: rng.IntN(10) == 0}
	kill := false
	switch rng.IntN(6) {
	case 0:
		d.f.set(func(f *faults) { f.down = true })
	case 1:
		d.f.set(func(f *faults) { f.cutAfter = int64(50 + rng.IntN(4000)) })
	case 2:
		d.f.set(func(f *faults) { f.loseReply = true })
	case 3: // killed mid-sync: cancel after a few progress reports, reopen
		kill = true
		n, after := 0, 1+rng.IntN(4)
		opts.OnProgress = func(client.Progress) {
			if n++; n == after {
				cancel()
			}
		}
	}
	res, err := d.c.Sync(ctx, opts)
	if testing.Verbose() {
		t.Logf("step %d: device %d sync (kill %v): %+v err=%v", step, d.user, kill, res, err)
	}
	if err != nil && !errors.Is(err, client.ErrUnreachable) && !errors.Is(err, context.Canceled) {
		t.Fatalf("step %d: sync of device %d: %v", step, d.user, err)
	}
	if kill {
		testenv.Must(t, d.c.Close())
		d.c = w.device(d.user, d.dir, d.f)
	}
}

// checkExactlyOnce: the server applied every queued change of d exactly
// once (one result per sequence, sequences 1..n), every rejection has its
// Sync Error, and no create was applied twice.
func checkExactlyOnce(t *testing.T, w *world, d *simDevice) {
	ctx := context.Background()
	st, err := d.c.Status(ctx)
	testenv.Must(t, err)
	if st.PendingUploads != 0 {
		t.Fatalf("device %d still has %d queued changes", d.user, st.PendingUploads)
	}
	db := w.p.DB()
	ph := db.Dialect.Placeholder
	var n, maxSeq, rejected, exists int64
	testenv.Must(t, db.Read.QueryRowContext(ctx, `SELECT coalesce(sum(coalesce(lastseq, seq) - seq + 1), 0), coalesce(max(coalesce(lastseq, seq)), 0) FROM outpost_syncresult WHERE deviceid = `+ph(1), d.c.DeviceID()).Scan(&n, &maxSeq))
	if n != int64(d.enqueued) || maxSeq != int64(d.enqueued) {
		t.Fatalf("device %d queued %d changes; the server recorded %d results up to sequence %d", d.user, d.enqueued, n, maxSeq)
	}
	testenv.Must(t, db.Read.QueryRowContext(ctx, `SELECT count(*) FROM outpost_syncresult WHERE status = 'rejected' AND deviceid = `+ph(1), d.c.DeviceID()).Scan(&rejected))
	testenv.Must(t, db.Read.QueryRowContext(ctx, `SELECT count(*) FROM outpost_syncresult WHERE errortype = 2 AND deviceid = `+ph(1), d.c.DeviceID()).Scan(&exists))
	var errorsRows int64
	testenv.Must(t, db.Read.QueryRowContext(ctx, `SELECT count(*) FROM syncerror WHERE requestdata LIKE `+ph(1), `%"`+d.c.DeviceID()+`"%`).Scan(&errorsRows))
	if errorsRows != rejected {
		t.Fatalf("device %d: %d rejected changes but %d Sync Error rows", d.user, rejected, errorsRows)
	}
	if exists != 0 {
		t.Fatalf("device %d: %d creates were rejected as already existing: applied twice", d.user, exists)
	}
	local, err := d.c.LocalErrors(ctx)
	testenv.Must(t, err)
	if int64(len(local)) != rejected {
		t.Fatalf("device %d knows %d sync errors, the server has %d", d.user, len(local), rejected)
	}
}
