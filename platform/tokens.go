package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// tokenPrefix marks Outpost bearer tokens so that they are easy to spot in
// logs and secret scanners; refreshPrefix marks device refresh tokens,
// which are never accepted as bearer tokens.
const (
	tokenPrefix   = "opt_"
	refreshPrefix = "opr_"
)

// The kinds of bearer token.
const (
	// KindIntegration is a token an administrator or the user issued for an
	// integration; it lives until its optional expiry or until revoked.
	KindIntegration = "integration"
	// KindSession is a browser session made by a password or single
	// sign-on; it travels in a cookie.
	KindSession = "session"
	// KindDevice is a device's short-lived access token, bound to a
	// signed-in device and renewed with its refresh token.
	KindDevice = "device"
)

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newSecret returns prefix and 32 random bytes, base64url.
func newSecret(prefix string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// Credential is what a bearer token stands for.
type Credential struct {
	TokenID  string
	Kind     string
	UserID   string
	DeviceID string // the signed-in device of a device access token
	// ExpiresOn is zero for a token without expiry.
	ExpiresOn time.Time
}

// TokenInfo describes a token without revealing it.
type TokenInfo struct {
	ID        string     `json:"id"`
	UserID    string     `json:"userid"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	DeviceID  string     `json:"deviceid,omitempty"`
	CreatedOn time.Time  `json:"createdon"`
	ExpiresOn *time.Time `json:"expireson"`
	LastUsed  *time.Time `json:"lastused"`
}

// IssueToken creates a new integration token for userID without expiry.
// Only its hash is stored: the token is shown once.
func (p *Platform) IssueToken(ctx context.Context, by *security.Principal, userID, name string) (string, error) {
	tok, _, err := p.IssueIntegrationToken(ctx, by, userID, name, time.Time{})
	return tok, err
}

// IssueIntegrationToken creates a new integration token for userID, valid
// until expires (zero: until revoked). Administrators issue tokens for
// anyone, users for themselves.
func (p *Platform) IssueIntegrationToken(ctx context.Context, by *security.Principal, userID, name string, expires time.Time) (string, TokenInfo, error) {
	if !by.Admin && by.UserID != userID {
		return "", TokenInfo{}, outpost.Forbiddenf("only administrators may issue tokens for other users")
	}
	if !expires.IsZero() && !expires.After(p.Now()) {
		return "", TokenInfo{}, outpost.Invalidf("the expiry %s is in the past: give a time in the future", expires.UTC().Format(time.RFC3339)).WithTarget("expireson")
	}
	if _, err := p.Principal(ctx, userID); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return "", TokenInfo{}, outpost.NotFoundf("user %s does not exist or is disabled", userID).WithTarget("userid")
		}
		return "", TokenInfo{}, err
	}
	if name == "" {
		name = "token"
	}
	if len(name) > 200 {
		return "", TokenInfo{}, outpost.Invalidf("a token name has at most 200 characters, got %d", len(name)).WithTarget("name")
	}
	return p.insertToken(ctx, p.db.Write, KindIntegration, userID, "", name, expires)
}

// insertToken stores a new token of kind and returns it with its
// description.
func (p *Platform) insertToken(ctx context.Context, q store.Querier, kind, userID, deviceID, name string, expires time.Time) (string, TokenInfo, error) {
	token, err := newSecret(tokenPrefix)
	if err != nil {
		return "", TokenInfo{}, err
	}
	hash := hashToken(token)
	info := TokenInfo{ID: hash[:16], UserID: userID, Name: name, Kind: kind, DeviceID: deviceID, CreatedOn: p.Now()}
	d := p.db.Dialect
	var exp, dev any
	if !expires.IsZero() {
		e := expires.UTC().Truncate(time.Millisecond)
		info.ExpiresOn = &e
		exp = d.TimeArg(e)
	}
	if deviceID != "" {
		dev = deviceID
	}
	_, err = q.ExecContext(ctx, `INSERT INTO outpost_token (hash, tokenid, userid, name, createdon, kind, deviceid, expireson) VALUES (`+d.Placeholders(1, 8)+`)`,
		hash, info.ID, userID, name, d.TimeArg(info.CreatedOn), kind, dev, exp)
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("issue token for %s: %w", userID, err)
	}
	return token, info, nil
}

// ListTokens returns the integration tokens of userID (every user's when
// userID is empty, for administrators), newest first.
func (p *Platform) ListTokens(ctx context.Context, by *security.Principal, userID string) ([]TokenInfo, error) {
	if !by.Admin && (userID == "" || by.UserID != userID) {
		return nil, outpost.Forbiddenf("only administrators may list other users' tokens")
	}
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d).
		SQL(`SELECT tokenid, userid, name, kind, deviceid, createdon, expireson, lastused FROM outpost_token WHERE kind = `).Arg(KindIntegration)
	if userID != "" {
		b.SQL(` AND userid = `).Arg(userID)
	}
	query, args := b.SQL(` ORDER BY createdon DESC, tokenid`).Build()
	rows, err := p.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []TokenInfo{}
	for rows.Next() {
		var t TokenInfo
		var dev sql.NullString
		var created, exp, used any
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Kind, &dev, &created, &exp, &used); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.DeviceID = dev.String
		t.CreatedOn = timeOf(created)
		t.ExpiresOn, t.LastUsed = timePtr(exp), timePtr(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken deletes the token with id. Users revoke their own tokens,
// administrators anyone's; a token the caller may not see is not found.
func (p *Platform) RevokeToken(ctx context.Context, by *security.Principal, id string) error {
	d := p.db.Dialect
	b := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_token WHERE tokenid = `).Arg(id)
	if !by.Admin {
		b.SQL(` AND userid = `).Arg(by.UserID)
	}
	query, args := b.Build()
	res, err := p.db.Write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	p.credentialsRevoked(ctx)
	if n, _ := res.RowsAffected(); n == 0 {
		return outpost.NotFoundf("no token has the id %q", id).WithTarget("id")
	}
	return nil
}

