package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// Stream tickets let a browser open a change-hint stream (EventSource,
// which cannot send an Authorization header) without putting its bearer
// token in a URL: the signed-in caller asks for a ticket for one device
// id and passes it in the stream's query. A ticket is kept as a token of
// kind KindStreamTicket (so every server sharing the database accepts it),
// has its own prefix (so it is never accepted as a bearer token), is valid
// for StreamTicketLifetime and is taken on first use. The stream it opens
// stands for the credential that asked for it, checked again while the
// stream runs: revoking that credential ends the stream.

// KindStreamTicket is the token kind of a stream ticket.
const KindStreamTicket = "streamticket"

// StreamTicketLifetime is how long a stream ticket may wait for its use.
const StreamTicketLifetime = time.Minute

// ticketPrefix marks stream tickets.
const ticketPrefix = "ops_"

// errTicket is the one answer to every ticket that does not open a stream:
// unknown, used, expired, for another device, or of a revoked credential.
func errTicket() error {
	return outpost.Unauthorizedf("the stream ticket is not valid: ask for a new one (a ticket is used once, within %s)", StreamTicketLifetime)
}

// IssueStreamTicket returns a ticket standing for credential c on the
// change stream of device deviceID, and when it expires. Expired tickets
// are removed.
func (p *Platform) IssueStreamTicket(ctx context.Context, c Credential, deviceID string) (string, time.Time, error) {
	if c.Kind == KindStreamTicket || c.TokenID == "" {
		return "", time.Time{}, outpost.Unauthorizedf("a stream ticket is asked for with a bearer token or a session")
	}
	if !outpost.ValidID(deviceID) {
		return "", time.Time{}, outpost.Invalidf("deviceId %q is not a UUID", deviceID).WithTarget("deviceId")
	}
	d := p.db.Dialect
	now := p.Now()
	query, args := sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_token WHERE kind = `).Arg(KindStreamTicket).SQL(` AND expireson < `).Arg(d.TimeArg(now)).Build()
	if _, err := p.db.Write.ExecContext(ctx, query, args...); err != nil {
		return "", time.Time{}, fmt.Errorf("remove expired stream tickets: %w", err)
	}
	secret, err := newSecret(ticketPrefix)
	if err != nil {
		return "", time.Time{}, err
	}
	expires := now.Add(StreamTicketLifetime)
	hash := hashToken(secret)
	// name holds what the ticket is for: the credential and the device.
	_, err = p.db.Write.ExecContext(ctx, `INSERT INTO outpost_token (hash, tokenid, userid, name, createdon, kind, deviceid, expireson) VALUES (`+d.Placeholders(1, 8)+`)`,
		hash, hash[:16], c.UserID, c.TokenID+" "+strings.ToLower(deviceID), d.TimeArg(now), KindStreamTicket, nil, d.TimeArg(expires))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue stream ticket: %w", err)
	}
	return secret, expires, nil
}

// RedeemStreamTicket takes ticket for the stream of device deviceID and
// returns the credential it stands for, checked again, with its user's
// principal. Every failure is the same unauthorized error.
func (p *Platform) RedeemStreamTicket(ctx context.Context, ticket, deviceID string) (Credential, *security.Principal, error) {
	if !strings.HasPrefix(ticket, ticketPrefix) || len(ticket) > 200 {
		return Credential{}, nil, errTicket()
	}
	d := p.db.Dialect
	var name string
	var exp any
	query, args := sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_token WHERE hash = `).Arg(hashToken(ticket)).SQL(` AND kind = `).Arg(KindStreamTicket).
		SQL(` RETURNING name, expireson`).Build()
	err := p.db.Write.QueryRowContext(ctx, query, args...).Scan(&name, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Credential{}, nil, errTicket()
	}
	if err != nil {
		return Credential{}, nil, fmt.Errorf("redeem stream ticket: %w", err)
	}
	tokenID, device, _ := strings.Cut(name, " ")
	if !p.Now().Before(timeOf(exp)) || device != strings.ToLower(deviceID) {
		return Credential{}, nil, errTicket()
	}
	c, err := p.credentialByID(ctx, tokenID)
	if err != nil {
		return Credential{}, nil, err
	}
	if err := p.CheckCredential(ctx, c); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeInternal {
			return Credential{}, nil, err
		}
		return Credential{}, nil, errTicket()
	}
	pr, err := p.Principal(ctx, c.UserID)
	if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
		return Credential{}, nil, errTicket()
	}
	return c, pr, err
}

// credentialByID reads the credential of token tokenID; a missing one is
// the ticket error.
func (p *Platform) credentialByID(ctx context.Context, tokenID string) (Credential, error) {
	var c Credential
	var dev sql.NullString
	var exp any
	query, args := sqlgen.NewBuilder(p.db.Dialect).
		SQL(`SELECT tokenid, kind, userid, deviceid, expireson FROM outpost_token WHERE tokenid = `).Arg(tokenID).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).
		Scan(&c.TokenID, &c.Kind, &c.UserID, &dev, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Credential{}, errTicket()
	}
	if err != nil {
		return Credential{}, fmt.Errorf("read credential: %w", err)
	}
	c.DeviceID, c.ExpiresOn = dev.String, timeOf(exp)
	return c, nil
}
