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
	"github.com/outposthq/outpost/store"
)

// System returns the principal Outpost itself acts as (seeding, admin CLI):
// an administrator without a user.
func System() *security.Principal {
	return &security.Principal{Admin: true, Customizer: true, Server: true, Privileges: security.Set{}}
}

// ServerFor is System acting for userID: the server writes its own rows
// (a Sync Error a user retried or resolved) and records userID as the one
// who modified them.
func ServerFor(userID string) *security.Principal {
	p := System()
	p.UserID = userID
	return p
}

// securityTables are the tables whose rows decide who may read what; a write
// to any of them is recorded in the security log so that sync can tell when
// scopes may have moved.
var securityTables = map[string]bool{
	"systemuser": true, "team": true, "businessunit": true, "role": true,
	"teammembership": true, "systemuserroles": true, "teamroles": true,
}

// SecurityTable reports whether writes to table are recorded in the
// security log (they may change who may read what).
func SecurityTable(table string) bool { return securityTables[table] }

// loadPrincipal loads everything access decisions about userID need:
// business unit and its subtree, teams, manager hierarchy, roles and summed
// privileges.
func (p *Platform) loadPrincipal(ctx context.Context, userID string) (*security.Principal, error) {
	d := p.db.Dialect
	q := p.db.Read
	var bu sql.NullString
	var disabled any
	err := q.QueryRowContext(ctx, `SELECT businessunitid, isdisabled FROM systemuser WHERE systemuserid = `+d.Placeholder(1), userID).Scan(&bu, &disabled)
	if err == sql.ErrNoRows {
		return nil, outpost.Unauthorizedf("user %s does not exist", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", userID, err)
	}
	if b, _ := scanValue("boolean", disabled).(bool); b {
		return nil, outpost.Unauthorizedf("user %s is disabled", userID)
	}
	pr := &security.Principal{UserID: userID, BusinessUnitID: bu.String, Privileges: security.Set{}}
	if pr.TeamIDs, err = store.Strings(ctx, q, `SELECT teamid FROM teammembership WHERE systemuserid = `+d.Placeholder(1)+` ORDER BY teamid`, userID); err != nil {
		return nil, fmt.Errorf("load teams of %s: %w", userID, err)
	}
	if pr.HierarchyUserIDs, err = store.Strings(ctx, q, `WITH RECURSIVE h(id) AS (SELECT `+d.Placeholder(1)+
		` UNION SELECT u.systemuserid FROM systemuser u JOIN h ON u.parentsystemuserid = h.id) SELECT id FROM h ORDER BY id`, userID); err != nil {
		return nil, fmt.Errorf("load hierarchy of %s: %w", userID, err)
	}
	if bu.Valid {
		if pr.BusinessUnitSubtree, err = store.Strings(ctx, q, `WITH RECURSIVE s(id) AS (SELECT `+d.Placeholder(1)+
			` UNION SELECT b.businessunitid FROM businessunit b JOIN s ON b.parentbusinessunitid = s.id) SELECT id FROM s ORDER BY id`, bu.String); err != nil {
			return nil, fmt.Errorf("load business units under %s: %w", bu.String, err)
		}
	}
	args := []any{userID}
	roleQuery := `SELECT roleid FROM systemuserroles WHERE systemuserid = ` + d.Placeholder(1)
	if len(pr.TeamIDs) > 0 {
		roleQuery += ` UNION SELECT roleid FROM teamroles WHERE teamid IN (` + placeholders(d, 2, len(pr.TeamIDs)) + `)`
		for _, t := range pr.TeamIDs {
			args = append(args, t)
		}
	}
	if pr.RoleIDs, err = store.Strings(ctx, q, roleQuery, args...); err != nil {
		return nil, fmt.Errorf("load roles of %s: %w", userID, err)
	}
	for _, r := range pr.RoleIDs {
		pr.Admin = pr.Admin || security.IsAdminRole(r)
		pr.Customizer = pr.Customizer || security.IsCustomizerRole(r)
	}
	if len(pr.RoleIDs) > 0 {
		rargs := make([]any, len(pr.RoleIDs))
		for i, r := range pr.RoleIDs {
			rargs[i] = r
		}
		rows, err := q.QueryContext(ctx, `SELECT tablename, privilege, depth FROM outpost_roleprivilege WHERE roleid IN (`+placeholders(d, 1, len(rargs))+`)`, rargs...)
		if err != nil {
			return nil, fmt.Errorf("load privileges of %s: %w", userID, err)
		}
		defer rows.Close()
		for rows.Next() {
			var g security.Grant
			if err := rows.Scan(&g.Table, &g.Privilege, &g.Depth); err != nil {
				return nil, fmt.Errorf("load privileges of %s: %w", userID, err)
			}
			pr.Privileges.Add(g)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load privileges of %s: %w", userID, err)
		}
	}
	return pr, nil
}

// tokenPrefix marks Outpost tokens so that they are easy to spot in logs and
// secret scanners.
const tokenPrefix = "opt_"

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IssueToken creates a new bearer token for userID. Only its hash is
// stored: the token is shown once.
func (p *Platform) IssueToken(ctx context.Context, by *security.Principal, userID, name string) (string, error) {
	if !by.Admin && by.UserID != userID {
		return "", outpost.Forbiddenf("only administrators may issue tokens for other users")
	}
	if _, err := p.Principal(ctx, userID); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return "", outpost.NotFoundf("user %s does not exist or is disabled", userID).WithTarget("userid")
		}
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	d := p.db.Dialect
	if name == "" {
		name = "token"
	}
	_, err := p.db.Write.ExecContext(ctx, `INSERT INTO outpost_token (hash, userid, name, createdon) VALUES (`+placeholders(d, 1, 4)+`)`,
		hashToken(token), userID, name, d.TimeArg(p.Now()))
	if err != nil {
		return "", fmt.Errorf("issue token for %s: %w", userID, err)
	}
	return token, nil
}