// RevokeTokens deletes every integration token and browser session of
// userID.
func (p *Platform) RevokeTokens(ctx context.Context, by *security.Principal, userID string) error {
	if !by.Admin && by.UserID != userID {
		return outpost.Forbiddenf("only administrators may revoke tokens of other users")
	}
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_token WHERE userid = `).Arg(userID).SQL(` AND kind <> `).Arg(KindDevice).Build()
	_, err := p.db.Write.ExecContext(ctx, query, args...)
	p.credentialsRevoked(ctx)
	return err
}

// tokenTTL bounds how long a token known to be valid is trusted without
// asking the database. Revoking tokens through this server forgets them at
// once; the TTL bounds how long another server sharing the database may
// still accept a revoked token.
const tokenTTL = 5 * time.Second

// lastUseGrain is how often a token's last use is written: at most once a
// minute per token, so that authentication stays a read.
const lastUseGrain = time.Minute

type cachedToken struct {
	cred  Credential
	epoch uint64
	at    time.Time
}

// Authenticate returns the principal of a bearer token. The token is
// cached (see tokenTTL); the principal itself comes from Principal, which
// follows every security change exactly.
func (p *Platform) Authenticate(ctx context.Context, token string) (*security.Principal, error) {
	_, pr, _, err := p.AuthenticateCredential(ctx, token, false)
	return pr, err
}

// AuthenticateUnchecked is Authenticate for callers that check the
// principal against the snapshot they read in (device sync does, in one
// statement with its other reads): it answers with the principal cached
// for the token's user without reading the security log, when one is
// cached. The user is the token's, as with Authenticate; the privileges
// may be a moment old, and the caller must not rely on them unchecked.
func (p *Platform) AuthenticateUnchecked(ctx context.Context, token string) (*security.Principal, error) {
	_, pr, _, err := p.AuthenticateCredential(ctx, token, true)
	return pr, err
}

// AuthenticateCredential returns what a bearer token stands for, its
// user's principal (from the cache without a security log read when
// unchecked, see AuthenticateUnchecked) and the security log version the
// principal is exact for (what WriteAs checks).
func (p *Platform) AuthenticateCredential(ctx context.Context, token string, unchecked bool) (Credential, *security.Principal, int64, error) {
	cred, err := p.Verify(ctx, token)
	if err != nil {
		return Credential{}, nil, 0, err
	}
	if unchecked {
		if pr, v, ok := p.CachedPrincipal(cred.UserID); ok {
			return cred, pr, v, nil
		}
	}
	pr, v, err := p.PrincipalVersion(ctx, cred.UserID)
	return cred, pr, v, err
}

// Verify returns the credential of a bearer token: an unknown token is
// unauthorized, an expired one token_expired, one of a revoked device
// device_revoked. The answer is cached for tokenTTL; revocations through
// this server clear the cache.
func (p *Platform) Verify(ctx context.Context, token string) (Credential, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return Credential{}, outpost.Unauthorizedf("the bearer token is not valid")
	}
	hash := hashToken(token)
	epoch := p.tokenEpoch.Load()
	if v, ok := p.tokens.Load(hash); ok {
		if c := v.(cachedToken); c.epoch == epoch && time.Since(c.at) < tokenTTL {
			return c.cred, p.checkExpiry(c.cred)
		}
	}
	var c Credential
	var dev sql.NullString
	var exp, used, revoked any
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`SELECT t.tokenid, t.kind, t.userid, t.deviceid, t.expireson, t.lastused, d.revokedon FROM outpost_token t
		LEFT JOIN outpost_signindevice d ON d.deviceid = t.deviceid WHERE t.hash = `).Arg(hash).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).
		Scan(&c.TokenID, &c.Kind, &c.UserID, &dev, &exp, &used, &revoked)
	if err == sql.ErrNoRows {
		return Credential{}, outpost.Unauthorizedf("the bearer token is not valid")
	}
	if err != nil {
		return Credential{}, fmt.Errorf("authenticate: %w", err)
	}
	c.DeviceID, c.ExpiresOn = dev.String, timeOf(exp)
	if revoked != nil {
		return Credential{}, deviceRevoked(c.DeviceID)
	}
	if err := p.checkExpiry(c); err != nil {
		return Credential{}, err
	}
	now := p.Now()
	if u := timeOf(used); u.IsZero() || now.Sub(u) >= lastUseGrain {
		d := p.db.Dialect
		query, args := sqlgen.NewBuilder(d).
			SQL(`UPDATE outpost_token SET lastused = `).Arg(d.TimeArg(now)).SQL(` WHERE hash = `).Arg(hash).Build()
		if _, err := p.db.Write.ExecContext(ctx, query, args...); err != nil {
			return Credential{}, fmt.Errorf("record token use: %w", err)
		}
	}
	p.tokens.Store(hash, cachedToken{cred: c, epoch: epoch, at: time.Now()})
	return c, nil
}

func deviceRevoked(deviceID string) error {
	return outpost.Errorf(outpost.CodeDeviceRevoked, "device %s was revoked: delete its local data and sign in again", deviceID)
}

// checkExpiry fails for a credential past its expiry.
func (p *Platform) checkExpiry(c Credential) error {
	if c.ExpiresOn.IsZero() || p.Now().Before(c.ExpiresOn) {
		return nil
	}
	switch c.Kind {
	case KindDevice:
		return outpost.Errorf(outpost.CodeTokenExpired, "the access token expired: refresh the device credential")
	case KindSession:
		return outpost.Errorf(outpost.CodeTokenExpired, "the session expired: sign in again")
	}
	return outpost.Errorf(outpost.CodeTokenExpired, "the token expired on %s: issue a new one", c.ExpiresOn.Format(time.RFC3339))
}

// forgetTokens drops every cached token; the epoch keeps an Authenticate
// that raced the revocation from caching a revoked token again.
func (p *Platform) forgetTokens() {
	p.tokenEpoch.Add(1)
	p.tokens.Clear()
}

// CredentialsTable names the table of tokens. A commit notice naming it
// says credentials were revoked: servers forget the tokens they cached,
// and change streams check their credential again.
const CredentialsTable = "outpost_token"

// credentialsRevoked forgets the cached tokens and announces the
// revocation to this server's OnCommit hooks and to the other servers
// sharing the database.
func (p *Platform) credentialsRevoked(ctx context.Context) {
	p.forgetTokens()
	if p.db.Listen != nil {
		if err := p.publish(ctx, p.db.Write, []string{CredentialsTable}, false); err != nil {
			p.logger.WarnContext(ctx, "announce revoked credentials", "err", err)
		}
	}
	p.notify([]string{CredentialsTable})
}

// CheckCredential fails when credential c is no longer valid: its token
// revoked or expired, or its device revoked. It asks the database rather
// than the cache, for callers that hold a credential for long (a change
// stream) and check it again now and then.
func (p *Platform) CheckCredential(ctx context.Context, c Credential) error {
	var revoked any
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`SELECT d.revokedon FROM outpost_token t
		LEFT JOIN outpost_signindevice d ON d.deviceid = t.deviceid WHERE t.tokenid = `).Arg(c.TokenID).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&revoked)
	if err == sql.ErrNoRows {
		return outpost.Unauthorizedf("the bearer token was revoked")
	}
	if err != nil {
		return fmt.Errorf("check credential: %w", err)
	}
	if revoked != nil {
		return deviceRevoked(c.DeviceID)
	}
	return p.checkExpiry(c)
}

// timeOf reads a timestamp column of either engine; NULL is the zero time.
func timeOf(v any) time.Time { return sqlgen.TimeValue(v) }

func timePtr(v any) *time.Time {
	t := timeOf(v)
	if t.IsZero() {
		return nil
	}
	return &t
}

// StartSession creates a browser session for userID, valid for the
// session lifetime.
func (p *Platform) StartSession(ctx context.Context, userID string) (string, TokenInfo, error) {
	return p.insertToken(ctx, p.db.Write, KindSession, userID, "", "browser session", p.Now().Add(p.sessionTTL))
}

// EndCredential signs out what c stands for: a session or an integration
// token is deleted; a device's access and refresh tokens are deleted and
// the device stays registered (it signs in again with its id).
func (p *Platform) EndCredential(ctx context.Context, c Credential) error {
	d := p.db.Dialect
	err := p.db.Tx(ctx, func(tx *sql.Tx) error {
		query, args := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_token WHERE tokenid = `).Arg(c.TokenID).Build()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		if c.DeviceID == "" {
			return nil
		}
		query, args = sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_token WHERE deviceid = `).Arg(c.DeviceID).Build()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		query, args = sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_refreshtoken WHERE deviceid = `).Arg(c.DeviceID).Build()
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	p.credentialsRevoked(ctx)
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}
