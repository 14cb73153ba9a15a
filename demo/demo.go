// Package demo seeds a field-service environment: business units, teams,
// users with roles, the built-in tables plus custom workorder and product
// tables, and a few thousand rows. The demo command and the end-to-end
// tests use it.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// Options sizes the seed. The zero value seeds the default demo.
type Options struct {
	// Accounts per owner; default 40. Work orders are 5 per account,
	// contacts 2 per account.
	AccountsPerTechnician int
	// Seed for the random data; default 1.
	Seed uint64
	// Progress, when set, is told what is being seeded.
	Progress func(msg string)
}

// User is one seeded person.
type User struct {
	ID, DomainName, FullName, Role string
}

// Env is what Seed created.
type Env struct {
	RootBU, NorthBU, SouthBU string
	NorthTeam, SouthTeam     string
	DispatchTeam             string
	Admin, Maker, Manager    User
	Technicians              []User
	FieldRole                string
	// ProfileID is the published "Field Technician" profile; ModelDrivenApp
	// and CanvasApp are the offline apps that use it.
	ProfileID, ModelDrivenApp, CanvasApp string
	// WorkOrder is the work order the README's walkthrough edits: the first
	// technician's first own open work order of High priority (3), so that
	// setting priority 1 on the device and 2 on the server both change it.
	WorkOrder, WorkOrderName string
}

// Users returns every seeded user, administrators first.
func (e *Env) Users() []User {
	return append([]User{e.Admin, e.Maker, e.Manager}, e.Technicians...)
}

// WorkOrder and Product are the custom tables of the demo.
var (
	WorkOrder = platform.TableInput{
		Name: "workorder", DisplayName: "Work Order", PluralName: "Work Orders", Ownership: schema.OwnedByUser,
		PrimaryName: "name", Offline: true,
		Columns: []schema.Column{
			{Name: "name", Type: schema.Text, Required: true, MaxLength: 100},
			{Name: "customerid", Type: schema.Lookup, Target: "account"},
			{Name: "productid", Type: schema.Lookup, Target: "product"},
			{Name: "description", Type: schema.Memo},
			{Name: "priority", Type: schema.Choice, Options: []schema.Option{{Value: 1, Label: "Low"}, {Value: 2, Label: "Normal"}, {Value: 3, Label: "High"}}},
			{Name: "scheduledstart", Type: schema.DateTime},
			{Name: "estimatedhours", Type: schema.Decimal},
			{Name: "cost", Type: schema.Money},
			{Name: "completed", Type: schema.Boolean},
			{Name: "photo", Type: schema.Image},
			{Name: "report", Type: schema.File},
		},
	}
	Product = platform.TableInput{
		Name: "product", DisplayName: "Product", PluralName: "Products", Ownership: schema.OwnedByOrganization,
		PrimaryName: "name", Offline: true,
		Columns: []schema.Column{
			{Name: "name", Type: schema.Text, Required: true, MaxLength: 100},
			{Name: "productnumber", Type: schema.Text, MaxLength: 40},
			{Name: "price", Type: schema.Money},
		},
	}
)

// FieldTechnicianGrants is the demo's custom role: own work orders, accounts
// and contacts, the team's too through team ownership, every product.
func FieldTechnicianGrants() []security.Grant {
	var g []security.Grant
	for _, t := range []string{"workorder", "account", "contact", "task"} {
		for _, p := range security.Privileges {
			g = append(g, security.Grant{Table: t, Privilege: p, Depth: security.User})
		}
	}
	g = append(g, security.Grant{Table: "product", Privilege: security.Read, Depth: security.Organization},
		security.Grant{Table: "product", Privilege: security.AppendTo, Depth: security.Organization},
		security.Grant{Table: "canvasapp", Privilege: security.Read, Depth: security.Organization},
		security.Grant{Table: "mobileofflineprofile", Privilege: security.Read, Depth: security.Organization},
		security.Grant{Table: "syncerror", Privilege: security.Read, Depth: security.User})
	return g
}

