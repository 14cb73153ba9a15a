package platform

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// serverTables are the tables whose rows only Outpost itself writes: Sync
// Errors record what the server refused from a device, and a retry
// applies what they hold, so no caller may create, change or reassign
// one. Users read their own, resolve and retry them through sync.
var serverTables = map[string]bool{"syncerror": true}

// requireServerWrite refuses a create, update or assign of a row of a
// server table by anyone but Outpost itself.
func requireServerWrite(by *security.Principal, t *schema.Table, what string) error {
	if serverTables[t.Name] && !by.Server {
		return outpost.Forbiddenf("rows of table %q are written only by the server: they cannot be %s through the API (resolve or retry a sync error with /api/sync/v1/errors/{id})", t.Name, what).WithTarget(t.Name)
	}
	return nil
}

// checkDelegation keeps delegated security management from escalating:
// adding or removing a row of systemuserroles, teamroles or teammembership,
// or deleting a role, needs (besides the privileges on those tables) that
// the caller already holds everything the role, or the team's roles, grant,
// and that a team whose rows the caller does not reach through it owns or
// is shared no rows. Administrators may do anything. row is the
// relationship or role row.
func (w *Writer) checkDelegation(ctx context.Context, by *security.Principal, t *schema.Table, row outpost.Row) error {
	if by.Admin {
		return nil
	}
	str := func(k string) string { s, _ := row[k].(string); return s }
	switch t.Name {
	case "systemuserroles", "teamroles":
		return w.requireRoleWithin(ctx, by, str("roleid"))
	case "role":
		for _, r := range security.PredefinedRoles() {
			if r.ID == str("roleid") {
				return outpost.Invalidf("role %q is predefined and cannot be deleted", r.Name).WithTarget("roleid")
			}
		}
		return w.requireRoleWithin(ctx, by, str("roleid"))
	case "teammembership":
		team := str("teamid")
		query, args := sqlgen.NewBuilder(w.p.db.Dialect).
			SQL(`SELECT roleid FROM teamroles WHERE teamid = `).Arg(team).SQL(` ORDER BY roleid`).Build()
		roles, err := store.Strings(ctx, w.tx, query, args...)
		if err != nil {
			return fmt.Errorf("read roles of team %s: %w", team, err)
		}
		for _, r := range roles {
			if err := w.requireRoleWithin(ctx, by, r); err != nil {
				return outpost.Forbiddenf("team %s holds a role that grants more than you hold: %s", team, outpost.ErrorMessage(err)).WithTarget("teamid")
			}
		}
		if contains(by.TeamIDs, team) {
			return nil
		}
		holds, err := w.teamHoldsRows(ctx, team)
		if err != nil {
			return err
		}
		if holds {
			return outpost.Forbiddenf("team %s owns rows or has rows shared with it: only its members or an administrator may change its members", team).WithTarget("teamid")
		}
	}
	return nil
}

// requireRoleWithin checks that by holds every privilege of roleID at
// least as deep as the role grants it: administration only administrators,
// customization only customizers.
func (w *Writer) requireRoleWithin(ctx context.Context, by *security.Principal, roleID string) error {
	if security.IsAdminRole(roleID) {
		return outpost.Forbiddenf("only administrators may give or take the System Administrator role").WithTarget("roleid")
	}
	if security.IsCustomizerRole(roleID) && !by.Customizer {
		return outpost.Forbiddenf("only customizers may give or take a role that customizes the environment").WithTarget("roleid")
	}
	query, args := sqlgen.NewBuilder(w.p.db.Dialect).
		SQL(`SELECT tablename, privilege, depth FROM outpost_roleprivilege WHERE roleid = `).Arg(roleID).
		SQL(` ORDER BY tablename, privilege`).Build()
	rows, err := w.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read privileges of role %s: %w", roleID, err)
	}
	var grants []security.Grant
	for rows.Next() {
		var g security.Grant
		if err := rows.Scan(&g.Table, &g.Privilege, &g.Depth); err != nil {
			_ = rows.Close()
			return fmt.Errorf("read privileges of role %s: %w", roleID, err)
		}
		grants = append(grants, g)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read privileges of role %s: %w", roleID, err)
	}
	sch := w.Schema()
	for _, g := range grants {
		if g.Depth <= security.None {
			continue
		}
		need, have := g.Depth, by.Privileges.Depth(g.Table, g.Privilege)
		if t, ok := sch.Table(g.Table); ok {
			have = by.Depth(t, g.Privilege)
			if !t.HasOwner() && !t.HasBusinessUnit() {
				need = security.Organization
			}
		}
		if have < need {
			return outpost.Forbiddenf("role %s grants %s on table %q at depth %s, and you hold it only at depth %s: nobody may give a role that grants more than they hold", roleID, g.Privilege, g.Table, need, have).WithTarget("roleid")
		}
	}
	return nil
}

// teamHoldsRows reports whether team owns a row of any table or has a row
// shared with it.
func (w *Writer) teamHoldsRows(ctx context.Context, team string) (bool, error) {
	d := w.p.db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`SELECT objectid FROM outpost_share WHERE principalid = `).Arg(team).SQL(` LIMIT 1`).Build()
	shared, err := store.Strings(ctx, w.tx, query, args...)
	if err != nil {
		return false, fmt.Errorf("read shares of team %s: %w", team, err)
	}
	if len(shared) > 0 {
		return true, nil
	}
	for _, t := range w.Schema().Tables() {
		if !t.HasOwner() {
			continue
		}
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT `).Ident(t.PrimaryKey()).SQL(` FROM `).Ident(t.Name).SQL(` WHERE ownerid = `).Arg(team).
			SQL(` LIMIT 1`).Build()
		ids, err := store.Strings(ctx, w.tx, query, args...)
		if err != nil {
			return false, fmt.Errorf("read rows of team %s: %w", team, err)
		}
		if len(ids) > 0 {
			return true, nil
		}
	}
	return false, nil
}
