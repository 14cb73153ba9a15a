package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store"
)

// adminCommand is one "outpost admin" command. Each has its own method,
// which defines its own flags (admin.flags), so "-h" shows only them.
type adminCommand struct {
	name    string // "user create"
	summary string
	run     func(a *admin, ctx context.Context, args []string) error
}

// adminCommands lists every admin command in the order of the usage text;
// the methods live in admin_*.go by resource.
var adminCommands = []adminCommand{
	{"user create", "create a user, with roles", (*admin).userCreate},
	{"user list", "list users", (*admin).userList},
	{"token create", "print a new bearer token for a user", (*admin).tokenCreate},
	{"token list", "integration tokens: id, user, name, created, expiry, last use", (*admin).tokenList},
	{"token revoke", "revoke one token at once", (*admin).tokenRevoke},
	{"user set-password", "set a user's password (read from standard input)", (*admin).userSetPassword},
	{"device list", "signed-in devices and their stores", (*admin).deviceList},
	{"device revoke", "revoke a device (lost or stolen): it wipes its data", (*admin).deviceRevoke},
	{"team create", "create a team", (*admin).teamCreate},
	{"team add-member", "add a user to a team", (*admin).teamAddMember},
	{"team remove-member", "remove a user from a team", (*admin).teamRemoveMember},
	{"bu create", "create a business unit", (*admin).buCreate},
	{"role list", "list roles", (*admin).roleList},
	{"role create", "create a role with privileges", (*admin).roleCreate},
	{"role assign", "give a role to a user or team", (*admin).roleAssign},
	{"role unassign", "take a role from a user or team", (*admin).roleUnassign},
	{"table list", "list tables", (*admin).tableList},
	{"table show", "a table's columns and relationships", (*admin).tableShow},
	{"table create", "create a table from a JSON definition", (*admin).tableCreate},
	{"table add-column", "add a column from a JSON definition", (*admin).tableAddColumn},
	{"table offline", `turn on "Can be taken offline" (irreversible)`, (*admin).tableOffline},
	{"import", "load rows into a table from CSV or NDJSON (checked like single writes)", (*admin).adminImport},
	{"profile list", "list offline profiles", (*admin).profileList},
	{"profile create", "create an offline profile draft", (*admin).profileCreate},
	{"profile show", "a profile's draft, or its published version", (*admin).profileShow},
	{"profile set-item", "add or replace one table's item", (*admin).profileSetItem},
	{"profile remove-item", "remove one table's item", (*admin).profileRemoveItem},
	{"profile assign", "who may use the profile: default or restricted users and teams", (*admin).profileAssign},
	{"profile clone", "copy a profile's draft", (*admin).profileClone},
	{"profile validate", "check the draft", (*admin).profileValidate},
	{"profile publish", "publish the draft", (*admin).profilePublish},
	{"profile discard", "replace the draft with the published version", (*admin).profileDiscard},
	{"profile delete", "delete a profile no app uses", (*admin).profileDelete},
	{"profile apps", "the apps that use a profile", (*admin).profileApps},
	{"profile preview", "rows per table, SQL and chains for one user", (*admin).profilePreview},
	{"app list", "list apps", (*admin).appList},
	{"app create", "create a canvas or model-driven app", (*admin).appCreate},
	{"app show", "show an app", (*admin).appShow},
	{"app update", "change an app's tables, views and forms", (*admin).appUpdate},
	{"app offline", `turn "Can be used offline" on with a profile, or off`, (*admin).appOffline},
	{"app publish", "publish an app (its devices move to the profile's newest version)", (*admin).appPublish},
	{"app generate-profile", "make a profile from an app", (*admin).appGenerateProfile},
	{"app delete", "delete an app", (*admin).appDelete},
	{"solution list", "list solutions", (*admin).solutionList},
	{"solution create", "create a solution", (*admin).solutionCreate},
	{"solution show", "show a solution's components", (*admin).solutionShow},
	{"solution add", "add a component", (*admin).solutionAdd},
	{"solution remove", "remove a component", (*admin).solutionRemove},
	{"solution add-required", "add what the components need (add required objects)", (*admin).solutionAddRequired},
	{"solution export", "write a solution archive", (*admin).solutionExport},
	{"solution import", "import a solution archive", (*admin).solutionImport},
}

func adminUsage() string {
	return commandsUsage("Usage: outpost admin [--data DIR | --db URL] COMMAND [flags]\n\nCommands:\n",
		adminCommands, func(c adminCommand) (string, string) { return c.name, c.summary },
		"\nRun \"outpost admin COMMAND -h\" for a command's flags and examples.\n")
}

// admin holds what every admin command uses; the database opens on first
// use, after the command's flags parsed, so "-h" needs no database.
type admin struct {
	dbf    dbFlags
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	db     *store.DB
	p      *platform.Platform
	svc    *apps.Service
	// noEnv, when set, is why the database may not be opened: no
	// environment was named and the default one does not exist.
	noEnv error
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a := &admin{stdout: stdout, stderr: stderr, getenv: getenv}
	fs := commandFlags("admin", stderr, adminUsage(), "")
	a.dbf.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a.noEnv = checkAdminData(fs, getenv, &a.dbf)
	rest := fs.Args()
	if len(rest) == 1 && rest[0] == "help" {
		fmt.Fprint(stdout, adminUsage())
		return nil
	}
	for _, c := range adminCommands {
		if len(rest) > 0 && c.name == rest[0] { // a one-word command: import
			defer a.close()
			return c.run(a, ctx, rest[1:])
		}
	}
	if len(rest) < 2 {
		fmt.Fprint(stderr, adminUsage())
		return errors.New(`name an admin command, such as "user list"`)
	}
	name := rest[0] + " " + rest[1]
	for _, c := range adminCommands {
		if c.name == name {
			defer a.close()
			return c.run(a, ctx, rest[2:])
		}
	}
	fmt.Fprint(stderr, adminUsage())
	return fmt.Errorf("unknown admin command %q", name)
}

