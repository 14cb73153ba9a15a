package syncsrv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// The engine answers most of a sync request from memory, but nothing it
// remembers is trusted without being checked against the database in the
// snapshot the request reads. One statement (the probe) reads, in that
// snapshot, the security log's version, the change counter, the device's
// user and profile and, per table the request depends on, the newest row
// version and the newest tombstone. Then:
//
//   - the device row, the principal and the plan come from memory and are
//     used only when the probe shows they are current: the device's user and
//     profile are the same, the security version is the one the principal
//     was loaded at, and the tables the plan was built from did not change
//     after the counter value read before building it;
//   - the newest versions per table (tableMax) are facts about a counter
//     value: every write takes its version from the counter in its own
//     transaction, and a snapshot that sees the counter at c sees exactly the
//     writes with versions up to c. Two snapshots that see the same counter
//     therefore see the same rows and tombstones, whichever server wrote
//     them; the facts learned at c are reused only by snapshots whose probe
//     reads c again. A table whose newest row and tombstone are not newer
//     than a device's token has nothing to send, and a linked table whose
//     newest versions are not newer than the token did not move: neither
//     needs a query.
//
// Commit notices (Platform.OnCommit: this server's commits at once, other
// servers' through LISTEN/NOTIFY on PostgreSQL) are used as hints only: a
// notice naming a table the request depends on sends the request straight
// to a read transaction, since it will likely need one. A late or lost
// notice costs one statement, never a wrong answer.

// tableMax is the newest row version and the newest tombstone version of a
// table, 0 when it has none.
type tableMax struct{ rows, tombs int64 }

// errNeedSnapshot tells the quick delta path that the answer needs queries
// beyond the probe; the request then runs in a read transaction.
var errNeedSnapshot = errors.New("the delta needs a read transaction")

// planTabler is implemented by planners whose Plan result is a function of
// the principal, the schema and the rows of the tables PlanTables names
// (*apps.Service). The engine reuses their plans while those hold;
// plans of other planners are built for every request.
type planTabler interface {
	PlanTables() []string
}

// Bounds of the engine's caches; over them, entries are dropped at random.
const (
	maxCachedDevices = 100_000
	maxCachedPlans   = 20_000
)

// cache is the engine's memory of devices, plans and table versions.
type cache struct {
	mu      sync.Mutex
	devices map[string]device
	plans   map[planKey]*planView

	factsMu sync.Mutex
	// factsAt is the counter value the facts were read at.
	factsAt int64
	facts   map[string]tableMax
	// noticed holds the tables named by commit notices since the facts
	// were last replaced (hints only).
	noticed map[string]bool

	// security is the newest security log version a probe saw: a cached
	// principal older than it is stale without asking.
	security atomic.Int64
}

// planKey names a cached plan: the user's plan of a profile, checked for
// the app the device opened (planView checks the app's access).
type planKey struct{ user, profile, app string }

// appPlanner is a Planner that plans for the devices of one app: the
// profile version the app is published against (*apps.Service).
type appPlanner interface {
	AppPlan(ctx context.Context, by *security.Principal, appID, profileID string) (*profile.Plan, error)
}

func newCache() *cache {
	return &cache{devices: map[string]device{}, plans: map[planKey]*planView{}, facts: map[string]tableMax{}, noticed: map[string]bool{}}
}

// noticeCommit records the tables a commit touched (an OnCommit hook).
func (c *cache) noticeCommit(tables []string) {
	c.factsMu.Lock()
	for _, t := range tables {
		c.noticed[t] = true
	}
	c.factsMu.Unlock()
}

// known returns the counter value of the facts, those of tables that are
// known, and whether a commit notice named one of tables since they were
// read.
func (c *cache) known(tables []string, into map[string]tableMax) (at int64, noticed bool) {
	c.factsMu.Lock()
	defer c.factsMu.Unlock()
	for _, t := range tables {
		if c.noticed[t] {
			noticed = true
		}
		if m, ok := c.facts[t]; ok {
			into[t] = m
		}
	}
	return c.factsAt, noticed
}

