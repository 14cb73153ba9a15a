package platform

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// Sync kinds of telemetry events: one per sync request. "first" is a
// snapshot (a first sync, or a re-sync from scratch), "full" a delta that
// asked for a checksum reconciliation of every table.
const (
	SyncKindOpen      = "open"
	SyncKindFirst     = "first"
	SyncKindDelta     = "delta"
	SyncKindFull      = "full"
	SyncKindReconcile = "reconcile"
	SyncKindUpload    = "upload"
)

// SyncKinds are the kinds a SyncEvent may have, in the order docs list them.
var SyncKinds = []string{SyncKindOpen, SyncKindFirst, SyncKindDelta, SyncKindFull, SyncKindReconcile, SyncKindUpload}

// SyncEvent is the telemetry of one sync request, as the server saw it,
// with what the device reported of its own side of its previous sync
// (ClientApplyMs, ClientErrors; nil when it reported nothing).
type SyncEvent struct {
	EventID string    `json:"eventid"`
	At      time.Time `json:"at"`
	UserID  string    `json:"userid"`
	// DeviceID is the signed-in device ("" for a personal token); StoreID
	// the local store (the sync protocol's device id).
	DeviceID       string   `json:"deviceid"`
	StoreID        string   `json:"storeid"`
	AppID          string   `json:"appid"`
	ProfileVersion int64    `json:"profileversion"`
	Kind           string   `json:"kind"`
	Tables         []string `json:"tables"`
	RowsUp         int64    `json:"rowsup"`
	RowsDown       int64    `json:"rowsdown"`
	Bytes          int64    `json:"bytes"`
	DurationMs     float64  `json:"durationms"`
	// Outcome is "ok" or "error"; ErrorCode the error's code.
	Outcome       string `json:"outcome"`
	ErrorCode     string `json:"errorcode,omitempty"`
	ClientApplyMs *int64 `json:"clientapplyms"`
	ClientErrors  *int64 `json:"clienterrors"`
}

// RecordSync stores one sync event and returns it as stored. The app is
// looked up from the store, and the profile version from the store's
// previous event, when the event does not carry them.
func (p *Platform) RecordSync(ctx context.Context, ev SyncEvent) (SyncEvent, error) {
	d := p.db.Dialect
	if ev.EventID == "" {
		ev.EventID = outpost.NewID()
	}
	if ev.At.IsZero() {
		ev.At = p.Now()
	}
	nullable := func(v *int64) any {
		if v == nil {
			return nil
		}
		return *v
	}
	err := sqlgen.NewBuilder(d).SQL(`INSERT INTO outpost_synctelemetry (eventid, at, userid, deviceid, storeid, appid, profileversion, kind, tables, rowsup, rowsdown,
		bytes, durationus, outcome, errorcode, clientapplyms, clienterrors) VALUES (`).Args(ev.EventID, d.TimeArg(ev.At), ev.UserID, ev.DeviceID, ev.StoreID).
		SQL(`, COALESCE(NULLIF(`).Arg(ev.AppID).SQL(`, ''), (SELECT o.appid FROM outpost_device o WHERE o.deviceid = `).Arg(ev.StoreID).SQL(`), ''),
		COALESCE(NULLIF(`).Arg(ev.ProfileVersion).SQL(`, 0), (SELECT t.profileversion FROM outpost_synctelemetry t WHERE t.storeid = `).Arg(ev.StoreID).SQL(` ORDER BY t.at DESC LIMIT 1), 0), `).
		Args(ev.Kind, strings.Join(ev.Tables, ","), ev.RowsUp, ev.RowsDown, ev.Bytes, int64(ev.DurationMs*1000), ev.Outcome, ev.ErrorCode, nullable(ev.ClientApplyMs), nullable(ev.ClientErrors)).
		SQL(`) RETURNING appid, profileversion`).QueryRow(ctx, p.db.Write).Scan(&ev.AppID, &ev.ProfileVersion)
	if err != nil {
		return ev, fmt.Errorf("record sync telemetry: %w", err)
	}
	return ev, nil
}

// SyncFilter selects sync events; zero fields are open. Device matches
// the signed-in device or the store.
type SyncFilter struct {
	UserID, DeviceID, Kind, Outcome string
	Since, Until                    time.Time
	// Top is the most events returned (1 to 1000, default 100); Skip the
	// events skipped first.
	Top, Skip int
}

