package platform

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
)

// Single sign-on for devices, as native apps do it (RFC 8252): the device
// opens the server's start route in the user's browser with a loopback
// redirect URI, its own state and a PKCE code challenge; the server runs
// its ordinary OpenID Connect sign-in and, at the callback, hands the
// device's loopback a one-time code, which the device exchanges with its
// code verifier for a device credential.

// DeviceSignInRequest is a device's sign-in in progress at the identity
// provider. State, Nonce and Verifier are the server's own towards the
// provider; RedirectURI, DeviceState and Challenge the device's.
type DeviceSignInRequest struct {
	State, Nonce, Verifier              string
	RedirectURI, DeviceState, Challenge string
}

// Lifetimes of a device sign-in: the time the user has at the provider,
// and the life of the one-time code the device exchanges.
const (
	deviceRequestLifetime = 10 * time.Minute
	DeviceCodeLifetime    = 60 * time.Second
)

// devicePrefix marks one-time device sign-in codes.
const devicePrefix = "opc_"

// StartDeviceSignIn remembers req until the provider's callback (for
// deviceRequestLifetime), in the database so that any server takes it.
func (p *Platform) StartDeviceSignIn(ctx context.Context, req DeviceSignInRequest) error {
	d := p.db.Dialect
	now := p.Now()
	return p.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_oidcdevicerequest WHERE expireson < `).Arg(d.TimeArg(now)).Exec(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO outpost_oidcdevicerequest (state, nonce, verifier, redirecturi, devicestate, challenge, expireson) VALUES (`+d.Placeholders(1, 7)+`)`,
			hashToken(req.State), req.Nonce, req.Verifier, req.RedirectURI, req.DeviceState, req.Challenge, d.TimeArg(now.Add(deviceRequestLifetime)))
		return err
	})
}

// TakeDeviceSignIn returns and forgets the device sign-in whose state (the
// server's, as the provider sends it back) is state. found is false when
// no device sign-in has that state; an expired one is an error.
func (p *Platform) TakeDeviceSignIn(ctx context.Context, state string) (req DeviceSignInRequest, found bool, err error) {
	d := p.db.Dialect
	var exp any
	err = p.db.Tx(ctx, func(tx *sql.Tx) error {
		err := sqlgen.NewBuilder(d).SQL(`SELECT nonce, verifier, redirecturi, devicestate, challenge, expireson FROM outpost_oidcdevicerequest WHERE state = `).Arg(hashToken(state)).
			QueryRow(ctx, tx).Scan(&req.Nonce, &req.Verifier, &req.RedirectURI, &req.DeviceState, &req.Challenge, &exp)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		_, err = sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_oidcdevicerequest WHERE state = `).Arg(hashToken(state)).Exec(ctx, tx)
		return err
	})
	if err != nil || !found {
		return DeviceSignInRequest{}, false, err
	}
	req.State = state
	if !timeOf(exp).After(p.Now()) {
		return req, true, outpost.Unauthorizedf("the sign-in took longer than %d minutes: start again on the device", int(deviceRequestLifetime/time.Minute))
	}
	return req, true, nil
}

// IssueDeviceCode returns a one-time code standing for userID, for the
// device whose PKCE code challenge is challenge; it lives
// DeviceCodeLifetime and only its hash is stored.
func (p *Platform) IssueDeviceCode(ctx context.Context, userID, challenge string) (string, error) {
	code, err := newSecret(devicePrefix)
	if err != nil {
		return "", err
	}
	d := p.db.Dialect
	now := p.Now()
	err = p.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_devicecode WHERE expireson < `).Arg(d.TimeArg(now.Add(-time.Hour))).Exec(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO outpost_devicecode (hash, userid, challenge, expireson) VALUES (`+d.Placeholders(1, 4)+`)`,
			hashToken(code), userID, challenge, d.TimeArg(now.Add(DeviceCodeLifetime)))
		return err
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// PKCEChallenge is the S256 code challenge of verifier (RFC 7636).
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ExchangeDeviceCode signs a device in with a one-time code and the PKCE
// verifier of its challenge, and returns the device credential a password
// sign-in returns. A code is spent by its first exchange, right or wrong:
// an unknown, used or expired code, or a verifier that does not match,
// issues nothing.
func (p *Platform) ExchangeDeviceCode(ctx context.Context, code, verifier string, in DeviceInput) (DeviceCredential, error) {
	if code == "" {
		return DeviceCredential{}, outpost.Invalidf("code is required: the one-time code the server sent to the device's redirect URI").WithTarget("code")
	}
	if verifier == "" {
		return DeviceCredential{}, outpost.Invalidf("code_verifier is required: the PKCE verifier of the sign-in's code challenge").WithTarget("code_verifier")
	}
	if len(code) > 200 || len(verifier) > 200 {
		return DeviceCredential{}, outpost.Invalidf("this code is not one the server issued").WithTarget("code")
	}
	d := p.db.Dialect
	now := p.Now()
	hash := hashToken(code)
	var userID, challenge string
	var exp, used any
	err := p.db.Tx(ctx, func(tx *sql.Tx) error {
		err := sqlgen.NewBuilder(d).SQL(`SELECT userid, challenge, expireson, usedon FROM outpost_devicecode WHERE hash = `).Arg(hash).QueryRow(ctx, tx).Scan(&userID, &challenge, &exp, &used)
		if err == sql.ErrNoRows {
			return outpost.Invalidf("this code is not one the server issued: sign in again").WithTarget("code")
		}
		if err != nil {
			return err
		}
		if used != nil {
			return outpost.Invalidf("this code was already used: sign in again").WithTarget("code")
		}
		res, err := sqlgen.NewBuilder(d).SQL(`UPDATE outpost_devicecode SET usedon = `).Arg(d.TimeArg(now)).SQL(` WHERE hash = `).Arg(hash).SQL(` AND usedon IS NULL`).Exec(ctx, tx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return outpost.Invalidf("this code was already used: sign in again").WithTarget("code")
		}
		return nil
	})
	if err != nil {
		return DeviceCredential{}, err
	}
	if !timeOf(exp).After(now) {
		return DeviceCredential{}, outpost.Invalidf("this code expired (a code lives %d seconds): sign in again", int(DeviceCodeLifetime/time.Second)).WithTarget("code")
	}
	if subtle.ConstantTimeCompare([]byte(PKCEChallenge(verifier)), []byte(challenge)) != 1 {
		return DeviceCredential{}, outpost.Invalidf("code_verifier does not match the sign-in's code challenge: sign in again").WithTarget("code_verifier")
	}
	if _, err := p.Principal(ctx, userID); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return DeviceCredential{}, outpost.Unauthorizedf("this account is disabled: ask an administrator")
		}
		return DeviceCredential{}, err
	}
	return p.SignInDevice(ctx, userID, in)
}
