package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

func (a *admin) userCreate(ctx context.Context, args []string) error {
	fs := a.flags("user create", "--name NAME --domain LOGIN [--bu ID] [--manager ID] [--role ID|NAME ...]",
		`user create --name "Nora Diaz" --domain nora@contoso.example --role "Field Technician" --role "Basic User"`)
	name := fs.String("name", "", "full name")
	domain := fs.String("domain", "", "login (domain name), also the email")
	bu := fs.String("bu", "", "business unit id (default the root)")
	manager := fs.String("manager", "", "manager's user id")
	var roles multi
	fs.Var(&roles, "role", "role id or name (repeatable, or comma-separated)")
	fs.Var(&roles, "roles", "the same as --role")
	if _, err := a.open(ctx, fs, args); err != nil {
		return err
	}
	p, sys := a.p, platform.System()
	rids := make([]string, len(roles))
	for i, r := range roles {
		rid, err := a.roleID(ctx, r)
		if err != nil {
			return err
		}
		rids[i] = rid
	}
	id, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: *name, DomainName: *domain, BusinessUnitID: *bu, ManagerID: *manager, Email: *domain})
	if err != nil {
		return err
	}
	for _, rid := range rids {
		if err := p.AssignUserRole(ctx, sys, id, rid); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stdout, id)
	return nil
}

func (a *admin) userList(ctx context.Context, args []string) error {
	if _, err := parse(a.flags("user list", ""), args); err != nil {
		return err
	}
	return a.list(ctx, "systemuser", "systemuserid", "domainname", "fullname", "businessunitid")
}

func (a *admin) tokenCreate(ctx context.Context, args []string) error {
	fs := a.flags("token create", "--user ID|LOGIN [--name NAME]", "token create --user nora@contoso.example --name phone")
	name := fs.String("name", "", "what the token is for")
	uid, err := a.userArg(ctx, fs, args)
	if err != nil {
		return err
	}
	return a.printID(a.p.IssueToken(ctx, platform.System(), uid, *name))
}

func (a *admin) teamCreate(ctx context.Context, args []string) error {
	fs := a.flags("team create", "--name NAME [--bu ID]", `team create --name "North Crew"`)
	name := fs.String("name", "", "team name")
	bu := fs.String("bu", "", "business unit id (default the root)")
	if _, err := a.open(ctx, fs, args); err != nil {
		return err
	}
	return a.printID(a.p.CreateTeam(ctx, platform.System(), *name, *bu))
}

func (a *admin) teamAddMember(ctx context.Context, args []string) error {
	return a.teamMember(ctx, "team add-member", args, true)
}

func (a *admin) teamRemoveMember(ctx context.Context, args []string) error {
	return a.teamMember(ctx, "team remove-member", args, false)
}

func (a *admin) teamMember(ctx context.Context, name string, args []string, add bool) error {
	fs := a.flags(name, "--team ID --user ID|LOGIN", name+" --team TEAMID --user nora@contoso.example")
	team := fs.String("team", "", "team id")
	uid, err := a.userArg(ctx, fs, args)
	if err != nil {
		return err
	}
	if add {
		return a.p.AddTeamMember(ctx, platform.System(), *team, uid)
	}
	return a.p.RemoveTeamMember(ctx, platform.System(), *team, uid)
}

func (a *admin) buCreate(ctx context.Context, args []string) error {
	fs := a.flags("bu create", "--name NAME --parent ID", "bu create --name North --parent PARENTID")
	name := fs.String("name", "", "business unit name")
	parent := fs.String("parent", "", "parent business unit id")
	if _, err := a.open(ctx, fs, args); err != nil {
		return err
	}
	return a.printID(a.p.CreateBusinessUnit(ctx, platform.System(), *name, *parent))
}

func (a *admin) roleList(ctx context.Context, args []string) error {
	if _, err := parse(a.flags("role list", ""), args); err != nil {
		return err
	}
	return a.list(ctx, "role", "roleid", "name")
}

