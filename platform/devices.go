package platform

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
	"github.com/outposthq/outpost/wire"
)

// DeviceInput describes a device signing in.
type DeviceInput struct {
	// DeviceID names a device that signed in before (after a password
	// change, say); empty or unknown registers a new device.
	DeviceID string `json:"deviceid"`
	Name     string `json:"name"`
	Platform string `json:"platform"`
}

// DeviceCredential is what a device keeps to call the server, as the
// protocol sends it.
type DeviceCredential = wire.DeviceCredential

// SignInDevice registers a device for userID (who has just proven who they
// are) and returns its first credential.
func (p *Platform) SignInDevice(ctx context.Context, userID string, in DeviceInput) (DeviceCredential, error) {
	if len(in.Name) > 200 || len(in.Platform) > 64 {
		return DeviceCredential{}, outpost.Invalidf("a device name has at most 200 characters and a platform at most 64").WithTarget("name")
	}
	if in.DeviceID != "" && !outpost.ValidID(in.DeviceID) {
		return DeviceCredential{}, outpost.Invalidf("deviceid %q is not a UUID", in.DeviceID).WithTarget("deviceid")
	}
	if in.Name == "" {
		in.Name = "device"
	}
	d := p.db.Dialect
	var cred DeviceCredential
	err := p.db.Tx(ctx, func(tx *sql.Tx) error {
		now := p.Now()
		id := in.DeviceID
		if id != "" {
			var owner string
			var revoked any
			query, args := sqlgen.NewBuilder(d).SQL(`SELECT userid, revokedon FROM outpost_signindevice WHERE deviceid = `).Arg(id).Build()
			err := tx.QueryRowContext(ctx, query, args...).Scan(&owner, &revoked)
			switch {
			case err == sql.ErrNoRows, err == nil && (owner != userID || revoked != nil):
				id = "" // a revoked device, or another user's, never comes back
			case err != nil:
				return err
			default:
				query, args := sqlgen.NewBuilder(d).
					SQL(`UPDATE outpost_signindevice SET name = `).Arg(in.Name).SQL(`, platform = `).Arg(in.Platform).
					SQL(`, lastseen = `).Arg(d.TimeArg(now)).SQL(` WHERE deviceid = `).Arg(id).Build()
				if _, err := tx.ExecContext(ctx, query, args...); err != nil {
					return err
				}
			}
		}
		if id == "" {
			id = outpost.NewID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_signindevice (deviceid, userid, name, platform, createdon, lastseen, pending) VALUES (`+d.Placeholders(1, 7)+`)`,
				id, userID, in.Name, in.Platform, d.TimeArg(now), d.TimeArg(now), int64(0)); err != nil {
				return err
			}
		}
		var err error
		cred, err = p.issueDeviceCredential(ctx, tx, userID, id, in.Name, "")
		return err
	})
	if err != nil {
		return DeviceCredential{}, fmt.Errorf("sign in device: %w", err)
	}
	p.logger.InfoContext(ctx, "device signed in", "user", userID, "device", cred.DeviceID)
	return cred, nil
}

// issueDeviceCredential replaces deviceID's access tokens with a new one and
// adds a new refresh token.
// replacing is the hash of the refresh token it replaces ("" for a
// sign-in).
func (p *Platform) issueDeviceCredential(ctx context.Context, tx store.Querier, userID, deviceID, name, replacing string) (DeviceCredential, error) {
	d := p.db.Dialect
	now := p.Now()
	query, args := sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_token WHERE deviceid = `).Arg(deviceID).SQL(` AND kind = `).Arg(KindDevice).Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return DeviceCredential{}, err
	}
	access, info, err := p.insertToken(ctx, tx, KindDevice, userID, deviceID, name, now.Add(p.accessTTL))
	if err != nil {
		return DeviceCredential{}, err
	}
	refresh, err := newSecret(refreshPrefix)
	if err != nil {
		return DeviceCredential{}, err
	}
	refreshExp := now.Add(p.refreshTTL)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_refreshtoken (hash, deviceid, createdon, expireson) VALUES (`+d.Placeholders(1, 4)+`)`,
		hashToken(refresh), deviceID, d.TimeArg(now), d.TimeArg(refreshExp)); err != nil {
		return DeviceCredential{}, err
	}
	if replacing != "" {
		query, args := sqlgen.NewBuilder(d).
			SQL(`UPDATE outpost_refreshtoken SET replacedby = `).Arg(hashToken(refresh)).SQL(` WHERE hash = `).Arg(replacing).Build()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return DeviceCredential{}, err
		}
	}
	p.credentialsRevoked(ctx)
	return DeviceCredential{UserID: userID, DeviceID: deviceID, AccessToken: access, AccessExpiresOn: *info.ExpiresOn,
		RefreshToken: refresh, RefreshExpiresOn: refreshExp, ExpiresInSeconds: int64(p.accessTTL / time.Second)}, nil
}

// RefreshDevice exchanges a refresh token for a new credential. Each
// refresh token works once: a second use means it was copied, so the
// device is revoked (device_revoked) and every credential of it dies.
func (p *Platform) RefreshDevice(ctx context.Context, refreshToken string) (DeviceCredential, error) {
	if len(refreshToken) > 200 || len(refreshToken) < len(refreshPrefix)+1 || refreshToken[:len(refreshPrefix)] != refreshPrefix {
		return DeviceCredential{}, outpost.Unauthorizedf("the refresh token is not valid: sign in again")
	}
	hash := hashToken(refreshToken)
	d := p.db.Dialect
	var cred DeviceCredential
	var replayed string
	err := p.db.Tx(ctx, func(tx *sql.Tx) error {
		var deviceID, userID, name string
		var exp, used, revoked any
		query, args := sqlgen.NewBuilder(d).SQL(`SELECT r.deviceid, r.expireson, r.usedon, s.userid, s.name, s.revokedon FROM outpost_refreshtoken r
			JOIN outpost_signindevice s ON s.deviceid = r.deviceid WHERE r.hash = `).Arg(hash).Build()
		err := tx.QueryRowContext(ctx, query, args...).Scan(&deviceID, &exp, &used, &userID, &name, &revoked)
		if err == sql.ErrNoRows {
			return outpost.Unauthorizedf("the refresh token is not valid: sign in again")
		}
		if err != nil {
			return err
		}
		if revoked != nil {
			return deviceRevoked(deviceID)
		}
		now := p.Now()
		if !timeOf(exp).After(now) {
			return outpost.Unauthorizedf("the refresh token expired: sign in again")
		}
		if used == nil {
			query, args := sqlgen.NewBuilder(d).
				SQL(`UPDATE outpost_refreshtoken SET usedon = `).Arg(d.TimeArg(now)).SQL(` WHERE hash = `).Arg(hash).
				SQL(` AND usedon IS NULL`).Build()
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if _, err := p.loadPrincipal(ctx, userID); err != nil {
					return err
				}
				query, args := sqlgen.NewBuilder(d).
					SQL(`UPDATE outpost_signindevice SET lastseen = `).Arg(d.TimeArg(now)).SQL(` WHERE deviceid = `).Arg(deviceID).Build()
				if _, err := tx.ExecContext(ctx, query, args...); err != nil {
					return err
				}
				cred, err = p.issueDeviceCredential(ctx, tx, userID, deviceID, name, hash)
				return err
			}
		}
		// A second use. The device may only have lost the reply to the
		// first (a cut connection): when the replacement was never used and
		// the first use was moments ago, the replacement is dropped and the
		// exchange made again. Anything else is a copied token.
		if ok, err := p.retriedRefresh(ctx, tx, hash, used); err != nil {
			return err
		} else if ok {
			var err error
			cred, err = p.issueDeviceCredential(ctx, tx, userID, deviceID, name, hash)
			return err
		}
		replayed = deviceID
		return p.revokeDevices(ctx, tx, "deviceid", deviceID, "refresh token replayed")
	})
	if err != nil {
		return DeviceCredential{}, err
	}
	if replayed != "" {
		p.credentialsRevoked(ctx)
		p.logger.WarnContext(ctx, "refresh token replayed: device revoked", "device", replayed)
		return DeviceCredential{}, deviceRevoked(replayed)
	}
	return cred, nil
}

// refreshGrace is how long after a refresh the same refresh token may be
// sent again, when its replacement was never used: the device lost the
// reply.
const refreshGrace = time.Minute

// retriedRefresh reports whether the second use of refresh token hash
// (first used at used) is a device retrying after a lost reply; if so the
// unused replacement is deleted.
func (p *Platform) retriedRefresh(ctx context.Context, tx store.Querier, hash string, used any) (bool, error) {
	if used == nil || p.Now().Sub(timeOf(used)) > refreshGrace {
		return false, nil
	}
	d := p.db.Dialect
	var next sql.NullString
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT replacedby FROM outpost_refreshtoken WHERE hash = `).Arg(hash).Build()
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&next); err != nil {
		return false, err
	}
	if !next.Valid {
		return false, nil
	}
	query, args = sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_refreshtoken WHERE hash = `).Arg(next.String).SQL(` AND usedon IS NULL`).Build()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// revokeDevices marks the devices whose column (deviceid or userid) is
// value revoked with reason. Their access and refresh tokens stay, so that
// they answer device_revoked.
func (p *Platform) revokeDevices(ctx context.Context, tx store.Querier, column, value, reason string) error {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).
		SQL(`UPDATE outpost_signindevice SET revokedon = `).Arg(d.TimeArg(p.Now())).SQL(`, revokedreason = `).Arg(reason).
		SQL(` WHERE revokedon IS NULL AND `).SQL(column).SQL(` = `).Arg(value).Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("revoke devices: %w", err)
	}
	return nil
}

// RevokeDevice revokes a signed-in device (lost or stolen): its next
// request answers device_revoked and the device library deletes its local
// data for the user. Users revoke their own devices, administrators any.
func (p *Platform) RevokeDevice(ctx context.Context, by *security.Principal, deviceID string) error {
	if !outpost.ValidID(deviceID) {
		return outpost.Invalidf("device id %q is not a UUID", deviceID).WithTarget("device")
	}
	d := p.db.Dialect
	var owner string
	var revoked any
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT userid, revokedon FROM outpost_signindevice WHERE deviceid = `).Arg(deviceID).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&owner, &revoked)
	if err == sql.ErrNoRows || (err == nil && !by.Admin && owner != by.UserID) {
		return outpost.NotFoundf("no signed-in device has the id %s", deviceID).WithTarget("device")
	}
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", deviceID, err)
	}
	if revoked != nil {
		return nil
	}
	reason := "revoked by an administrator"
	if owner == by.UserID {
		reason = "revoked by its user"
	}
	if err := p.revokeDevices(ctx, p.db.Write, "deviceid", deviceID, reason); err != nil {
		return err
	}
	p.credentialsRevoked(ctx)
	p.logger.InfoContext(ctx, "device revoked", "device", deviceID, "user", owner, "by", by.UserID)
	return nil
}

