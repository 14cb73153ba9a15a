package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
)

// env is one server with the benchmark data set, serving HTTP on loopback.
//
// The data set at size n (work orders on the server): the device user
// owns 9% of n work orders and a team the user belongs to owns 1% more, so
// the device's download set is n/10 work orders, n/20 accounts (two work
// orders each, owned like them) and n/20 contacts (one per account): n/5
// rows over three tables. Nine other users own the remaining work orders,
// ten per account. Small users (for fan-out and upload) own a few rows each.
type env struct {
	p      *platform.Platform
	eng    *syncsrv.Engine
	srv    *http.Server
	url    string
	closeD func() error

	appID      string
	user, team string
	token      string
	admin      string // admin token
	other      string // another technician
	own        []string
	teamWOs    []string
	small      []smallUser
	deviceRows int
}

type smallUser struct {
	id, token string
	wos       []string
}

// newEnv builds the data set of size n in a fresh database of engine.
func newEnv(ctx context.Context, r *recorder, open Opener, name string, n, smallUsers int, maxRows int64) (*env, error) {
	return newShapedEnv(ctx, r, open, name, n, smallUsers, maxRows, false)
}

// newShapedEnv is newEnv; with deviceOnly every work order is in the
// device's set (no other technicians), so the set is 2n rows.
func newShapedEnv(ctx context.Context, r *recorder, open Opener, name string, n, smallUsers int, maxRows int64, deviceOnly bool) (*env, error) {
	db, closeDB, err := open(ctx, r.engine, name)
	if err != nil {
		return nil, err
	}
	e := &env{closeD: closeDB}
	if e.p, err = platform.Open(ctx, db, platform.Options{}); err != nil {
		return nil, errors.Join(err, closeDB())
	}
	start := time.Now()
	if err := e.build(ctx, n, smallUsers, deviceOnly); err != nil {
		return nil, errors.Join(err, closeDB())
	}
	r.logf("built %s data set: %d work orders in %.1f s", name, n, time.Since(start).Seconds())
	profiles := apps.New(e.p)
	// The fan-out scenario holds thousands of idle change streams over a
	// few users' devices.
	e.eng = syncsrv.New(e.p, profiles, syncsrv.Options{MaxRows: maxRows, EventStreamsPerUser: 1 << 20, EventStreamsPerDevice: 1 << 20})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, closeDB())
	}
	e.srv = &http.Server{Handler: httpapi.New(e.p, httpapi.Options{Profiles: profiles, Sync: e.eng}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	e.url = "http://" + ln.Addr().String()
	return e, nil
}

func (e *env) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
	e.srv.Close()
	return e.closeD()
}

func (e *env) build(ctx context.Context, n, smallUsers int, deviceOnly bool) error {
	p, sys := e.p, platform.System()
	if _, err := p.CreateTable(ctx, sys, demo.Product); err != nil {
		return err
	}
	if _, err := p.CreateTable(ctx, sys, demo.WorkOrder); err != nil {
		return err
	}
	role, err := p.CreateRole(ctx, sys, "Field Technician", demo.FieldTechnicianGrants())
	if err != nil {
		return err
	}
	root, err := p.RootBusinessUnit(ctx)
	if err != nil {
		return err
	}
	mkUser := func(name string) (string, string, error) {
		id, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: name, DomainName: name + "@bench.example"})
		if err != nil {
			return "", "", err
		}
		for _, r := range []string{security.RoleBasicUser, role} {
			if err := p.AssignUserRole(ctx, sys, id, r); err != nil {
				return "", "", err
			}
		}
		tok, err := p.IssueToken(ctx, sys, id, "bench")
		return id, tok, err
	}
	if e.user, e.token, err = mkUser("tech0"); err != nil {
		return err
	}
	if e.team, err = p.CreateTeam(ctx, sys, "Bench Team", root); err != nil {
		return err
	}
	if err := p.AddTeamMember(ctx, sys, e.team, e.user); err != nil {
		return err
	}
	adminID, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "Admin", DomainName: "admin@bench.example"})
	if err != nil {
		return err
	}
	if err := p.AssignUserRole(ctx, sys, adminID, security.RoleSystemAdministrator); err != nil {
		return err
	}
	if e.admin, err = p.IssueToken(ctx, sys, adminID, "bench"); err != nil {
		return err
	}
	// The device's set: n*9/100 own work orders, n/100 team work orders.
	teamN := max(1, n/100)
	ownN := max(2, n/10-teamN)
	if deviceOnly {
		ownN = max(2, n-teamN)
	}
	if e.own, err = e.importSet(ctx, e.user, "systemuser", root, ownN, 2); err != nil {
		return err
	}
	if e.teamWOs, err = e.importSet(ctx, e.team, "team", root, teamN, 2); err != nil {
		return err
	}
	e.deviceRows = ownN + teamN + 2*((ownN+1)/2+(teamN+1)/2)
	rest := n - ownN - teamN
	for i := range 9 {
		id, _, err := mkUser(fmt.Sprintf("tech%d", i+1))
		if err != nil {
			return err
		}
		if i == 0 {
			e.other = id
		}
		if _, err := e.importSet(ctx, id, "systemuser", root, rest/9, 10); err != nil {
			return err
		}
	}
	for i := range smallUsers {
		id, tok, err := mkUser(fmt.Sprintf("small%d", i))
		if err != nil {
			return err
		}
		wos, err := e.importSet(ctx, id, "systemuser", root, 20, 2)
		if err != nil {
			return err
		}
		e.small = append(e.small, smallUser{id: id, token: tok, wos: wos})
	}
	return e.publish(ctx)
}

