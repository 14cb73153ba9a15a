package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit on SQLite. SQLite has one writer, so concurrent write
// requests queue for it, and about half of the time each one holds the
// writer goes to beginning and committing its transaction (taking the
// write lock, appending the changed pages to the write-ahead log). While
// one transaction runs, the writes that arrive queue here instead; the
// next of them to run takes every write then waiting (up to maxGroup) into
// one transaction, each in a savepoint of its own with a version of its
// own, and the group commits once. A write that fails rolls back to its
// savepoint and reports its own error; the others commit. A write that
// arrives when no transaction runs runs alone at once, as before.
//
// Each member takes its own version, so two writes of one row in a group
// still carry different versions and an ETag read from the first no
// longer matches after the second. Readers never see part of a group: its
// versions all commit at once, so a token is below the group's first
// version or at least its last.
//
// PostgreSQL writers do not queue for each other (transaction-id
// versions), so there each write keeps its own transaction.

// maxGroup is the most writes one group transaction takes.
const maxGroup = 32

// writeGroup is the queue of writes waiting for the writer.
type writeGroup struct {
	mu      sync.Mutex
	busy    bool // a transaction of writes is running
	waiting []*groupMember
	// transactions and writes count what groups ran (WriteStats).
	transactions, writes atomic.Uint64
}

// WriteStats tells how Write's transactions on SQLite were grouped.
type WriteStats struct {
	// Transactions and Writes count the transactions Write ran and the
	// writes they held: Writes/Transactions is the mean group size.
	Transactions, Writes uint64
	// Waiting is the number of writes queued for the writer now.
	Waiting int
}

// WriteStats returns the counts of group commit so far (zero on
// PostgreSQL, where every Write has its own transaction).
func (p *Platform) WriteStats() WriteStats {
	g := &p.group
	g.mu.Lock()
	n := len(g.waiting)
	g.mu.Unlock()
	return WriteStats{Transactions: g.transactions.Load(), Writes: g.writes.Load(), Waiting: n}
}

// groupMember is one write waiting for, or taking part in, a group.
type groupMember struct {
	ctx  context.Context
	fn   func(w *Writer) error
	lead chan struct{} // closed when this member is to run the next group
	done chan groupResult
}

type groupResult struct {
	err       error
	panicked  bool
	recovered any
}

// groupWrite runs fn as Write does, in a group transaction with the writes
// that wait beside it.
func (p *Platform) groupWrite(ctx context.Context, fn func(w *Writer) error) error {
	m := &groupMember{ctx: ctx, fn: fn, lead: make(chan struct{}), done: make(chan groupResult, 1)}
	g := &p.group
	g.mu.Lock()
	if g.busy {
		g.waiting = append(g.waiting, m)
		g.mu.Unlock()
		select {
		case r := <-m.done:
			return r.unwrap()
		case <-m.lead:
		}
		g.mu.Lock()
	} else {
		g.busy = true
		g.waiting = append(g.waiting, m)
	}
	// This member leads: it is first in the queue.
	n := min(len(g.waiting), maxGroup)
	batch := append([]*groupMember(nil), g.waiting[:n]...)
	g.waiting = append(g.waiting[:0], g.waiting[n:]...)
	g.mu.Unlock()
	defer p.handOff() // even when fn panics, the next write gets the writer

	if len(batch) == 1 {
		// Alone, in its own goroutine: a panic keeps its own stack.
		g.writes.Add(1)
		g.transactions.Add(1)
		return p.write(ctx, fn, nil)
	}
	p.runGroup(batch)
	return (<-m.done).unwrap()
}

// handOff passes the writer to the first write waiting, or marks it free.
func (p *Platform) handOff() {
	g := &p.group
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) > 0 {
		close(g.waiting[0].lead)
	} else {
		g.busy = false
	}
}

// runGroup runs batch, two writes or more, in one transaction and hands
// each member its result.
// When the group's transaction itself fails (its begin or commit, or a
// member leaving it unusable), nothing of it was written, and each member
// runs again alone, which gives each its own result.
func (p *Platform) runGroup(batch []*groupMember) {
	p.group.writes.Add(uint64(len(batch)))
	ctx := context.WithoutCancel(batch[0].ctx)
	results := make([]groupResult, len(batch))
	p.group.transactions.Add(1)
	err := p.write(ctx, func(w *Writer) error {
		// The transaction took the first version from the counter; the
		// members after the first take the next ones in memory (the group
		// holds SQLite's one writer, so no other transaction takes any
		// meanwhile), and the counter moves to the last one kept before
		// the commit.
		first := w.version
		top := first // the highest version a member kept
		for i, m := range batch {
			if err := m.ctx.Err(); err != nil {
				results[i] = groupResult{err: err}
				continue
			}
			results[i] = memberRun(func() error {
				return w.Savepoint(ctx, func() error {
					if i > 0 {
						w.version = top + 1
					}
					return m.fn(w)
				})
			})
			if results[i].panicked {
				// Its savepoint is still open: give the group up, and
				// let it panic again alone.
				return errGroupPanicked
			}
			if results[i].err == nil {
				top = w.version
			} else {
				w.version = top // its rows were rolled back with it
			}
		}
		if top > first {
			return p.db.AdvanceVersion(ctx, w.tx, top)
		}
		return nil
	}, nil)
	if err != nil {
		for _, m := range batch {
			m.done <- p.runAlone(m)
		}
		return
	}
	for i, m := range batch {
		m.done <- results[i]
	}
}

var errGroupPanicked = errors.New("a write of the group panicked")

// runAlone runs m in a transaction of its own.
func (p *Platform) runAlone(m *groupMember) groupResult {
	p.group.transactions.Add(1)
	return memberRun(func() error { return p.write(m.ctx, m.fn, nil) })
}

// memberRun runs f, turning a panic into a result that panics again in the
// member's own goroutine.
func memberRun(f func() error) (r groupResult) {
	defer func() {
		if v := recover(); v != nil {
			r = groupResult{panicked: true, recovered: v, err: fmt.Errorf("write panicked: %v", v)}
		}
	}()
	return groupResult{err: f()}
}

func (r groupResult) unwrap() error {
	if r.panicked {
		panic(r.recovered)
	}
	return r.err
}