// Seed creates the demo environment in p, which must be new.
func Seed(ctx context.Context, p *platform.Platform, opts Options) (*Env, error) {
	if opts.AccountsPerTechnician <= 0 {
		opts.AccountsPerTechnician = 40
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf(format, args...))
		}
	}
	sys := platform.System()
	e := &Env{}
	var err error
	must := func(id string, err2 error) string {
		if err == nil && err2 != nil {
			err = err2
		}
		return id
	}
	say("business units and teams")
	e.RootBU = must(p.RootBusinessUnit(ctx))
	e.NorthBU = must(p.CreateBusinessUnit(ctx, sys, "North", e.RootBU))
	e.SouthBU = must(p.CreateBusinessUnit(ctx, sys, "South", e.RootBU))
	e.NorthTeam = must(p.CreateTeam(ctx, sys, "North Field Team", e.NorthBU))
	e.SouthTeam = must(p.CreateTeam(ctx, sys, "South Field Team", e.SouthBU))
	e.DispatchTeam = must(p.CreateTeam(ctx, sys, "Dispatch", e.RootBU))
	if err != nil {
		return nil, err
	}
	say("tables workorder and product")
	if _, err := p.CreateTable(ctx, sys, Product); err != nil {
		return nil, err
	}
	if _, err := p.CreateTable(ctx, sys, WorkOrder); err != nil {
		return nil, err
	}
	say("users and roles")
	e.FieldRole = must(p.CreateRole(ctx, sys, "Field Technician", FieldTechnicianGrants()))
	mkUser := func(name, domain, bu, manager, role string, roles ...string) User {
		id := must(p.CreateUser(ctx, sys, platform.UserInput{FullName: name, DomainName: domain, BusinessUnitID: bu, ManagerID: manager, Email: domain}))
		for _, r := range roles {
			if err == nil {
				err = p.AssignUserRole(ctx, sys, id, r)
			}
		}
		return User{ID: id, DomainName: domain, FullName: name, Role: role}
	}
	e.Admin = mkUser("Avery Admin", "admin@contoso.example", e.RootBU, "", "System Administrator", security.RoleSystemAdministrator)
	e.Maker = mkUser("Morgan Maker", "maker@contoso.example", e.RootBU, "", "Environment Maker", security.RoleEnvironmentMaker, security.RoleBasicUser)
	e.Manager = mkUser("Max Manager", "manager@contoso.example", e.RootBU, "", "Basic User, Field Technician (manager)", security.RoleBasicUser, e.FieldRole)
	techs := []struct{ name, domain, bu, team string }{
		{"Nora North", "nora@contoso.example", e.NorthBU, e.NorthTeam},
		{"Ned North", "ned@contoso.example", e.NorthBU, e.NorthTeam},
		{"Sam South", "sam@contoso.example", e.SouthBU, e.SouthTeam},
		{"Sue South", "sue@contoso.example", e.SouthBU, e.SouthTeam},
	}
	for _, t := range techs {
		u := mkUser(t.name, t.domain, t.bu, e.Manager.ID, "Basic User, Field Technician", security.RoleBasicUser, e.FieldRole)
		if err == nil {
			err = p.AddTeamMember(ctx, sys, t.team, u.ID)
		}
		e.Technicians = append(e.Technicians, u)
	}
	if err != nil {
		return nil, err
	}
	say("rows")
	if err := seedRows(ctx, p, e, opts, say); err != nil {
		return nil, err
	}
	say("offline profile and apps")
	if err := seedOffline(ctx, p, e); err != nil {
		return nil, err
	}
	return e, nil
}

var (
	cities   = []string{"Springfield", "Riverton", "Lakeside", "Hillview", "Fairport", "Oakdale"}
	surnames = []string{"Garcia", "Smith", "Chen", "Okafor", "Novak", "Haddad", "Silva", "Kowalski"}
	jobs     = []string{"Replace filter", "Annual inspection", "Repair compressor", "Install meter", "Check wiring", "Calibrate sensor"}
)

func seedRows(ctx context.Context, p *platform.Platform, e *Env, opts Options, say func(string, ...any)) error {
	rng := rand.New(rand.NewPCG(opts.Seed, 42))
	sys := platform.System()
	var products []string
	return p.Write(ctx, func(w *platform.Writer) error {
		for i := range 50 {
			row, err := w.Create(ctx, sys, "product", map[string]any{"name": fmt.Sprintf("Part %03d", i+1), "productnumber": fmt.Sprintf("P-%05d", i+1), "price": float64(rng.IntN(50000)) / 100})
			if err != nil {
				return err
			}
			products = append(products, row["productid"].(string))
		}
		owners := []string{}
		for _, t := range e.Technicians {
			owners = append(owners, t.ID)
		}
		owners = append(owners, e.NorthTeam, e.SouthTeam, e.Manager.ID)
		base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		n, total := 0, len(owners)*opts.AccountsPerTechnician
		// A large demo takes a while: say how far it is, every tenth.
		step := max(total/10, 100)
		for _, owner := range owners {
			for a := range opts.AccountsPerTechnician {
				n++
				if n%step == 0 {
					say("rows: %d of %d accounts (%d%%)", n, total, n*100/total)
				}
				acc, err := w.Create(ctx, sys, "account", map[string]any{
					"name": fmt.Sprintf("%s %s Ltd", surnames[rng.IntN(len(surnames))], cities[rng.IntN(len(cities))]), "accountnumber": fmt.Sprintf("A%05d", n),
					"address1_city": cities[rng.IntN(len(cities))], "ownerid": owner, "revenue": float64(rng.IntN(10_000_000)),
				})
				if err != nil {
					return err
				}
				accID := acc["accountid"].(string)
				for c := range 2 {
					if _, err := w.Create(ctx, sys, "contact", map[string]any{"firstname": fmt.Sprintf("C%d", c), "lastname": surnames[rng.IntN(len(surnames))],
						"fullname": fmt.Sprintf("C%d %s", c, surnames[(a+c)%len(surnames)]), "parentcustomerid": accID, "ownerid": owner}); err != nil {
						return err
					}
				}
				for j := range 5 {
					row := map[string]any{
						"name": fmt.Sprintf("WO-%05d %s", n*5+j, jobs[rng.IntN(len(jobs))]), "customerid": accID, "productid": products[rng.IntN(len(products))],
						"priority": int64(1 + rng.IntN(3)), "scheduledstart": base.Add(time.Duration(rng.IntN(24*60)) * time.Hour),
						"estimatedhours": float64(1+rng.IntN(16)) / 2, "cost": float64(rng.IntN(100000)) / 100, "completed": rng.IntN(4) == 0, "ownerid": owner,
					}
					wo, err := w.Create(ctx, sys, "workorder", row)
					if err != nil {
						return err
					}
					if e.WorkOrder == "" && owner == e.Technicians[0].ID && row["priority"] == int64(3) && row["completed"] == false {
						e.WorkOrder, e.WorkOrderName = wo["workorderid"].(string), row["name"].(string)
					}
				}
			}
		}
		return nil
	})
}
