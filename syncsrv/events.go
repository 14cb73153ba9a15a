package syncsrv

import (
	"slices"
	"sync"
)

// hub fans change hints out to connected devices. Hints are only hints: a
// device that misses one still syncs on its interval, so a full channel
// merges hints instead of blocking the committing writer.
type hub struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
	// closed is closed by Engine.CloseStreams: every stream ends.
	closed    chan struct{}
	closeOnce sync.Once
}

type subscription struct {
	mu     sync.Mutex
	tables map[string]bool
	ready  chan struct{} // holds one token when tables is non-empty
}

func newHub() *hub { return &hub{subs: map[*subscription]struct{}{}, closed: make(chan struct{})} }

func (h *hub) publish(tables []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		for _, t := range tables {
			s.tables[t] = true
		}
		s.mu.Unlock()
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}

// Subscription receives change hints; see Engine.Subscribe.
type Subscription struct {
	s *subscription
	h *hub
}

// Subscribe registers for change hints: Ready is signalled after commits,
// Take returns the tables changed since the last Take. Close unregisters.
func (e *Engine) Subscribe() *Subscription {
	s := &subscription{tables: map[string]bool{}, ready: make(chan struct{}, 1)}
	e.hub.mu.Lock()
	e.hub.subs[s] = struct{}{}
	e.hub.mu.Unlock()
	return &Subscription{s: s, h: e.hub}
}

// Done is closed when the server shuts down: the stream must end (the
// device reconnects, to another server if there is one).
func (s *Subscription) Done() <-chan struct{} { return s.h.closed }

// CloseStreams ends every change-hint stream, now and for any subscription
// made later: a server calls it when it starts shutting down, since a
// graceful shutdown otherwise waits for streams that never end.
func (e *Engine) CloseStreams() { e.hub.closeOnce.Do(func() { close(e.hub.closed) }) }

// Ready is signalled when hints are waiting.
func (s *Subscription) Ready() <-chan struct{} { return s.s.ready }

// Take returns and clears the tables hinted since the last call, sorted.
func (s *Subscription) Take() []string {
	s.s.mu.Lock()
	defer s.s.mu.Unlock()
	out := make([]string, 0, len(s.s.tables))
	for t := range s.s.tables {
		out = append(out, t)
	}
	clear(s.s.tables)
	slices.Sort(out)
	return out
}

// Close unregisters the subscription.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	delete(s.h.subs, s.s)
	s.h.mu.Unlock()
}