func (a *admin) close() {
	if a.db != nil {
		a.db.Close()
	}
}

// platform opens the database and the platform.
func (a *admin) platform(ctx context.Context) (*platform.Platform, error) {
	if a.p != nil {
		return a.p, nil
	}
	if a.noEnv != nil {
		return nil, a.noEnv
	}
	db, err := a.dbf.open(ctx)
	if err != nil {
		return nil, err
	}
	a.db = db
	files, err := a.dbf.fileStore(ctx, a.getenv)
	if err != nil {
		return nil, err
	}
	if a.p, err = platform.Open(ctx, db, platform.Options{Files: files}); err != nil {
		return nil, err
	}
	a.svc = apps.New(a.p)
	return a.p, nil
}

// profiles opens the platform and returns the profile service.
func (a *admin) profiles(ctx context.Context) (*apps.Service, error) {
	if _, err := a.platform(ctx); err != nil {
		return nil, err
	}
	return a.svc, nil
}

// open parses args with fs, requiring the positional arguments named in
// want, then opens the environment (a.p and a.svc): the start of most
// admin commands, in this order, so that "-h" and wrong arguments need no
// database.
func (a *admin) open(ctx context.Context, fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	pos, err := parse(fs, args, want...)
	if err != nil {
		return nil, err
	}
	if _, err := a.platform(ctx); err != nil {
		return nil, err
	}
	return pos, nil
}

// onArg runs fn on the one positional argument of a command whose flags
// fs defines (what names the argument in errors), and prints what fn
// returns.
func (a *admin) onArg(ctx context.Context, fs *flag.FlagSet, args []string, what string, fn func(svc *apps.Service, arg string) (any, error)) error {
	pos, err := a.open(ctx, fs, args, what)
	if err != nil {
		return err
	}
	return a.show(fn(a.svc, pos[0]))
}

// report prints what a command did, one line, unless err says it failed.
func (a *admin) report(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, format+"\n", args...)
	return nil
}

// printID prints the id of what a command created, unless err says it
// was not.
func (a *admin) printID(id string, err error) error {
	return a.report(err, "%s", id)
}

// table returns a writer of aligned columns on standard output, with the
// header line written; the caller writes the rows and flushes it.
func (a *admin) table(header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

// flags returns the flag set of command name; synopsis follows the name
// in the usage line, and examples are printed after the flags.
func (a *admin) flags(name, synopsis string, examples ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: outpost admin %s %s\n", name, synopsis)
		fs.PrintDefaults()
		if len(examples) > 0 {
			fmt.Fprintln(a.stderr, "\nExamples:")
			for _, e := range examples {
				fmt.Fprintf(a.stderr, "  outpost admin %s\n", e)
			}
		}
	}
	return fs
}

// parse parses args with fs, flags before or after the positional
// arguments, and requires exactly the positional arguments named in want.
func parse(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != len(want) {
		fs.Usage()
		if len(pos) < len(want) {
			return nil, fmt.Errorf("%s: name the %s", fs.Name(), strings.Join(want[len(pos):], " and "))
		}
		return nil, fmt.Errorf("%s: unexpected arguments %q", fs.Name(), pos[len(want):])
	}
	return pos, nil
}

// multi is a repeatable string flag; each value may also be a
// comma-separated list.
type multi []string

func (m *multi) String() string { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}

// show prints v as indented JSON.
func (a *admin) show(v any, err error) error {
	if err != nil {
		return err
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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

// userID resolves a user id or login.
func (a *admin) userID(ctx context.Context, s string) (string, error) {
	return a.idOf(ctx, s, "--user is required: a user id or login", func(p *platform.Platform, login string) (string, error) {
		return p.FindUser(ctx, login)
	})
}

// userArg is the start of a command on one user: it defines the required
// --user, parses args with fs (no positional arguments) and resolves the
// user.
func (a *admin) userArg(ctx context.Context, fs *flag.FlagSet, args []string) (string, error) {
	user := fs.String("user", "", "user id or login")
	if _, err := parse(fs, args); err != nil {
		return "", err
	}
	return a.userID(ctx, *user)
}

// optionalUserID is userID for a --user that may be left out: then it is
// "", no user.
func (a *admin) optionalUserID(ctx context.Context, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return a.userID(ctx, s)
}

// idOf resolves s, an id or a name, opening the environment: an id stands
// for itself, find looks a name up, and required is the error when s is
// empty.
func (a *admin) idOf(ctx context.Context, s, required string, find func(p *platform.Platform, name string) (string, error)) (string, error) {
	if s == "" {
		return "", errors.New(required)
	}
	p, err := a.platform(ctx)
	if err != nil || outpost.ValidID(s) {
		return s, err
	}
	return find(p, s)
}