func (a *admin) roleCreate(ctx context.Context, args []string) error {
	fs := a.flags("role create", "--name NAME [--grant TABLE:PRIVILEGE:DEPTH ...]",
		`role create --name Inspector --grant account:read:businessunit --grant workorder:write:user`)
	name := fs.String("name", "", "role name")
	var grants multi
	fs.Var(&grants, "grant", "TABLE:PRIVILEGE:DEPTH (repeatable)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var gs []security.Grant
	for _, g := range grants {
		parts := strings.Split(g, ":")
		if len(parts) != 3 {
			return fmt.Errorf("--grant %q is not TABLE:PRIVILEGE:DEPTH, such as account:read:businessunit", g)
		}
		pv, err := security.ParsePrivilege(parts[1])
		if err != nil {
			return err
		}
		d, err := security.ParseDepth(parts[2])
		if err != nil {
			return err
		}
		gs = append(gs, security.Grant{Table: parts[0], Privilege: pv, Depth: d})
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	return a.printID(p.CreateRole(ctx, platform.System(), *name, gs))
}

func (a *admin) roleAssign(ctx context.Context, args []string) error {
	return a.roleMember(ctx, "role assign", args, true)
}

func (a *admin) roleUnassign(ctx context.Context, args []string) error {
	return a.roleMember(ctx, "role unassign", args, false)
}

func (a *admin) roleMember(ctx context.Context, name string, args []string, assign bool) error {
	fs := a.flags(name, "--role ID|NAME (--user ID|LOGIN | --team ID)",
		name+` --role "Field Technician" --user nora@contoso.example`, name+` --role "Field Technician" --team TEAMID`)
	role := fs.String("role", "", "role id or name")
	user := fs.String("user", "", "user id or login")
	team := fs.String("team", "", "team id")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if (*user == "") == (*team == "") {
		return fmt.Errorf("%s needs --user or --team (one of them)", name)
	}
	rid, err := a.roleID(ctx, *role)
	if err != nil {
		return err
	}
	sys := platform.System()
	if *team != "" {
		if assign {
			return a.p.AssignTeamRole(ctx, sys, *team, rid)
		}
		return a.p.RemoveTeamRole(ctx, sys, *team, rid)
	}
	uid, err := a.userID(ctx, *user)
	if err != nil {
		return err
	}
	if assign {
		return a.p.AssignUserRole(ctx, sys, uid, rid)
	}
	return a.p.RemoveUserRole(ctx, sys, uid, rid)
}

func (a *admin) roleID(ctx context.Context, s string) (string, error) {
	return a.idOf(ctx, s, "--role is required: a role id or name", func(p *platform.Platform, name string) (string, error) {
		page, err := p.List(ctx, platform.System(), "role", platform.Query{Select: []string{"name"}, PageSize: platform.MaxPageSize})
		if err != nil {
			return "", err
		}
		for _, r := range page.Rows {
			if strings.EqualFold(r["name"].(string), name) {
				return r["roleid"].(string), nil
			}
		}
		return "", fmt.Errorf("no role is named %q: outpost admin role list shows them", name)
	})
}

func (a *admin) list(ctx context.Context, table string, cols ...string) error {
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	tw := a.table(strings.ToUpper(strings.Join(cols, "\t")))
	q := platform.Query{Select: cols, PageSize: platform.MaxPageSize, OrderBy: []platform.Order{{Column: cols[1]}}}
	for {
		page, err := p.List(ctx, platform.System(), table, q)
		if err != nil {
			return err
		}
		for _, r := range page.Rows {
			vals := make([]string, len(cols))
			for i, c := range cols {
				vals[i] = fmt.Sprint(r[c])
			}
			fmt.Fprintln(tw, strings.Join(vals, "\t"))
		}
		if !page.More {
			break
		}
		q.Skip = page.NextSkip
	}
	return tw.Flush()
}
