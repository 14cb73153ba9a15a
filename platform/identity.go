package platform

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
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
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT businessunitid, isdisabled FROM systemuser WHERE systemuserid = `).Arg(userID).Build()
	err := q.QueryRowContext(ctx, query, args...).Scan(&bu, &disabled)
	if err == sql.ErrNoRows {
		return nil, outpost.Unauthorizedf("user %s does not exist", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", userID, err)
	}
	if b, _ := sqlgen.GoValue("boolean", disabled).(bool); b {
		return nil, outpost.Unauthorizedf("user %s is disabled", userID)
	}
	pr := &security.Principal{UserID: userID, BusinessUnitID: bu.String, Privileges: security.Set{}}
	query, args = sqlgen.NewBuilder(d).
		SQL(`SELECT teamid FROM teammembership WHERE systemuserid = `).Arg(userID).SQL(` ORDER BY teamid`).Build()
	if pr.TeamIDs, err = store.Strings(ctx, q, query, args...); err != nil {
		return nil, fmt.Errorf("load teams of %s: %w", userID, err)
	}
	query, args = sqlgen.NewBuilder(d).
		SQL(`WITH RECURSIVE h(id) AS (SELECT `).Arg(userID).
		SQL(` UNION SELECT u.systemuserid FROM systemuser u JOIN h ON u.parentsystemuserid = h.id) SELECT id FROM h ORDER BY id`).Build()
	if pr.HierarchyUserIDs, err = store.Strings(ctx, q, query, args...); err != nil {
		return nil, fmt.Errorf("load hierarchy of %s: %w", userID, err)
	}
	if bu.Valid {
		query, args := sqlgen.NewBuilder(d).
			SQL(`WITH RECURSIVE s(id) AS (SELECT `).Arg(bu.String).
			SQL(` UNION SELECT b.businessunitid FROM businessunit b JOIN s ON b.parentbusinessunitid = s.id) SELECT id FROM s ORDER BY id`).Build()
		if pr.BusinessUnitSubtree, err = store.Strings(ctx, q, query, args...); err != nil {
			return nil, fmt.Errorf("load business units under %s: %w", bu.String, err)
		}
	}
	rb := sqlgen.NewBuilder(d).SQL(`SELECT roleid FROM systemuserroles WHERE systemuserid = `).Arg(userID)
	if len(pr.TeamIDs) > 0 {
		rb.SQL(` UNION SELECT roleid FROM teamroles WHERE teamid IN (`).StringsArgs(pr.TeamIDs).SQL(`)`)
	}
	roleQuery, roleArgs := rb.Build()
	if pr.RoleIDs, err = store.Strings(ctx, q, roleQuery, roleArgs...); err != nil {
		return nil, fmt.Errorf("load roles of %s: %w", userID, err)
	}
	for _, r := range pr.RoleIDs {
		pr.Admin = pr.Admin || security.IsAdminRole(r)
		pr.Customizer = pr.Customizer || security.IsCustomizerRole(r)
	}
	if len(pr.RoleIDs) > 0 {
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT tablename, privilege, depth FROM outpost_roleprivilege WHERE roleid IN (`).
			StringsArgs(pr.RoleIDs).SQL(`)`).Build()
		rows, err := q.QueryContext(ctx, query, args...)
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

// setRolePrivileges replaces the grants of roleID.
func (p *Platform) setRolePrivileges(ctx context.Context, tx store.Querier, roleID string, grants []security.Grant) error {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_roleprivilege WHERE roleid = `).Arg(roleID).Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("set privileges of role %s: %w", roleID, err)
	}
	merged := security.Set{}
	for _, g := range grants {
		merged.Add(g)
	}
	for _, g := range merged.Grants() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_roleprivilege (roleid, tablename, privilege, depth) VALUES (`+d.Placeholders(1, 4)+`)`,
			roleID, g.Table, string(g.Privilege), int(g.Depth)); err != nil {
			return fmt.Errorf("set privileges of role %s: %w", roleID, err)
		}
	}
	return nil
}

// RolePrivileges returns the grants of roleID.
func (p *Platform) RolePrivileges(ctx context.Context, roleID string) ([]security.Grant, error) {
	query, args := sqlgen.NewBuilder(p.db.Dialect).
		SQL(`SELECT tablename, privilege, depth FROM outpost_roleprivilege WHERE roleid = `).Arg(roleID).
		SQL(` ORDER BY tablename, privilege`).Build()
	rows, err := p.db.Read.QueryContext(ctx, query, args...)
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
