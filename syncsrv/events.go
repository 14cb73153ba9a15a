package syncsrv

import (
	"context"
	"slices"
	"sync"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
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

// Subscription receives the change hints of one device; see
// Engine.Subscribe.
type Subscription struct {
	s        *subscription
	e        *Engine
	by       *security.Principal
	deviceID string
	// credential, when set, fails once the credential the stream was
	// opened with is no longer valid (revoked, expired).
	credential func(context.Context) error
	release    []func()

	mu sync.Mutex
	// relevant are the tables of the device's plan, those its filters
	// depend on and those the plan is read from (a republished profile):
	// hints name only these.
	relevant map[string]bool
}

// Subscribe registers device deviceID of by for change hints: Ready is
// signalled after commits, Take returns the tables of the device's plan
// changed since the last Take. It fails as a sync request does when by may
// not sync the device (another user's device, the app's access lost), and
// with CodeTooMany when by or the device holds EventStreamsPerUser or
// EventStreamsPerDevice subscriptions already. credential, when not nil,
// checks the caller's credential: Check fails when it does. Close
// unregisters.
func (e *Engine) Subscribe(ctx context.Context, by *security.Principal, deviceID string, credential func(context.Context) error) (*Subscription, error) {
	sub := &Subscription{e: e, by: by, deviceID: deviceID, credential: credential}
	if err := sub.Check(ctx); err != nil {
		return nil, err
	}
	rel, ok := e.eventsPerUser.take(by.UserID)
	if !ok {
		return nil, tooMany("change streams", e.opts.EventStreamsPerUser, "this user")
	}
	sub.release = append(sub.release, rel)
	if rel, ok = e.eventsPerDevice.take(deviceID); !ok {
		sub.release[0]()
		return nil, tooMany("change streams", e.opts.EventStreamsPerDevice, "this device")
	}
	sub.release = append(sub.release, rel)
	sub.s = &subscription{tables: map[string]bool{}, ready: make(chan struct{}, 1)}
	e.hub.mu.Lock()
	e.hub.subs[sub.s] = struct{}{}
	e.hub.mu.Unlock()
	return sub, nil
}

// Check fails when the subscription's credential is no longer valid (see
// Subscribe) or its user may no longer sync its device (the user
// disabled, the device re-registered by another user, the app's access
// lost), and refreshes the tables its hints name.
func (s *Subscription) Check(ctx context.Context) error {
	if s.credential != nil {
		if err := s.credential(ctx); err != nil {
			return err
		}
	}
	return s.e.read(ctx, s.by, s.deviceID, func(ss *session) error {
		rel := make(map[string]bool, len(ss.view.probeTables))
		for _, t := range ss.view.probeTables {
			rel[t] = true
		}
		s.mu.Lock()
		s.relevant = rel
		s.mu.Unlock()
		return nil
	})
}

// Done is closed when the server shuts down: the stream must end (the
// device reconnects, to another server if there is one).
func (s *Subscription) Done() <-chan struct{} { return s.e.hub.closed }

// CloseStreams ends every change-hint stream, now and for any subscription
// made later: a server calls it when it starts shutting down, since a
// graceful shutdown otherwise waits for streams that never end.
func (e *Engine) CloseStreams() { e.hub.closeOnce.Do(func() { close(e.hub.closed) }) }

// Ready is signalled when hints are waiting.
func (s *Subscription) Ready() <-chan struct{} { return s.s.ready }

// Take returns and clears the tables of the device's plan hinted since
// the last call, sorted; empty when the commits touched none of them. When
// a commit changed who may read what (a security table, a profile or an
// app), it checks the device's access first and fails when it was lost.
func (s *Subscription) Take(ctx context.Context) ([]string, error) {
	s.s.mu.Lock()
	changed := make([]string, 0, len(s.s.tables))
	for t := range s.s.tables {
		changed = append(changed, t)
	}
	clear(s.s.tables)
	s.s.mu.Unlock()
	if slices.ContainsFunc(changed, s.e.movesAccess) {
		if err := s.Check(ctx); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := changed[:0]
	for _, t := range changed {
		if s.relevant[t] {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// movesAccess reports whether a write to table may change what a device
// may sync: the security tables, the credentials, and the tables plans and
// app access are read from.
func (e *Engine) movesAccess(table string) bool {
	if platform.SecurityTable(table) || table == platform.CredentialsTable {
		return true
	}
	if pt, ok := e.planner.(planTabler); ok {
		return slices.Contains(pt.PlanTables(), table)
	}
	return true
}

// Close unregisters the subscription.
func (s *Subscription) Close() {
	s.e.hub.mu.Lock()
	delete(s.e.hub.subs, s.s)
	s.e.hub.mu.Unlock()
	for _, r := range s.release {
		r()
	}
}