// MaxSyncPage is the most sync events one page returns.
const MaxSyncPage = 1000

// ListSyncs returns the sync events matching f, newest first, and whether
// more follow. Only administrators read telemetry.
func (p *Platform) ListSyncs(ctx context.Context, by *security.Principal, f SyncFilter) ([]SyncEvent, bool, error) {
	if by == nil || !by.Admin {
		return nil, false, outpost.Forbiddenf("only administrators may read sync telemetry")
	}
	if f.Top <= 0 {
		f.Top = 100
	}
	if f.Top > MaxSyncPage || f.Skip < 0 {
		return nil, false, outpost.Invalidf("$top takes 1 to %d and $skip 0 or more", MaxSyncPage).WithTarget("$top")
	}
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d).SQL(`SELECT eventid, at, userid, deviceid, storeid, appid, profileversion, kind, tables, rowsup, rowsdown, bytes, durationus, outcome, errorcode, clientapplyms, clienterrors
		FROM outpost_synctelemetry WHERE 1 = 1`)
	if f.UserID != "" {
		b.SQL(` AND userid = `).Arg(f.UserID)
	}
	if f.DeviceID != "" {
		b.SQL(` AND (deviceid = `).Arg(f.DeviceID).SQL(` OR storeid = `).Arg(f.DeviceID).SQL(`)`)
	}
	if f.Kind != "" {
		b.SQL(` AND kind = `).Arg(f.Kind)
	}
	if f.Outcome != "" {
		b.SQL(` AND outcome = `).Arg(f.Outcome)
	}
	if !f.Since.IsZero() {
		b.SQL(` AND at >= `).Arg(d.TimeArg(f.Since.UTC()))
	}
	if !f.Until.IsZero() {
		b.SQL(` AND at < `).Arg(d.TimeArg(f.Until.UTC()))
	}
	rows, err := b.SQL(fmt.Sprintf(` ORDER BY at DESC, eventid DESC LIMIT %d OFFSET %d`, f.Top+1, f.Skip)).Query(ctx, p.db.Read)
	if err != nil {
		return nil, false, fmt.Errorf("list sync telemetry: %w", err)
	}
	defer rows.Close()
	out := []SyncEvent{}
	for rows.Next() {
		var ev SyncEvent
		var at any
		var tables string
		var us int64
		var apply, errs sql.NullInt64
		if err := rows.Scan(&ev.EventID, &at, &ev.UserID, &ev.DeviceID, &ev.StoreID, &ev.AppID, &ev.ProfileVersion, &ev.Kind, &tables,
			&ev.RowsUp, &ev.RowsDown, &ev.Bytes, &us, &ev.Outcome, &ev.ErrorCode, &apply, &errs); err != nil {
			return nil, false, fmt.Errorf("list sync telemetry: %w", err)
		}
		ev.At, ev.DurationMs, ev.Tables = timeOf(at), float64(us)/1000, []string{}
		if tables != "" {
			ev.Tables = strings.Split(tables, ",")
		}
		if apply.Valid {
			ev.ClientApplyMs = &apply.Int64
		}
		if errs.Valid {
			ev.ClientErrors = &errs.Int64
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > f.Top
	if more {
		out = out[:f.Top]
	}
	return out, more, nil
}

// PruneTelemetry deletes the sync events older than retention and returns
// how many went.
func (p *Platform) PruneTelemetry(ctx context.Context, retention time.Duration) (int64, error) {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_synctelemetry WHERE at < `).Arg(d.TimeArg(p.Now().Add(-retention))).Build()
	res, err := p.db.Write.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("prune sync telemetry: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DevicesSeen counts the signed-in devices (not revoked) whose last
// contact is within each window.
func (p *Platform) DevicesSeen(ctx context.Context, windows ...time.Duration) ([]int64, error) {
	d := p.db.Dialect
	out := make([]int64, len(windows))
	for i, w := range windows {
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT count(*) FROM outpost_signindevice WHERE revokedon IS NULL AND lastseen >= `).Arg(d.TimeArg(p.Now().Add(-w))).Build()
		if err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&out[i]); err != nil {
			return nil, fmt.Errorf("count devices seen: %w", err)
		}
	}
	return out, nil
}