// revokeUserDevices revokes every device of userID inside a write (the
// user was disabled); re-enabling the user does not bring them back.
func (w *Writer) revokeUserDevices(ctx context.Context, userID string) error {
	w.devicesRevoked = true
	return w.p.revokeDevices(ctx, w.tx, "userid", userID, "user disabled")
}

// contactGrain is how often a device's last contact is written when its
// reported pending count does not change.
const contactGrain = 30 * time.Second

type contact struct {
	at      time.Time
	pending int64
}

// DeviceContact records that a signed-in device called, with the number
// of changes waiting in its upload queue (negative: not reported). It
// writes at most every contactGrain per device unless the count changed.
func (p *Platform) DeviceContact(ctx context.Context, deviceID string, pending int64) error {
	now := p.Now()
	if v, ok := p.contacts.Load(deviceID); ok {
		c := v.(contact)
		if now.Sub(c.at) < contactGrain && (pending < 0 || pending == c.pending) {
			return nil
		}
		if pending < 0 {
			pending = c.pending
		}
	}
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d).SQL(`UPDATE outpost_signindevice SET lastseen = `).Arg(d.TimeArg(now))
	if pending >= 0 {
		b.SQL(`, pending = `).Arg(pending)
	}
	query, args := b.SQL(` WHERE deviceid = `).Arg(deviceID).Build()
	if _, err := p.db.Write.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("record device contact: %w", err)
	}
	p.contacts.Store(deviceID, contact{at: now, pending: pending})
	return nil
}

