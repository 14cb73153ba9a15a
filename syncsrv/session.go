package syncsrv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// device is a registered device.
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
	// cur is the counter value of the snapshot.
	cur int64
}

func (e *Engine) loadDevice(ctx context.Context, q querier, by *security.Principal, id string) (device, error) {
	if !outpost.ValidID(id) {
		return device{}, outpost.Invalidf("deviceId %q is not a UUID", id).WithTarget("deviceId")
	}
	d := e.p.DB().Dialect
	var dev device
	err := q.QueryRowContext(ctx, `SELECT deviceid, userid, appid, profileid, kind, lastseq FROM outpost_device WHERE deviceid = `+d.Placeholder(1), id).
		Scan(&dev.ID, &dev.UserID, &dev.AppID, &dev.ProfileID, &dev.Kind, &dev.LastSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return device{}, outpost.NotFoundf("device %s is not registered: open the app first", id).WithTarget("deviceId")
	}
	if err != nil {
		return device{}, fmt.Errorf("load device %s: %w", id, err)
	}
	if dev.UserID != by.UserID {
		return device{}, outpost.Forbiddenf("device %s belongs to another user", id).WithTarget("deviceId")
	}
	return dev, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func securityVersion(ctx context.Context, q querier) (int64, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM outpost_securitylog`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read security version: %w", err)
	}
	return v.Int64, nil
}

// read runs fn in one read snapshot with a session whose principal and plan
// are current as of that snapshot: they are loaded before it, and loaded
// again when the security log moved in between (a team or role change
// racing the request), so a token never claims a scope it was not read with.
func (e *Engine) read(ctx context.Context, by *security.Principal, deviceID string, fn func(tx *sql.Tx, s *session) error) error {
	db := e.p.DB()
	for attempt := 0; ; attempt++ {
		sv0, err := securityVersion(ctx, db.Read)
		if err != nil {
			return err
		}
		dev, err := e.loadDevice(ctx, db.Read, by, deviceID)
		if err != nil {
			return err
		}
		s, err := e.newSession(ctx, dev)
		if err != nil {
			return err
		}
		retry := false
		err = db.ReadTx(ctx, func(tx *sql.Tx) error {
			sv1, err := securityVersion(ctx, tx)
			if err != nil {
				return err
			}
			if sv1 != sv0 && attempt < 5 {
				retry = true
				return nil
			}
			if s.cur, err = store.CurrentVersion(ctx, tx); err != nil {
				return err
			}
			return fn(tx, s)
		})
		if err != nil || !retry {
			return err
		}
	}
}

func (e *Engine) newSession(ctx context.Context, dev device) (*session, error) {
	pr, err := e.p.Principal(ctx, dev.UserID)
	if err != nil {
		return nil, err
	}
	plan, err := e.planner.Plan(ctx, pr, dev.ProfileID)
	if err != nil {
		return nil, err
	}
	s := &session{dev: dev, pr: pr, plan: plan, sch: e.p.Schema(), d: e.p.DB().Dialect, items: map[string]*profile.PlanItem{}}
	for i := range plan.Items {
		it := &plan.Items[i]
		if _, err := s.sch.LookupTable(it.Table); err != nil {
			return nil, fmt.Errorf("plan of profile %s: %w", plan.ProfileID, err)
		}
		s.items[it.Table] = it
	}
	return s, nil
}

func (s *session) item(table string) (*profile.PlanItem, *schema.Table, error) {
	it, ok := s.items[table]
	if !ok {
		return nil, nil, outpost.NotFoundf("table %q is not in the device's offline profile", table).WithTarget("table")
	}
	return it, s.sch.MustTable(table), nil
}

// columns returns the columns of item sent to devices: the primary key,
// the version, then the item's other columns in table order.
func columns(t *schema.Table, it *profile.PlanItem) []string {
	cols := []string{t.PrimaryKey(), schema.ColVersionNumber}
	want := map[string]bool{}
	for _, c := range it.Columns {
		want[c] = true
	}
	for _, c := range t.Columns {
		if (len(it.Columns) == 0 || want[c.Name]) && !slices.Contains(cols, c.Name) {
			cols = append(cols, c.Name)
		}
	}
	return cols
}

// where writes the item's scope for alias t0: "(filter)".
func (s *session) where(b *sqlgen.Builder, it *profile.PlanItem) error {
	b.SQL("(")
	if it.Filter == nil {
		b.SQL("1=0")
	} else if err := b.Expr(s.sch, it.Table, "t0", it.Filter, s.pr.Env()); err != nil {
		return fmt.Errorf("compile plan filter of %s: %w", it.Table, err)
	}
	b.SQL(")")
	return nil
}

func (s *session) token(it *profile.PlanItem, version int64, now time.Time) string {
	return token{Version: version, Issued: now, Scope: scopeFingerprint(s.pr, it)}.String()
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
			vals[i] = wireValue(types[i], raw[i])
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

// wireValue normalises a scanned database value of type typ.
func wireValue(typ schema.Type, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if v == nil {
		return nil
	}
	switch typ {
	case schema.DateTime:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC().Format(sqlgen.TimeFormat)
		}
	case schema.Boolean:
		switch x := v.(type) {
		case int64:
			return x != 0
		case bool:
			return x
		}
	case schema.Integer, schema.Choice:
		if f, ok := v.(float64); ok {
			return int64(f)
		}
	case schema.Decimal, schema.Money:
		if n, ok := v.(int64); ok {
			return float64(n)
		}
	}
	return v
}