// RevokeTokens deletes every token of userID.
func (p *Platform) RevokeTokens(ctx context.Context, by *security.Principal, userID string) error {
	if !by.Admin && by.UserID != userID {
		return outpost.Forbiddenf("only administrators may revoke tokens of other users")
	}
	_, err := p.db.Write.ExecContext(ctx, `DELETE FROM outpost_token WHERE userid = `+p.db.Dialect.Placeholder(1), userID)
	p.forgetTokens()
	return err
}

// tokenTTL bounds how long a token known to be valid is trusted without
// asking the database. Revoking tokens through this server forgets them at
// once; the TTL bounds how long another server sharing the database may
// still accept a revoked token.
const tokenTTL = 5 * time.Second

type cachedToken struct {
	userID string
	epoch  uint64
	at     time.Time
}

// Authenticate returns the principal of a bearer token. The token's user is
// cached (see tokenTTL); the principal itself comes from Principal, which
// follows every security change exactly.
func (p *Platform) Authenticate(ctx context.Context, token string) (*security.Principal, error) {
	userID, err := p.tokenUser(ctx, token)
	if err != nil {
		return nil, err
	}
	return p.Principal(ctx, userID)
}

// AuthenticateUnchecked is Authenticate for callers that check the
// principal against the snapshot they read in (device sync does, in one
// statement with its other reads): it answers with the principal cached
// for the token's user without reading the security log, when one is
// cached. The user is the token's, as with Authenticate; the privileges
// may be a moment old, and the caller must not rely on them unchecked.
func (p *Platform) AuthenticateUnchecked(ctx context.Context, token string) (*security.Principal, error) {
	userID, err := p.tokenUser(ctx, token)
	if err != nil {
		return nil, err
	}
	if pr, _, ok := p.CachedPrincipal(userID); ok {
		return pr, nil
	}
	return p.Principal(ctx, userID)
}

// tokenUser returns the user of a bearer token; the answer is cached for
// tokenTTL, and revocations clear the cache.
func (p *Platform) tokenUser(ctx context.Context, token string) (string, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return "", outpost.Unauthorizedf("the bearer token is not valid")
	}
	hash := hashToken(token)
	epoch := p.tokenEpoch.Load()
	if v, ok := p.tokens.Load(hash); ok {
		if c := v.(cachedToken); c.epoch == epoch && time.Since(c.at) < tokenTTL {
			return c.userID, nil
		}
	}
	var userID string
	err := p.db.Read.QueryRowContext(ctx, `SELECT userid FROM outpost_token WHERE hash = `+p.db.Dialect.Placeholder(1), hash).Scan(&userID)
	if err == sql.ErrNoRows {
		return "", outpost.Unauthorizedf("the bearer token is not valid")
	}
	if err != nil {
		return "", fmt.Errorf("authenticate: %w", err)
	}
	p.tokens.Store(hash, cachedToken{userID: userID, epoch: epoch, at: time.Now()})
	return userID, nil
}