// LinkDeviceStore records that signed-in device deviceID opened the local
// store storeID (the sync protocol's device id).
func (p *Platform) LinkDeviceStore(ctx context.Context, deviceID, storeID string) error {
	d := p.db.Dialect
	_, err := p.db.Write.ExecContext(ctx, `INSERT INTO outpost_devicestore (storeid, deviceid) VALUES (`+d.Placeholders(1, 2)+
		`) ON CONFLICT (storeid) DO UPDATE SET deviceid = excluded.deviceid`, storeID, deviceID)
	if err != nil {
		return fmt.Errorf("link device store: %w", err)
	}
	return nil
}

// DeviceFilter selects signed-in devices.
type DeviceFilter struct {
	UserID string
	AppID  string
	// SeenSince and SeenBefore bound the last contact; zero is open.
	SeenSince, SeenBefore time.Time
	// IncludeRevoked lists revoked devices too.
	IncludeRevoked bool
}

// DeviceInfo is a signed-in device as the server knows it.
type DeviceInfo struct {
	DeviceID      string        `json:"deviceid"`
	UserID        string        `json:"userid"`
	Name          string        `json:"name"`
	Platform      string        `json:"platform"`
	FirstContact  time.Time     `json:"firstcontact"`
	LastContact   time.Time     `json:"lastcontact"`
	PendingUpload int64         `json:"pendinguploads"`
	RevokedOn     *time.Time    `json:"revokedon"`
	RevokedReason string        `json:"revokedreason,omitempty"`
	Stores        []DeviceStore `json:"stores"`
}

