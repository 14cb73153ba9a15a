package syncsrv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// device is a registered device. Sessions take it from the engine's cache
// when they can; only ID, UserID and ProfileID are checked against the
// request's snapshot, so the other fields there may be stale (an upload
// reads LastSeq in its own transaction).
type device struct {
	ID, UserID, AppID, ProfileID, Kind string
	LastSeq                            int64
}

// session is one request's consistent view: the device, its user's
// principal and download plan, all as of the snapshot the request reads.
type session struct {
	dev   device
	pr    *security.Principal
	plan  *profile.Plan
	sch   *schema.Schema
	d     sqlgen.Dialect
	items map[string]*profile.PlanItem
	// view is the plan with what is derived from it per table.
	view *planView
	// cur is the counter value of the snapshot.
	cur int64
	// maxes are the newest row and tombstone versions of the plan's tables
	// (and the tables they depend on) in the snapshot.
	maxes map[string]tableMax
	// scopeLogs are the scope log reads of this request, by table and
	// version.
	scopeLogs map[scopeLogKey]scopeLog
	// now is the request's clock: filters relative to the date are
	// evaluated at it and the tokens it issues carry it.
	now time.Time
	// key signs the tokens the session issues.
	key signKey
	// tx is the read snapshot the session's statements run in (read sets
	// it). A session answering from its probe alone has none and says so
	// with fromProbe.
	tx *sql.Tx
	// fromProbe is set while the session answers from the newest versions
	// its probe read, without a read transaction (quickDelta): a statement
	// it would need fails with errNeedSnapshot, and the request is answered
	// again in a snapshot.
	fromProbe bool
}

// snapshot returns the read transaction to run a statement in, or
// errNeedSnapshot when the session answers from its probe alone.
func (s *session) snapshot() (*sql.Tx, error) {
	switch {
	case s.fromProbe:
		return nil, errNeedSnapshot
	case s.tx == nil:
		return nil, errors.New("sync session used outside its read snapshot")
	}
	return s.tx, nil
}

// query runs a statement in the session's snapshot.
func (s *session) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	tx, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	return tx.QueryContext(ctx, q, args...)
}

// scanRow runs a statement of one row in the session's snapshot into dest.
func (s *session) scanRow(ctx context.Context, q string, args []any, dest ...any) error {
	tx, err := s.snapshot()
	if err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, q, args...).Scan(dest...)
}

// env is the filter environment of the session's user at its clock.
func (s *session) env() *filter.Env { return at(s.pr.Env(), s.now) }

func (e *Engine) loadDevice(ctx context.Context, q store.Querier, by *security.Principal, id string) (device, error) {
	if !outpost.ValidID(id) {
		return device{}, outpost.Invalidf("deviceId %q is not a UUID", id).WithTarget("deviceId")
	}
	query, args := sqlgen.NewBuilder(e.p.DB().Dialect).SQL(`SELECT deviceid, userid, appid, profileid, kind, lastseq FROM outpost_device WHERE deviceid = `).Arg(id).Build()
	var dev device
	err := q.QueryRowContext(ctx, query, args...).
		Scan(&dev.ID, &dev.UserID, &dev.AppID, &dev.ProfileID, &dev.Kind, &dev.LastSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return device{}, outpost.NotFoundf("device %s is not registered: open the app first", id).WithTarget("deviceId")
	}
	if err != nil {
		return device{}, fmt.Errorf("load device %s: %w", id, err)
	}
	return dev, ownedBy(dev, by)
}

// ownedBy fails when dev is not by's device.
func ownedBy(dev device, by *security.Principal) error {
	if dev.UserID != by.UserID {
		return outpost.Forbiddenf("device %s belongs to another user", dev.ID).WithTarget("deviceId")
	}
	return nil
}

// maxReadAttempts is how often read starts over when the probe finds the
// session stale (a team, role, profile or device change racing the
// request); the last attempt loads everything afresh and goes on.
const maxReadAttempts = 5

// read runs fn in one read snapshot with a session whose device, principal
// and plan are current as of that snapshot: they are taken from memory or
// loaded before it, then checked against it by the probe (deltacache.go),
// and loaded again when it shows they moved in between, so a token never
// claims a scope it was not read with.
func (e *Engine) read(ctx context.Context, by *security.Principal, deviceID string, fn func(s *session) error) error {
	db := e.p.DB()
	for attempt := 0; ; attempt++ {
		s, err := e.prepare(ctx, by, deviceID, attempt > 0)
		if err != nil {
			return err
		}
		retry := false
		err = db.ReadTx(ctx, func(tx *sql.Tx) error {
			ok, err := e.probe(ctx, tx, s, true)
			if err != nil {
				return err
			}
			if !ok && attempt < maxReadAttempts {
				retry = true
				return nil
			}
			s.tx = tx
			return fn(s)
		})
		if err != nil || !retry {
			return err
		}
	}
}

// checkAccess fails when by may no longer sync device deviceID: the
// device is another user's, the user is disabled, or the app's access was
// lost (appAccess). It costs the probe of one read snapshot, or less when
// the plan is cached.
func (e *Engine) checkAccess(ctx context.Context, by *security.Principal, deviceID string) error {
	return e.read(ctx, by, deviceID, func(*session) error { return nil })
}

func (s *session) item(table string) (*profile.PlanItem, *schema.Table, error) {
	it, ok := s.items[table]
	if !ok {
		return nil, nil, outpost.NotFoundf("table %q is not in the device's offline profile", table).WithTarget("table")
	}
	return it, s.sch.MustTable(table), nil
}

// cols returns the columns of it sent to devices (PlanItem.SyncColumns),
// computed once per plan (planView).
func (s *session) cols(it *profile.PlanItem) []string {
	if m := s.view.meta[it.Table]; m != nil {
		return m.cols
	}
	return it.SyncColumns(s.sch.MustTable(it.Table))
}

// where writes the item's scope for alias t0 (PlanItem.WriteScope).
func (s *session) where(b *sqlgen.Builder, it *profile.PlanItem) error {
	return it.WriteScope(b, s.sch, s.env())
}

// token returns the signed token of it at version, issued at the session's
// clock.
func (s *session) token(it *profile.PlanItem, version int64) string {
	return token{Version: version, Issued: s.now, Scope: s.fingerprint(it)}.sign(s.key)
}

// fingerprint is scopeFingerprint of it for the session's principal.
func (s *session) fingerprint(it *profile.PlanItem) uint64 {
	if m := s.view.meta[it.Table]; m != nil && s.view.items[it.Table] == it {
		return m.fingerprint
	}
	return scopeFingerprint(s.pr, it)
}

// scanWire reads rows of the given columns of t as wire values: datetimes
// as fixed-width UTC text, booleans as bool, integers as int64, decimals as
// float64, everything else as string. With extra > 0 that many trailing
// int64 columns are returned separately.
func scanWire(rows *sql.Rows, t *schema.Table, cols []string, extra int, fn func(vals []any, ext []int64) error) error {
	defer rows.Close()
	types := make([]schema.Type, len(cols))
	for i, c := range cols {
		col, _ := t.Column(c)
		types[i] = col.Type
	}
	raw := make([]any, len(cols)+extra)
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("scan %s: %w", t.Name, err)
		}
		vals := make([]any, len(cols))
		for i := range cols {
			vals[i] = sqlgen.WireValue(types[i], raw[i])
		}
		var ext []int64
		for i := len(cols); i < len(raw); i++ {
			n, _ := raw[i].(int64)
			ext = append(ext, n)
		}
		if err := fn(vals, ext); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", t.Name, err)
	}
	return nil
}
