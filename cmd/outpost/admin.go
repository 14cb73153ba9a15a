package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

const adminUsage = `Usage: outpost admin [--data DIR | --db URL] COMMAND [flags]

Commands:
  user create --name NAME --domain LOGIN [--bu ID] [--manager ID] [--role ID|NAME ...]
  user list
  token create --user ID|LOGIN [--name NAME]      print a new bearer token
  team create --name NAME [--bu ID]
  team add-member --team ID --user ID|LOGIN
  team remove-member --team ID --user ID|LOGIN
  bu create --name NAME --parent ID
  role list
  role create --name NAME [--grant TABLE:PRIVILEGE:DEPTH ...]
  role assign --role ID|NAME (--user ID|LOGIN | --team ID)
  table list
  table show NAME
  table create --file DEF.json                    (a JSON table definition; see docs/api.md)
  table add-column --table NAME --file COL.json
  table offline NAME                              turn on "Can be taken offline" (irreversible)
`

// adminCmd is one admin command with its platform.
type adminCmd struct {
	ctx    context.Context
	p      *platform.Platform
	stdout io.Writer
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage+signinUsage+offlineUsage) }
	var dbf dbFlags
	dbf.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) < 2 && !(len(rest) == 1 && rest[0] == "help") {
		fmt.Fprint(stderr, adminUsage+signinUsage+offlineUsage)
		return fmt.Errorf("name an admin command, such as \"user list\"")
	}
	db, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		return err
	}
	a := &adminCmd{ctx: ctx, p: p, stdout: stdout}
	key := rest[0] + " " + rest[1]
	sub := flag.NewFlagSet(key, flag.ContinueOnError)
	sub.SetOutput(stderr)
	cmds := a.commands(sub)
	for k, v := range a.offlineCommands(sub) {
		cmds[k] = v
	}
	for k, v := range a.signinCommands(sub) {
		cmds[k] = v
	}
	handler, ok := cmds[key]
	if !ok {
		fmt.Fprint(stderr, adminUsage+signinUsage+offlineUsage)
		return fmt.Errorf("unknown admin command %q", key)
	}
	if err := sub.Parse(rest[2:]); err != nil {
		return err
	}
	return handler(sub.Args())
}

