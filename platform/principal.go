package platform

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost/security"
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
	var v sql.NullInt64
	if err := p.db.Read.QueryRowContext(ctx, `SELECT max(version) FROM outpost_securitylog`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read security version: %w", err)
	}
	if c, ok := p.byUser.Load(userID); ok && c.(userPrincipal).version == v.Int64 {
		return c.(userPrincipal).pr, nil
	}
	pr, err := p.loadPrincipal(ctx, userID)
	if err != nil {
		return nil, err
	}
	p.byUser.Store(userID, userPrincipal{pr: pr, version: v.Int64})
	return pr, nil
}
