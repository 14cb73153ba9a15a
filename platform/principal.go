package platform

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/store"
)

// userPrincipal is a principal cached with the security log version that
// was current before it was loaded.
type userPrincipal struct {
	pr      *security.Principal
	version int64
}

// Principal returns everything access decisions about userID need:
// business unit and its subtree, teams, manager hierarchy, roles and summed
// privileges. The principal is cached until the security log moves: every
// change to users, teams, memberships, business units, roles or privileges
// is recorded there in the same transaction, by this process or another
// sharing the database, so one indexed max() replaces five queries. The
// version is read before the principal is loaded, so a change racing the
// load only makes the entry stale sooner, never wrong.
func (p *Platform) Principal(ctx context.Context, userID string) (*security.Principal, error) {
	pr, _, err := p.PrincipalVersion(ctx, userID)
	return pr, err
}

// SecurityVersion returns the security log's version: max(version) of
// outpost_securitylog, 0 when it is empty. It moves with every change to
// users, teams, memberships, business units, roles or privileges.
func SecurityVersion(ctx context.Context, q store.Querier) (int64, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, securityVersionSQL).Scan(&v); err != nil {
		return 0, fmt.Errorf("read security version: %w", err)
	}
	return v.Int64, nil
}

// securityVersionSQL reads the security log's version.
const securityVersionSQL = `SELECT max(version) FROM outpost_securitylog`

// PrincipalVersion is Principal that also returns the security log version
// read before the principal was loaded: the principal is exact for every
// snapshot whose security version equals it and that began after the call.
func (p *Platform) PrincipalVersion(ctx context.Context, userID string) (*security.Principal, int64, error) {
	v, err := SecurityVersion(ctx, p.db.Read)
	if err != nil {
		return nil, 0, err
	}
	if c, ok := p.byUser.Load(userID); ok && c.(userPrincipal).version == v {
		return c.(userPrincipal).pr, v, nil
	}
	pr, err := p.loadPrincipal(ctx, userID)
	if err != nil {
		return nil, 0, err
	}
	p.byUser.Store(userID, userPrincipal{pr: pr, version: v})
	return pr, v, nil
}

// CachedPrincipal returns userID's cached principal and the security log
// version read before it was loaded, without reading the database; ok is
// false when none is cached. The caller must check the version against the
// security log in a snapshot that begins after this call: when they are
// equal, no security change committed between the load and the snapshot,
// so the principal is exactly the snapshot's.
func (p *Platform) CachedPrincipal(userID string) (pr *security.Principal, version int64, ok bool) {
	c, ok := p.byUser.Load(userID)
	if !ok {
		return nil, 0, false
	}
	return c.(userPrincipal).pr, c.(userPrincipal).version, true
}