func (a *adminCmd) commands(fs *flag.FlagSet) map[string]func(args []string) error {
	name := fs.String("name", "", "name")
	domain := fs.String("domain", "", "login (domain name) of the user")
	bu := fs.String("bu", "", "business unit id")
	parent := fs.String("parent", "", "parent business unit id")
	manager := fs.String("manager", "", "manager's user id")
	user := fs.String("user", "", "user id or login")
	team := fs.String("team", "", "team id")
	role := fs.String("role", "", "role id or name")
	table := fs.String("table", "", "table name")
	file := fs.String("file", "", "JSON file ('-' for standard input)")
	var roles, grantsFlag multi
	fs.Var(&roles, "roles", "role id or name (repeatable)")
	fs.Var(&grantsFlag, "grant", "TABLE:PRIVILEGE:DEPTH (repeatable)")
	sys := platform.System()
	return map[string]func([]string) error{
		"user create": func([]string) error {
			id, err := a.p.CreateUser(a.ctx, sys, platform.UserInput{FullName: *name, DomainName: *domain, BusinessUnitID: *bu, ManagerID: *manager, Email: *domain})
			if err != nil {
				return err
			}
			for _, r := range append(roles, splitNonEmpty(*role)...) {
				rid, err := a.roleID(r)
				if err != nil {
					return err
				}
				if err := a.p.AssignUserRole(a.ctx, sys, id, rid); err != nil {
					return err
				}
			}
			fmt.Fprintln(a.stdout, id)
			return nil
		},
		"user list": func([]string) error {
			return a.list("systemuser", "systemuserid", "domainname", "fullname", "businessunitid")
		},
		"role list":  func([]string) error { return a.list("role", "roleid", "name") },
		"table list": a.tableList,
		"table show": a.tableShow,
		"table offline": func(args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("name one table: outpost admin table offline NAME")
			}
			on := true
			_, err := a.p.UpdateTable(a.ctx, sys, args[0], platform.TablePatch{Offline: &on})
			if err == nil {
				fmt.Fprintf(a.stdout, "table %s can now be taken offline (change tracking on)\n", args[0])
			}
			return err
		},
		"table create": func([]string) error {
			var in platform.TableInput
			if err := readJSONFile(*file, &in); err != nil {
				return err
			}
			t, err := a.p.CreateTable(a.ctx, sys, in)
			if err == nil {
				fmt.Fprintf(a.stdout, "created table %s with %d columns\n", t.Name, len(t.Columns))
			}
			return err
		},
		"table add-column": func([]string) error {
			var c schema.Column
			if err := readJSONFile(*file, &c); err != nil {
				return err
			}
			_, err := a.p.AddColumn(a.ctx, sys, *table, c)
			if err == nil {
				fmt.Fprintf(a.stdout, "added column %s to %s\n", c.Name, *table)
			}
			return err
		},
		"token create": func([]string) error {
			uid, err := a.userID(*user)
			if err != nil {
				return err
			}
			tok, err := a.p.IssueToken(a.ctx, sys, uid, *name)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, tok)
			return nil
		},
		"team create": func([]string) error {
			id, err := a.p.CreateTeam(a.ctx, sys, *name, *bu)
			if err == nil {
				fmt.Fprintln(a.stdout, id)
			}
			return err
		},
		"team add-member": func([]string) error {
			uid, err := a.userID(*user)
			if err != nil {
				return err
			}
			return a.p.AddTeamMember(a.ctx, sys, *team, uid)
		},
		"team remove-member": func([]string) error {
			uid, err := a.userID(*user)
			if err != nil {
				return err
			}
			return a.p.RemoveTeamMember(a.ctx, sys, *team, uid)
		},
		"bu create": func([]string) error {
			id, err := a.p.CreateBusinessUnit(a.ctx, sys, *name, *parent)
			if err == nil {
				fmt.Fprintln(a.stdout, id)
			}
			return err
		},
		"role create": func([]string) error {
			var gs []security.Grant
			for _, g := range grantsFlag {
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
			id, err := a.p.CreateRole(a.ctx, sys, *name, gs)
			if err == nil {
				fmt.Fprintln(a.stdout, id)
			}
			return err
		},
		"role assign": func([]string) error {
			rid, err := a.roleID(*role)
			if err != nil {
				return err
			}
			switch {
			case *user != "":
				uid, err := a.userID(*user)
				if err != nil {
					return err
				}
				return a.p.AssignUserRole(a.ctx, sys, uid, rid)
			case *team != "":
				return a.p.AssignTeamRole(a.ctx, sys, *team, rid)
			}
			return fmt.Errorf("role assign needs --user or --team")
		},
	}
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (a *adminCmd) userID(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("--user is required: a user id or login")
	}
	if outpost.ValidID(s) {
		return s, nil
	}
	return a.p.FindUser(a.ctx, s)
}

func (a *adminCmd) roleID(s string) (string, error) {
	if outpost.ValidID(s) {
		return s, nil
	}
	page, err := a.p.List(a.ctx, platform.System(), "role", platform.Query{Select: []string{"name"}, PageSize: platform.MaxPageSize})
	if err != nil {
		return "", err
	}
	for _, r := range page.Rows {
		if strings.EqualFold(r["name"].(string), s) {
			return r["roleid"].(string), nil
		}
	}
	return "", fmt.Errorf("no role is named %q: outpost admin role list shows them", s)
}

func (a *adminCmd) list(table string, cols ...string) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	q := platform.Query{Select: cols, PageSize: platform.MaxPageSize, OrderBy: []platform.Order{{Column: cols[1]}}}
	for {
		page, err := a.p.List(a.ctx, platform.System(), table, q)
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

func (a *adminCmd) tableList([]string) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tOWNERSHIP\tCOLUMNS\tOFFLINE\tBUILT-IN")
	for _, t := range a.p.Schema().Tables() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%t\t%t\n", t.Name, t.Ownership, len(t.Columns), t.Offline, t.BuiltIn)
	}
	return tw.Flush()
}

func (a *adminCmd) tableShow(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("name one table: outpost admin table show NAME")
	}
	t, err := a.p.Schema().LookupTable(args[0])
	if err != nil {
		return err
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

func readJSONFile(path string, v any) error {
	if path == "" {
		return fmt.Errorf("--file is required: a JSON file, or - for standard input")
	}
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is not a valid definition: %w", path, err)
	}
	return nil
}