// forgetTokens drops every cached token; the epoch keeps an Authenticate
// that raced the revocation from caching a revoked token again.
func (p *Platform) forgetTokens() {
	p.tokenEpoch.Add(1)
	p.tokens.Clear()
}

// setRolePrivileges replaces the grants of roleID.
func (p *Platform) setRolePrivileges(ctx context.Context, tx querier, roleID string, grants []security.Grant) error {
	d := p.db.Dialect
	if _, err := tx.ExecContext(ctx, `DELETE FROM outpost_roleprivilege WHERE roleid = `+d.Placeholder(1), roleID); err != nil {
		return fmt.Errorf("set privileges of role %s: %w", roleID, err)
	}
	merged := security.Set{}
	for _, g := range grants {
		merged.Add(g)
	}
	for _, g := range merged.Grants() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_roleprivilege (roleid, tablename, privilege, depth) VALUES (`+placeholders(d, 1, 4)+`)`,
			roleID, g.Table, string(g.Privilege), int(g.Depth)); err != nil {
			return fmt.Errorf("set privileges of role %s: %w", roleID, err)
		}
	}
	return nil
}

// RolePrivileges returns the grants of roleID.
func (p *Platform) RolePrivileges(ctx context.Context, roleID string) ([]security.Grant, error) {
	rows, err := p.db.Read.QueryContext(ctx, `SELECT tablename, privilege, depth FROM outpost_roleprivilege WHERE roleid = `+p.db.Dialect.Placeholder(1)+` ORDER BY tablename, privilege`, roleID)
	if err != nil {
		return nil, fmt.Errorf("read privileges of role %s: %w", roleID, err)
	}
	defer rows.Close()
	out := []security.Grant{}
	for rows.Next() {
		var g security.Grant
		if err := rows.Scan(&g.Table, &g.Privilege, &g.Depth); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// SetRolePrivileges replaces the grants of a role. Predefined roles keep
// their grants.
func (p *Platform) SetRolePrivileges(ctx context.Context, by *security.Principal, roleID string, grants []security.Grant) error {
	if !by.Admin {
		return outpost.Forbiddenf("only administrators may change role privileges")
	}
	for _, r := range security.PredefinedRoles() {
		if r.ID == roleID {
			return outpost.Invalidf("role %q is predefined; copy it into a new role to change its privileges", r.Name).WithTarget("roleid")
		}
	}
	sch := p.Schema()
	for i, g := range grants {
		t, err := sch.LookupTable(g.Table)
		if err != nil {
			return outpost.Invalidf("privilege %d: table %q does not exist", i, g.Table).WithTarget(fmt.Sprintf("privileges[%d].table", i))
		}
		if _, err := security.ParsePrivilege(string(g.Privilege)); err != nil {
			return outpost.Invalidf("privilege %d: %s", i, outpost.ErrorMessage(err)).WithTarget(fmt.Sprintf("privileges[%d].privilege", i))
		}
		if g.Depth < security.None || g.Depth > security.Organization {
			return outpost.Invalidf("privilege %d: depth must be 0 (none) to 4 (organization), got %d", i, g.Depth).WithTarget(fmt.Sprintf("privileges[%d].depth", i))
		}
		if !t.HasOwner() && !t.HasBusinessUnit() && g.Depth != security.None && g.Depth != security.Organization {
			return outpost.Invalidf("privilege %d: table %q is organization owned and takes only depth none or organization, got %s", i, t.Name, g.Depth).WithTarget(fmt.Sprintf("privileges[%d].depth", i))
		}
	}
	return p.Write(ctx, func(w *Writer) error {
		if _, err := w.getVisible(ctx, by, sch.MustTable("role"), roleID); err != nil {
			return err
		}
		w.securityChanged = true
		return p.setRolePrivileges(ctx, w.tx, roleID, grants)
	})
}