// learn records the newest versions of tables read in a snapshot whose
// counter was at: facts of an older counter are replaced, facts of a newer
// one kept.
func (c *cache) learn(at int64, maxes map[string]tableMax, tables []string) {
	if len(tables) == 0 {
		return
	}
	c.factsMu.Lock()
	defer c.factsMu.Unlock()
	switch {
	case at < c.factsAt:
		return
	case at > c.factsAt:
		c.factsAt = at
		c.facts = make(map[string]tableMax, len(tables))
		clear(c.noticed)
	}
	for _, t := range tables {
		c.facts[t] = maxes[t]
		delete(c.noticed, t)
	}
}

func (c *cache) device(id string) (device, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.devices[id]
	return d, ok
}

func (c *cache) putDevice(d device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dropOne(c.devices, maxCachedDevices)
	c.devices[d.ID] = d
}

func (c *cache) dropDevice(id string) {
	c.mu.Lock()
	delete(c.devices, id)
	c.mu.Unlock()
}

func (c *cache) plan(k planKey) *planView {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.plans[k]
}

func (c *cache) putPlan(k planKey, v *planView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dropOne(c.plans, maxCachedPlans)
	c.plans[k] = v
}

// dropPlan forgets v unless another plan replaced it meanwhile.
func (c *cache) dropPlan(k planKey, v *planView) {
	c.mu.Lock()
	if c.plans[k] == v {
		delete(c.plans, k)
	}
	c.mu.Unlock()
}

