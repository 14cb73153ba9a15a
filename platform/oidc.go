package platform

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/sqlgen"
)

// Provisioning says whether single sign-on creates a user it does not
// know, in which business unit and with which roles.
type Provisioning struct {
	Create         bool
	BusinessUnitID string // empty: the root business unit
	RoleIDs        []string
}

// UserForIdentity returns the user whose login name (domainname) is login
// (ignoring case), the verified identity a provider vouched for. Unknown
// logins are refused unless prov.Create, which creates the user (with
// fullName) in prov's business unit and roles. Disabled users are refused.
func (p *Platform) UserForIdentity(ctx context.Context, login, fullName string, prov Provisioning) (string, error) {
	if login == "" {
		return "", outpost.Unauthorizedf("the identity provider named no user")
	}
	id, err := p.userByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	if id == "" {
		if !prov.Create {
			return "", outpost.Unauthorizedf("no Outpost user has the login %q: ask an administrator to create one", login)
		}
		if fullName == "" {
			fullName = login
		}
		sys := System()
		if id, err = p.CreateUser(ctx, sys, UserInput{FullName: fullName, DomainName: login, BusinessUnitID: prov.BusinessUnitID}); err != nil {
			return "", fmt.Errorf("create user %s on first sign-in: %w", login, err)
		}
		for _, r := range prov.RoleIDs {
			if err := p.AssignUserRole(ctx, sys, id, r); err != nil {
				return "", fmt.Errorf("give the new user %s role %s: %w", login, r, err)
			}
		}
		p.logger.InfoContext(ctx, "user created on first single sign-on", "user", id, "login", login)
	}
	if _, err := p.Principal(ctx, id); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return "", outpost.Unauthorizedf("this account is disabled: ask an administrator")
		}
		return "", err
	}
	return id, nil
}

// nonceLifetime is how long used nonces are remembered: longer than any
// ID token is valid.
const nonceLifetime = 24 * time.Hour

// UseNonce records that an ID token with nonce was accepted; a nonce seen
// before is a replay and refused.
func (p *Platform) UseNonce(ctx context.Context, nonce string) error {
	if nonce == "" {
		return outpost.Unauthorizedf("the ID token has no nonce")
	}
	d := p.db.Dialect
	now := p.Now()
	return p.db.Tx(ctx, func(tx *sql.Tx) error {
		query, args := sqlgen.NewBuilder(d).
			SQL(`DELETE FROM outpost_oidcnonce WHERE usedon < `).Arg(d.TimeArg(now.Add(-nonceLifetime))).Build()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO outpost_oidcnonce (nonce, usedon) VALUES (`+d.Placeholders(1, 2)+`) ON CONFLICT (nonce) DO NOTHING`, hashToken(nonce), d.TimeArg(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return outpost.Unauthorizedf("this sign-in was already used (nonce replayed): sign in again")
		}
		return nil
	})
}