// DeviceStore is one local store (app and profile) of a device.
type DeviceStore struct {
	StoreID          string    `json:"storeid"`
	AppID            string    `json:"appid"`
	ProfileID        string    `json:"profileid"`
	LastSync         time.Time `json:"lastsync"`
	LastUploadSeq    int64     `json:"lastuploadseq"`
	LastSyncResult   string    `json:"lastsyncresult"`
	ActiveSyncErrors int64     `json:"activesyncerrors"`
	// LastSyncKind, LastSyncOutcome and LastSyncAt are the store's latest
	// sync telemetry event (opens left out); empty when none is kept.
	LastSyncKind    string     `json:"lastsynckind"`
	LastSyncOutcome string     `json:"lastsyncoutcome"`
	LastSyncAt      *time.Time `json:"lastsyncat"`
}

// ListDevices returns the signed-in devices matching f, most recent
// contact first. Administrators list anyone's; a user lists their own.
func (p *Platform) ListDevices(ctx context.Context, by *security.Principal, f DeviceFilter) ([]DeviceInfo, error) {
	if !by.Admin {
		if f.UserID != "" && f.UserID != by.UserID {
			return nil, outpost.Forbiddenf("only administrators may list other users' devices")
		}
		f.UserID = by.UserID
	}
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d).SQL(`SELECT s.deviceid, s.userid, s.name, s.platform, s.createdon, s.lastseen, s.pending, s.revokedon, s.revokedreason FROM outpost_signindevice s WHERE 1 = 1`)
	if f.UserID != "" {
		b.SQL(` AND s.userid = `).Arg(f.UserID)
	}
	if f.AppID != "" {
		b.SQL(` AND EXISTS (SELECT 1 FROM outpost_devicestore l JOIN outpost_device o ON o.deviceid = l.storeid WHERE l.deviceid = s.deviceid AND o.appid = `).Arg(f.AppID).SQL(`)`)
	}
	if !f.SeenSince.IsZero() {
		b.SQL(` AND s.lastseen >= `).Arg(d.TimeArg(f.SeenSince))
	}
	if !f.SeenBefore.IsZero() {
		b.SQL(` AND s.lastseen < `).Arg(d.TimeArg(f.SeenBefore))
	}
	if !f.IncludeRevoked {
		b.SQL(` AND s.revokedon IS NULL`)
	}
	rows, err := b.SQL(` ORDER BY s.lastseen DESC, s.deviceid`).Query(ctx, p.db.Read)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	out := []DeviceInfo{}
	for rows.Next() {
		var di DeviceInfo
		var created, seen, revoked any
		var reason sql.NullString
		if err := rows.Scan(&di.DeviceID, &di.UserID, &di.Name, &di.Platform, &created, &seen, &di.PendingUpload, &revoked, &reason); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list devices: %w", err)
		}
		di.FirstContact, di.LastContact, di.RevokedOn, di.RevokedReason = timeOf(created), timeOf(seen), timePtr(revoked), reason.String
		out = append(out, di)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Stores, err = p.deviceStores(ctx, out[i].DeviceID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *Platform) deviceStores(ctx context.Context, deviceID string) ([]DeviceStore, error) {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT o.deviceid, o.appid, o.profileid, o.lastseen, o.lastseq,
		COALESCE((SELECT r.status FROM outpost_syncresult r WHERE r.deviceid = o.deviceid ORDER BY r.seq DESC LIMIT 1), ''),
		(SELECT count(*) FROM outpost_syncresult r JOIN syncerror e ON e.syncerrorid = r.syncerrorid WHERE r.deviceid = o.deviceid AND e.statecode = 0),
		` + lastSync("kind") + `, ` + lastSync("outcome") + `, ` + lastSync("at") + `
		FROM outpost_devicestore l JOIN outpost_device o ON o.deviceid = l.storeid WHERE l.deviceid = `).Arg(deviceID).SQL(` ORDER BY o.appid, o.deviceid`).Build()
	rows, err := p.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list device stores: %w", err)
	}
	defer rows.Close()
	out := []DeviceStore{}
	for rows.Next() {
		var s DeviceStore
		var seen, at any
		var kind, outcome sql.NullString
		if err := rows.Scan(&s.StoreID, &s.AppID, &s.ProfileID, &seen, &s.LastUploadSeq, &s.LastSyncResult, &s.ActiveSyncErrors, &kind, &outcome, &at); err != nil {
			return nil, fmt.Errorf("list device stores: %w", err)
		}
		s.LastSync, s.LastSyncKind, s.LastSyncOutcome, s.LastSyncAt = timeOf(seen), kind.String, outcome.String, timePtr(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// lastSync selects column of a store's latest sync telemetry event, for
// deviceStores.
func lastSync(column string) string {
	return `(SELECT t.` + column + ` FROM outpost_synctelemetry t WHERE t.storeid = o.deviceid AND t.kind <> 'open' ORDER BY t.at DESC, t.eventid DESC LIMIT 1)`
}