// dropOne deletes an arbitrary entry of m when it holds max entries.
func dropOne[K comparable, V any](m map[K]V, max int) {
	if len(m) < max {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

// planView is a plan with what the engine derives from it per table, built
// once per plan: the items by table, their scope fingerprints, columns and
// dependencies, and the probe statement.
type planView struct {
	plan *profile.Plan
	pr   *security.Principal
	// security is the security log version pr was loaded at.
	security int64
	sch      *schema.Schema
	// tables are the planner's PlanTables and asOf the counter read before
	// the plan was built: the plan is exact while none of tables has a row
	// or tombstone newer than asOf. tables is nil for plans that are not
	// cached.
	tables []string
	asOf   int64
	items  map[string]*profile.PlanItem
	meta   map[string]*itemMeta
	// probeTables are the tables whose newest versions a request may need
	// (items, their dependencies, tables), sorted; probeSQL reads them.
	probeTables []string
	probeSQL    string
	// stateSQL is the probe without tables.
	stateSQL string
}

// itemMeta is what the engine derives from one plan item.
type itemMeta struct {
	fingerprint uint64
	cols        []string
	deps        []string
	depCols     map[string]map[string]bool
	clock       bool
	// clockCols are the date columns, by table, that the item's filter
	// compares with the clock: a delta reads its clock band through
	// their indexes.
	clockCols [][2]string
}

func newPlanView(plan *profile.Plan, pr *security.Principal, sv int64, sch *schema.Schema, d sqlgen.Dialect, tables []string, asOf int64) (*planView, error) {
	v := &planView{plan: plan, pr: pr, security: sv, sch: sch, tables: tables, asOf: asOf,
		items: make(map[string]*profile.PlanItem, len(plan.Items)), meta: make(map[string]*itemMeta, len(plan.Items))}
	probe := map[string]bool{}
	for _, t := range tables {
		probe[t] = true
	}
	for i := range plan.Items {
		it := &plan.Items[i]
		t, err := sch.LookupTable(it.Table)
		if err != nil {
			return nil, fmt.Errorf("plan of profile %s: %w", plan.ProfileID, err)
		}
		m := &itemMeta{fingerprint: scopeFingerprint(pr, it), cols: it.SyncColumns(t), deps: dependencies(sch, it),
			depCols: dependencyColumns(sch, it), clock: it.Filter != nil && clockRelative(it.Filter)}
		if m.clock {
			m.clockCols = clockColumns(sch, it.Table, it.Filter, nil)
		}
		v.items[it.Table], v.meta[it.Table] = it, m
		probe[it.Table] = true
		for _, dep := range m.deps {
			probe[dep] = true
		}
	}
	v.probeTables = slices.Sorted(func(yield func(string) bool) {
		for t := range probe {
			if !yield(t) {
				return
			}
		}
	})
	v.probeSQL, v.stateSQL = probeSQL(d, v.probeTables), probeSQL(d, nil)
	return v, nil
}

// probeSQL is the probe statement: the security log version, the counter,
// the device row's user and profile, then per table the newest row version
// and the newest tombstone, each answered from the end of an index. Its
// arguments are the table names, then the device id.
func probeSQL(d sqlgen.Dialect, tables []string) string {
	var b strings.Builder
	b.WriteString("SELECT (SELECT max(version) FROM outpost_securitylog), " + store.CurrentVersionSQL(d, "c") + ", dv.userid, dv.profileid")
	for i, t := range tables {
		fmt.Fprintf(&b, ", (SELECT max(versionnumber) FROM %s), (SELECT max(version) FROM outpost_tombstone WHERE tablename = %s)",
			d.Quote(t), d.Placeholder(i+1))
	}
	b.WriteString(" FROM outpost_clock c LEFT JOIN outpost_device dv ON dv.deviceid = " + d.Placeholder(len(tables)+1) + " WHERE c.id = 1")
	return b.String()
}

// probe runs the probe statement in q's snapshot: it sets s.cur and s.maxes
// (the probed tables, and the remembered facts when they are of the same
// counter value) and reports whether the session's device, principal and
// plan are exact for the snapshot. Cached parts it finds stale are dropped.
// With probeAll the statement reads every table of the plan; otherwise only
// those whose facts are not known, and ok is false when the facts turn out
// to be of another counter value.
func (e *Engine) probe(ctx context.Context, q store.Querier, s *session, probeAll bool) (ok bool, err error) {
	v := s.view
	known := make(map[string]tableMax, len(v.probeTables))
	at, _ := e.cache.known(v.probeTables, known)
	query, tables := v.probeSQL, v.probeTables
	if !probeAll && len(known) > 0 {
		tables = nil
		for _, t := range v.probeTables {
			if _, ok := known[t]; !ok {
				tables = append(tables, t)
			}
		}
		if len(tables) == 0 {
			query = v.stateSQL
		} else {
			query = probeSQL(s.d, tables)
		}
	}
	args := make([]any, 0, 1+len(tables))
	for _, t := range tables {
		args = append(args, t)
	}
	args = append(args, s.dev.ID)
	var sv sql.NullInt64
	var user, prof sql.NullString
	maxes := make([]sql.NullInt64, 2*len(tables))
	dest := []any{&sv, &s.cur, &user, &prof}
	for i := range maxes {
		dest = append(dest, &maxes[i])
	}
	floor := e.p.DB().Floor()
	if err := q.QueryRowContext(ctx, query, args...).Scan(dest...); err != nil {
		return false, fmt.Errorf("read sync state: %w", err)
	}
	s.cur = e.p.DB().Raise(floor, s.cur)
	s.maxes = make(map[string]tableMax, len(v.probeTables))
	for i, t := range tables {
		s.maxes[t] = tableMax{rows: maxes[2*i].Int64, tombs: maxes[2*i+1].Int64}
	}
	e.cache.learn(s.cur, s.maxes, tables)
	complete := len(tables) == len(v.probeTables)
	if !complete && s.cur == at {
		for t, m := range known {
			s.maxes[t] = m
		}
		complete = true
	}
	for {
		old := e.cache.security.Load()
		if sv.Int64 <= old || e.cache.security.CompareAndSwap(old, sv.Int64) {
			break
		}
	}
	if user.String != s.dev.UserID || prof.String != s.dev.ProfileID {
		e.cache.dropDevice(s.dev.ID)
		return false, nil
	}
	if sv.Int64 != v.security {
		e.cache.dropPlan(planKey{s.dev.UserID, s.dev.ProfileID, s.dev.AppID}, v)
		return false, nil
	}
	if !complete {
		return false, nil
	}
	for _, t := range v.tables {
		if m := s.maxes[t]; max(m.rows, m.tombs) > v.asOf {
			e.cache.dropPlan(planKey{s.dev.UserID, s.dev.ProfileID, s.dev.AppID}, v)
			return false, nil
		}
	}
	return true, nil
}

// prepare returns the request's session from memory where it can, before
// any snapshot is read: the device row, the user's principal and the plan.
// With fresh, everything is read from the database (a retry after a probe
// found them stale). The caller must probe the session in its snapshot.
func (e *Engine) prepare(ctx context.Context, by *security.Principal, deviceID string, fresh bool) (*session, error) {
	db := e.p.DB()
	dev, ok := e.cache.device(deviceID)
	if !ok || fresh {
		var err error
		if dev, err = e.loadDevice(ctx, db.Read, by, deviceID); err != nil {
			return nil, err
		}
		e.cache.putDevice(dev)
	} else if err := ownedBy(dev, by); err != nil {
		return nil, err
	}
	pr, sv, ok := e.p.CachedPrincipal(dev.UserID)
	if !ok || fresh || sv < e.cache.security.Load() {
		var err error
		if pr, sv, err = e.p.PrincipalVersion(ctx, dev.UserID); err != nil {
			return nil, err
		}
	}
	v, err := e.planView(ctx, pr, sv, dev, fresh)
	if err != nil {
		return nil, err
	}
	key, err := e.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{dev: dev, pr: v.pr, plan: v.plan, sch: v.sch, d: db.Dialect, items: v.items, view: v, now: e.now().UTC().Truncate(time.Millisecond), key: key}
	e.indexClockColumns(ctx, v)
	e.rememberScopes(ctx, s)
	return s, nil
}

// planView returns the plan of dev's profile for pr, cached when the
// planner says what its plans depend on.
func (e *Engine) planView(ctx context.Context, pr *security.Principal, sv int64, dev device, fresh bool) (*planView, error) {
	sch := e.p.Schema()
	key := planKey{dev.UserID, dev.ProfileID, dev.AppID}
	pt, cacheable := e.planner.(planTabler)
	if cacheable && !fresh {
		if v := e.cache.plan(key); v != nil && v.security == sv && v.sch == sch {
			return v, nil
		}
	}
	var tables []string
	var asOf int64
	if cacheable {
		for _, t := range pt.PlanTables() {
			if _, ok := sch.Table(t); ok {
				tables = append(tables, t)
			} else {
				cacheable = false
			}
		}
	}
	if cacheable {
		var err error
		// Read before the plan is built: a change racing the build makes
		// the plan look stale, never current.
		if asOf, err = e.p.DB().CurrentVersion(ctx, e.p.DB().Read); err != nil {
			return nil, err
		}
	} else {
		tables = nil
	}
	if err := e.appAccess(ctx, pr, dev); err != nil {
		return nil, err
	}
	var plan *profile.Plan
	var err error
	if ap, ok := e.planner.(appPlanner); ok {
		plan, err = ap.AppPlan(ctx, pr, dev.AppID, dev.ProfileID)
	} else {
		plan, err = e.planner.Plan(ctx, pr, dev.ProfileID)
	}
	if err != nil {
		return nil, err
	}
	v, err := newPlanView(plan, pr, sv, sch, e.p.DB().Dialect, tables, asOf)
	if err != nil {
		return nil, err
	}
	if cacheable {
		e.cache.putPlan(key, v)
	}
	return v, nil
}

// appAccess checks that pr may still open dev's app offline, on the
// profile the device registered with. A plan is only built, and so only
// cached, after this check; the cached plan is dropped when the security
// log or one of the planner's PlanTables (the profile, its assignment and
// the app rows) moves, which makes every request re-check access at the
// cost of the probe it runs anyway. Lost access is a forbidden error with
// target "appId": the device stops offering the app.
func (e *Engine) appAccess(ctx context.Context, pr *security.Principal, dev device) error {
	profileID, _, err := e.planner.AppProfile(ctx, pr, dev.AppID)
	switch outpost.ErrorCode(err) {
	case "":
		if profileID != dev.ProfileID {
			return outpost.Forbiddenf("app %s now uses another offline profile: open the app again", dev.AppID).WithTarget("appId")
		}
		return nil
	case outpost.CodeForbidden, outpost.CodeNotFound, outpost.CodeConflict, outpost.CodeInvalid:
		return outpost.Forbiddenf("you can no longer use app %s offline: %s", dev.AppID, outpost.ErrorMessage(err)).WithTarget("appId")
	}
	return err
}