// importSet imports wos work orders owned by owner, perAccount per account,
// with the accounts and one contact each, and returns the work order ids.
func (e *env) importSet(ctx context.Context, owner, ownerType, bu string, wos, perAccount int) ([]string, error) {
	const chunk = 20000
	sys := platform.System()
	naccts := (wos + perAccount - 1) / perAccount
	own := func() []any { return []any{owner, ownerType, bu} }
	ids := make([]string, 0, wos)
	for lo := 0; lo < naccts; lo += chunk / perAccount {
		hi := min(naccts, lo+chunk/perAccount)
		var accts, contacts, orders [][]any
		for a := lo; a < hi; a++ {
			aid := outpost.NewID()
			accts = append(accts, append([]any{aid, fmt.Sprintf("Account %d", a), float64(a * 100)}, own()...))
			contacts = append(contacts, append([]any{fmt.Sprintf("Contact %d", a), "Field", aid, "contact@example.com"}, own()...))
			for k := 0; k < perAccount && a*perAccount+k < wos; k++ {
				j := a*perAccount + k
				wid := outpost.NewID()
				ids = append(ids, wid)
				orders = append(orders, append([]any{wid, fmt.Sprintf("WO-%07d", j), aid, "Inspect the unit and replace worn parts.", int64(1 + j%3),
					time.Date(2026, 11, 1+j%28, 8, 0, 0, 0, time.UTC), float64(j%16) / 2, float64(j%500) + 0.25, j%4 == 0}, own()...))
			}
		}
		err := e.p.Write(ctx, func(w *platform.Writer) error {
			oc := []string{schema.ColOwnerID, schema.ColOwnerIDType, schema.ColOwningBusinessUnit}
			if err := w.Import(ctx, sys, "account", append([]string{"accountid", "name", "revenue"}, oc...), accts); err != nil {
				return err
			}
			if err := w.Import(ctx, sys, "contact", append([]string{"lastname", "firstname", "parentcustomerid", "emailaddress1"}, oc...), contacts); err != nil {
				return err
			}
			return w.Import(ctx, sys, "workorder", append([]string{"workorderid", "name", "customerid", "description", "priority",
				"scheduledstart", "estimatedhours", "cost", "completed"}, oc...), orders)
		})
		if err != nil {
			return nil, fmt.Errorf("import data set: %w", err)
		}
	}
	return ids, nil
}

// publish creates the profile (own and team work orders, their accounts,
// those accounts' contacts) and a model-driven offline app on it.
func (e *env) publish(ctx context.Context) error {
	svc := apps.New(e.p)
	sys := platform.System()
	prof, err := svc.Create(ctx, sys, profile.Input{Name: "Bench", Items: []profile.ItemInput{
		{Item: profile.Item{Table: "workorder", Rule: profile.RuleOrganization, UserRows: true, TeamRows: true, IntervalMinutes: 10}},
		{Item: profile.Item{Table: "account", Rule: profile.RuleRelated, Relationships: []string{"workorder_customerid"}, IntervalMinutes: 10}},
		{Item: profile.Item{Table: "contact", Rule: profile.RuleRelated, Relationships: []string{"contact_parentcustomerid"}, IntervalMinutes: 10}},
	}})
	if err != nil {
		return err
	}
	if _, _, err := svc.Publish(ctx, sys, prof.ID); err != nil {
		return err
	}
	app, err := svc.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "BenchApp", Definition: apps.Definition{Tables: []string{"workorder"}}})
	if err != nil {
		return err
	}
	if _, err := svc.SetOffline(ctx, sys, app.ID, apps.OfflineInput{Enabled: true, ProfileID: prof.ID}); err != nil {
		return err
	}
	if _, err := svc.PublishApp(ctx, sys, app.ID); err != nil {
		return err
	}
	e.appID = app.ID
	return nil
}
