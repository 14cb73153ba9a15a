package syncsrv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

const settingConflictDetection = "sync.conflictdetection"

func (e *Engine) conflictDetection(ctx context.Context) (bool, error) {
	var v string
	d := e.p.DB().Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT value FROM outpost_setting WHERE name = `).Arg(settingConflictDetection).Build()
	err := e.p.DB().Read.QueryRowContext(ctx, query, args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read sync settings: %w", err)
	}
	return v == "true", nil
}

// Settings returns the environment's sync settings.
func (e *Engine) Settings(ctx context.Context) (wire.Settings, error) {
	on, err := e.conflictDetection(ctx)
	return wire.Settings{ConflictDetection: on}, err
}

// SetSettings changes the environment's sync settings; administrators only.
func (e *Engine) SetSettings(ctx context.Context, by *security.Principal, s wire.Settings) error {
	if !by.Admin {
		return outpost.Forbiddenf("only administrators may change sync settings")
	}
	d := e.p.DB().Dialect
	query, args := sqlgen.NewBuilder(d).
		SQL(`INSERT INTO outpost_setting (name, value) VALUES (`).Arg(settingConflictDetection).SQL(`, `).Arg(fmt.Sprint(s.ConflictDetection)).
		SQL(`) ON CONFLICT (name) DO UPDATE SET value = excluded.value`).Build()
	_, err := e.p.DB().Write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("save sync settings: %w", err)
	}
	return nil
}

// ErrorFilter narrows a list of Sync Errors. The zero value is the
// caller's own errors, resolved or not.
type ErrorFilter struct {
	// All lists every user's errors (administrators only).
	All bool
	// UserID lists that user's errors; another user's needs an
	// administrator. Empty: the caller's, or everyone's with All.
	UserID string
	// Table keeps the errors of changes to that table.
	Table string
	// Type keeps one error type (wire.ErrorConflict …); nil: every type.
	Type *int64
	// State keeps active (0) or resolved (1) errors; nil: both.
	State *int64
}

// ListErrors lists the Sync Errors f selects, newest first. Only
// administrators list other users' errors; every value of f is checked
// before it is used, and a bad one is refused naming its field.
func (e *Engine) ListErrors(ctx context.Context, by *security.Principal, f ErrorFilter) ([]wire.SyncError, error) {
	if (f.All || (f.UserID != "" && f.UserID != by.UserID)) && !by.Admin {
		return nil, outpost.Forbiddenf("only administrators may list other users' sync errors").WithTarget("user")
	}
	var conds []string
	switch {
	case f.UserID != "":
		if !outpost.ValidID(f.UserID) {
			return nil, outpost.Invalidf("user %q is not a user id: use a UUID", f.UserID).WithTarget("user")
		}
		conds = append(conds, fmt.Sprintf("ownerid eq '%s'", f.UserID))
	case !f.All:
		conds = append(conds, fmt.Sprintf("ownerid eq '%s'", by.UserID))
	}
	if f.Table != "" {
		if !schema.ValidName(f.Table) {
			return nil, outpost.Invalidf("table %q is not a table name: use 2 to 50 lowercase letters, digits and underscores", f.Table).WithTarget("table")
		}
		conds = append(conds, fmt.Sprintf("entityname eq '%s'", f.Table))
	}
	if f.Type != nil {
		if *f.Type < wire.ErrorConflict || *f.Type > wire.ErrorOther {
			return nil, outpost.Invalidf("type %d is not a sync error type: use 0 (conflict), 1 (record not found), 2 (record already exists) or 3 (others)", *f.Type).WithTarget("type")
		}
		conds = append(conds, fmt.Sprintf("errortype eq %d", *f.Type))
	}
	if f.State != nil {
		if *f.State != 0 && *f.State != 1 {
			return nil, outpost.Invalidf("state %d is not a sync error state: use 0 (active) or 1 (resolved)", *f.State).WithTarget("state")
		}
		conds = append(conds, fmt.Sprintf("statecode eq %d", *f.State))
	}
	q := platform.Query{OrderBy: []platform.Order{{Column: "errortime", Desc: true}}, PageSize: platform.MaxPageSize, Filter: strings.Join(conds, " and ")}
	page, err := e.p.List(ctx, platform.System(), "syncerror", q)
	if err != nil {
		return nil, err
	}
	out := make([]wire.SyncError, 0, len(page.Rows))
	for _, r := range page.Rows {
		out = append(out, syncErrorOf(r))
	}
	return out, nil
}

func syncErrorOf(r outpost.Row) wire.SyncError {
	str := func(k string) string { s, _ := r[k].(string); return s }
	num := func(k string) int64 { n, _ := r[k].(int64); return n }
	out := wire.SyncError{ID: str("syncerrorid"), Name: str("name"), Table: str("entityname"), Message: str("errormessage"),
		Code: str("errorcode"), Type: num("errortype"), Action: num("action"), ActionData: str("actiondata"), RequestData: str("requestdata"),
		RegardingID: str("regardingobjectid"), OwnerID: str("ownerid"), State: num("statecode"), Status: num("statuscode"),
		ModifiedBy: str("modifiedby")}
	if tm, ok := platform.JSONRow(outpost.Row{"t": r["errortime"]})["t"].(string); ok {
		out.Time = tm
	}
	return out
}

// loadError returns Sync Error id if by owns it or is an administrator.
func (e *Engine) loadError(ctx context.Context, by *security.Principal, id string) (wire.SyncError, error) {
	r, err := e.p.Get(ctx, platform.System(), "syncerror", id, nil)
	if err != nil {
		return wire.SyncError{}, err
	}
	se := syncErrorOf(r)
	if !by.Admin && se.OwnerID != by.UserID {
		return wire.SyncError{}, outpost.NotFoundf("no sync error has id %s", id).WithTarget("id")
	}
	return se, nil
}

// Resolve marks Sync Error id resolved without applying its change (the
// user discards it, or an administrator fixed the cause by hand).
func (e *Engine) Resolve(ctx context.Context, by *security.Principal, id string) (wire.SyncError, error) {
	if _, err := e.loadError(ctx, by, id); err != nil {
		return wire.SyncError{}, err
	}
	if _, err := e.p.Update(ctx, platform.ServerFor(by.UserID), "syncerror", id, map[string]any{"statecode": int64(1), "statuscode": int64(2)}); err != nil {
		return wire.SyncError{}, err
	}
	return e.loadError(ctx, by, id)
}

// Retry applies Sync Error id's change again, without conflict detection:
// retrying means the change should win. Only what the server recorded
// from a device upload is retried: the error must be the one the server
// stored for that device's change (outpost_syncresult), the device must
// belong to the error's owner, and the change is applied with that user's
// privileges as they are now (never the retrier's). The Sync Error's
// modifiedby records who retried. On success the error is resolved; on
// failure it stays active with the new message, and the error is returned.
func (e *Engine) Retry(ctx context.Context, by *security.Principal, id string) (wire.SyncError, error) {
	se, err := e.loadError(ctx, by, id)
	if err != nil {
		return se, err
	}
	if se.State != 0 {
		return se, outpost.Conflictf("sync error %s is resolved already", id)
	}
	userID, err := e.recordedUploader(ctx, se)
	if err != nil {
		return se, err
	}
	var ch wire.Change
	dec := json.NewDecoder(strings.NewReader(se.ActionData))
	dec.UseNumber()
	if err := dec.Decode(&ch); err != nil {
		return se, outpost.Invalidf("sync error %s holds no change to retry", id)
	}
	owner, err := e.p.Principal(ctx, userID)
	if err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return se, outpost.Conflictf("sync error %s cannot be retried: its user is disabled or deleted", id)
		}
		return se, err
	}
	audit := platform.ServerFor(by.UserID)
	var cause error
	err = e.p.Write(ctx, func(w *platform.Writer) error {
		cause = w.Savepoint(ctx, func() error { return e.apply(ctx, w, owner, ch, false, map[string]bool{}) })
		set := map[string]any{"statecode": int64(1), "statuscode": int64(2)}
		if cause != nil {
			set = map[string]any{"errormessage": clip(outpost.ErrorMessage(cause), 4000), "errortime": w.Now(), "errorcode": string(outpost.ErrorCode(cause))}
		}
		_, err := w.Update(ctx, audit, "syncerror", id, set)
		return err
	})
	if err != nil {
		return se, err
	}
	se, err = e.loadError(ctx, by, id)
	if err != nil {
		return se, err
	}
	return se, cause
}

// recordedUploader returns the user whose device upload the server
// recorded se from: the stored result of the device's change names se,
// and the device belongs to se's owner. Anything else cannot be retried.
func (e *Engine) recordedUploader(ctx context.Context, se wire.SyncError) (string, error) {
	refuse := outpost.Conflictf("sync error %s was not recorded by the server from its owner's device upload: it cannot be retried, only resolved", se.ID).WithTarget("id")
	var req struct {
		DeviceID string `json:"deviceId"`
		Seq      int64  `json:"seq"`
	}
	if err := json.Unmarshal([]byte(se.RequestData), &req); err != nil || req.DeviceID == "" {
		return "", refuse
	}
	d := e.p.DB().Dialect
	var userID string
	var sid sql.NullString
	query, args := sqlgen.NewBuilder(d).
		SQL(`SELECT d.userid, r.syncerrorid FROM outpost_syncresult r JOIN outpost_device d ON d.deviceid = r.deviceid WHERE r.deviceid = `).Arg(req.DeviceID).
		SQL(` AND r.seq = `).Arg(req.Seq).SQL(` AND r.status = `).Arg(wire.StatusRejected).Build()
	err := e.p.DB().Read.QueryRowContext(ctx, query, args...).Scan(&userID, &sid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", refuse
	}
	if err != nil {
		return "", fmt.Errorf("read the upload of sync error %s: %w", se.ID, err)
	}
	if sid.String != se.ID || userID != se.OwnerID {
		return "", refuse
	}
	return userID, nil
}
