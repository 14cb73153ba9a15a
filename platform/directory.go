package platform

import (
	"context"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// RootBusinessUnit returns the id of the business unit at the top of the tree.
func (p *Platform) RootBusinessUnit(ctx context.Context) (string, error) {
	ids, err := store.Strings(ctx, p.db.Read, `SELECT businessunitid FROM businessunit WHERE parentbusinessunitid IS NULL ORDER BY createdon LIMIT 1`)
	if err != nil || len(ids) == 0 {
		return "", fmt.Errorf("find root business unit: %w", errorsOr(err, "none"))
	}
	return ids[0], nil
}

func errorsOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s", msg)
}

func (p *Platform) createID(ctx context.Context, by *security.Principal, table string, row map[string]any) (string, error) {
	r, err := p.Create(ctx, by, table, row)
	if err != nil {
		return "", err
	}
	return r[table+"id"].(string), nil
}

// CreateBusinessUnit creates a business unit under parentID.
func (p *Platform) CreateBusinessUnit(ctx context.Context, by *security.Principal, name, parentID string) (string, error) {
	if parentID == "" {
		return "", outpost.Invalidf("a business unit needs a parent; the root exists already").WithTarget("parentbusinessunitid")
	}
	return p.createID(ctx, by, "businessunit", map[string]any{"name": name, "parentbusinessunitid": parentID})
}

// UserInput describes a new user.
type UserInput struct {
	FullName       string `json:"fullname"`
	DomainName     string `json:"domainname"`
	Email          string `json:"internalemailaddress"`
	BusinessUnitID string `json:"businessunitid"`
	ManagerID      string `json:"parentsystemuserid"`
}

// CreateUser creates a user in a business unit (the root when empty).
func (p *Platform) CreateUser(ctx context.Context, by *security.Principal, in UserInput) (string, error) {
	if in.BusinessUnitID == "" {
		root, err := p.RootBusinessUnit(ctx)
		if err != nil {
			return "", err
		}
		in.BusinessUnitID = root
	}
	row := map[string]any{"fullname": in.FullName, "domainname": in.DomainName, "businessunitid": in.BusinessUnitID}
	if in.Email != "" {
		row["internalemailaddress"] = in.Email
	}
	if in.ManagerID != "" {
		row["parentsystemuserid"] = in.ManagerID
	}
	return p.createID(ctx, by, "systemuser", row)
}

// FindUser returns the id of the user with the given domain name.
func (p *Platform) FindUser(ctx context.Context, domainName string) (string, error) {
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`SELECT systemuserid FROM systemuser WHERE domainname = `).Arg(domainName).Build()
	ids, err := store.Strings(ctx, p.db.Read, query, args...)
	if err != nil {
		return "", fmt.Errorf("find user %s: %w", domainName, err)
	}
	if len(ids) == 0 {
		return "", outpost.NotFoundf("no user has the domain name %q", domainName).WithTarget("user")
	}
	return ids[0], nil
}

// CreateTeam creates an owner team in a business unit (the root when empty).
func (p *Platform) CreateTeam(ctx context.Context, by *security.Principal, name, businessUnitID string) (string, error) {
	if businessUnitID == "" {
		root, err := p.RootBusinessUnit(ctx)
		if err != nil {
			return "", err
		}
		businessUnitID = root
	}
	return p.createID(ctx, by, "team", map[string]any{"name": name, "businessunitid": businessUnitID, "teamtype": 0})
}

// CreateRole creates a security role in the root business unit with grants.
func (p *Platform) CreateRole(ctx context.Context, by *security.Principal, name string, grants []security.Grant) (string, error) {
	root, err := p.RootBusinessUnit(ctx)
	if err != nil {
		return "", err
	}
	id, err := p.createID(ctx, by, "role", map[string]any{"name": name, "businessunitid": root})
	if err != nil {
		return "", err
	}
	if len(grants) > 0 {
		if err := p.SetRolePrivileges(ctx, by, id, grants); err != nil {
			return "", err
		}
	}
	return id, nil
}

// link creates the intersect row pairing a and b unless it exists.
func (p *Platform) link(ctx context.Context, by *security.Principal, intersect, colA, a, colB, b string) error {
	return p.Write(ctx, func(w *Writer) error {
		query, args := sqlgen.NewBuilder(p.db.Dialect).
			SQL(`SELECT `).SQL(colA).SQL(` FROM `).SQL(intersect).SQL(` WHERE `).SQL(colA).SQL(` = `).Arg(a).
			SQL(` AND `).SQL(colB).SQL(` = `).Arg(b).Build()
		ids, err := store.Strings(ctx, w.tx, query, args...)
		if err != nil {
			return fmt.Errorf("read %s: %w", intersect, err)
		}
		row := map[string]any{colA: a, colB: b}
		// Checked first, so that whether the link exists tells nothing.
		if err := w.checkLink(ctx, by, intersect, row, security.Create); err != nil || len(ids) > 0 {
			return err
		}
		_, err = w.Create(ctx, by, intersect, row)
		return err
	})
}

// unlink deletes the intersect row pairing a and b, if any.
func (p *Platform) unlink(ctx context.Context, by *security.Principal, intersect, colA, a, colB, b string) error {
	return p.Write(ctx, func(w *Writer) error {
		query, args := sqlgen.NewBuilder(p.db.Dialect).
			SQL(`SELECT `).SQL(intersect).SQL(`id FROM `).SQL(intersect).SQL(` WHERE `).SQL(colA).SQL(` = `).Arg(a).
			SQL(` AND `).SQL(colB).SQL(` = `).Arg(b).Build()
		ids, err := store.Strings(ctx, w.tx, query, args...)
		if err != nil {
			return fmt.Errorf("read %s: %w", intersect, err)
		}
		// Checked first, so that whether the link exists tells nothing.
		if err := w.checkLink(ctx, by, intersect, map[string]any{colA: a, colB: b}, security.Delete); err != nil {
			return err
		}
		for _, id := range ids {
			if err := w.Delete(ctx, by, intersect, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddTeamMember makes userID a member of teamID.
func (p *Platform) AddTeamMember(ctx context.Context, by *security.Principal, teamID, userID string) error {
	return p.link(ctx, by, "teammembership", "teamid", teamID, "systemuserid", userID)
}

// RemoveTeamMember removes userID from teamID.
func (p *Platform) RemoveTeamMember(ctx context.Context, by *security.Principal, teamID, userID string) error {
	return p.unlink(ctx, by, "teammembership", "teamid", teamID, "systemuserid", userID)
}

// AssignUserRole gives userID the role roleID.
func (p *Platform) AssignUserRole(ctx context.Context, by *security.Principal, userID, roleID string) error {
	return p.link(ctx, by, "systemuserroles", "systemuserid", userID, "roleid", roleID)
}

// RemoveUserRole takes roleID from userID.
func (p *Platform) RemoveUserRole(ctx context.Context, by *security.Principal, userID, roleID string) error {
	return p.unlink(ctx, by, "systemuserroles", "systemuserid", userID, "roleid", roleID)
}

// AssignTeamRole gives teamID (and so its members) the role roleID.
func (p *Platform) AssignTeamRole(ctx context.Context, by *security.Principal, teamID, roleID string) error {
	return p.link(ctx, by, "teamroles", "teamid", teamID, "roleid", roleID)
}

// RemoveTeamRole takes roleID from teamID.
func (p *Platform) RemoveTeamRole(ctx context.Context, by *security.Principal, teamID, roleID string) error {
	return p.unlink(ctx, by, "teamroles", "teamid", teamID, "roleid", roleID)
}
