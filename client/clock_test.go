package client_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// clockSteps is the server clock of TestClockWindowsMoveInDeltas, one
// delta each: a few seconds (the now edge), midnight into a Sunday (day
// and week), and the last seconds of a year into the next (day, month and
// year; January 1, 2027 is a Friday).
var clockSteps = []time.Time{
	time.Date(2026, 12, 26, 23, 59, 0, 0, time.UTC),
	time.Date(2026, 12, 26, 23, 59, 40, 0, time.UTC),
	time.Date(2026, 12, 27, 0, 0, 30, 0, time.UTC),
	time.Date(2026, 12, 31, 23, 59, 50, 0, time.UTC),
	time.Date(2027, 1, 1, 0, 0, 10, 0, time.UTC),
	time.Date(2027, 1, 3, 0, 0, 5, 0, time.UTC),
}

// TestClockWindowsMoveInDeltas: for every date operator relative to the
// clock, work orders sit on each edge of the operator's window at each
// step of the clock (a millisecond before, on and after it); the clock
// moves and the device syncs a delta. After each delta the device equals
// the server's plan — work orders that entered or left their window, and
// the accounts and contacts that come only through them — without a
// checksum reconciliation, and over the steps rows both entered and left.
func TestClockWindowsMoveInDeltas(t *testing.T) {
	ops := []struct {
		op filter.Op
		n  int64
	}{
		{filter.Today, 0}, {filter.Yesterday, 0}, {filter.Tomorrow, 0},
		{filter.LastXDays, 2}, {filter.NextXDays, 2}, {filter.LastXWeeks, 1}, {filter.NextXWeeks, 1},
		{filter.LastXMonths, 1}, {filter.NextXMonths, 1}, {filter.LastXYears, 1}, {filter.NextXYears, 1},
		{filter.ThisWeek, 0}, {filter.LastWeek, 0}, {filter.NextWeek, 0},
		{filter.ThisMonth, 0}, {filter.LastMonth, 0}, {filter.NextMonth, 0},
		{filter.ThisYear, 0}, {filter.LastYear, 0}, {filter.NextYear, 0},
	}
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		for _, o := range ops {
			t.Run(string(o.op), func(t *testing.T) {
				cond := &filter.Cond{Column: "scheduledstart", Op: o.op}
				if o.n > 0 {
					cond.Values = []any{o.n}
				}
				clockWindow(t, e, cond)
			})
		}
	})
}

func clockWindow(t *testing.T, e testenv.Engine, cond *filter.Cond) {
	ctx := context.Background()
	w := newWorld(t, e, 1)
	w.clock.Set(clockSteps[0])
	w.planner.when.Store(cond)
	w.planner.linkOnly.Store(true)

	// Dates on every edge of the window at every step.
	var dates []time.Time
	for _, now := range clockSteps {
		start, end, err := filter.DateRange(cond.Op, cond.Values, &filter.Env{Now: func() time.Time { return now }})
		testenv.Must(t, err)
		for _, edge := range []time.Time{start, end} {
			if edge.IsZero() {
				continue
			}
			for _, d := range []time.Duration{-time.Millisecond, 0, time.Millisecond} {
				if x := edge.Add(d); !slices.ContainsFunc(dates, x.Equal) {
					dates = append(dates, x)
				}
			}
		}
	}
	sys := platform.System()
	testenv.Must(t, w.p.Write(ctx, func(wr *platform.Writer) error {
		for i, d := range dates {
			acc, err := wr.Create(ctx, sys, "account", map[string]any{"name": fmt.Sprintf("Account %d", i), "ownerid": w.users[0]})
			if err != nil {
				return err
			}
			id := acc["accountid"].(string)
			if _, err := wr.Create(ctx, sys, "contact", map[string]any{"lastname": "Contact", "parentcustomerid": id, "ownerid": w.users[0]}); err != nil {
				return err
			}
			if _, err := wr.Create(ctx, sys, "workorder", map[string]any{"name": "WO", "customerid": id, "ownerid": w.users[0], "scheduledstart": d}); err != nil {
				return err
			}
		}
		return nil
	}))

	dev := w.device(0, t.TempDir(), &faults{})
	_, err := dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	w.checkEqual(t, 0, dev)
	entered, left := 0, 0
	for _, now := range clockSteps[1:] {
		w.clock.Set(now)
		res, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		if len(res.Reconciled) > 0 {
			t.Fatalf("at %s the delta reconciled by checksums: %v", now, res.Reconciled)
		}
		t.Logf("at %s: %+v", now, res)
		w.checkEqual(t, 0, dev)
		entered, left = entered+res.Upserted, left+res.Removed
	}
	t.Logf("%s: %d rows on edges, %d upserts and %d removals over %d deltas", cond.Op, len(dates), entered, left, len(clockSteps)-1)
	if entered == 0 || left == 0 {
		t.Fatalf("%s: over the steps %d rows entered and %d left; the steps must cross the window's edges both ways", cond.Op, entered, left)
	}
}
