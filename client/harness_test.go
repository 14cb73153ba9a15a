package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
)

// fakePlanner declares field-service profiles and plans them as a
// published profile is (profile.BuildPlan), without the profile service's
// storage: own and team work orders (optionally only the
// unfinished ones: "republishing" flips it), their accounts and the
// accounts' contacts, every product.
type fakePlanner struct {
	p       *platform.Platform
	version atomic.Int64
	// shares adds the work orders shared with the user to the rule.
	shares atomic.Bool
	// when, if set, is ANDed to the work-order rule (a date window).
	when atomic.Pointer[filter.Cond]
	// linkOnly takes accounts only through their work orders, and contacts
	// through those accounts.
	linkOnly atomic.Bool
}

func (f *fakePlanner) AppProfile(ctx context.Context, by *security.Principal, appID string) (string, string, error) {
	return "field", "modeldriven", nil
}

func (f *fakePlanner) Plan(ctx context.Context, pr *security.Principal, profileID string) (*profile.Plan, error) {
	v := f.version.Load()
	var rule filter.Expr = &filter.Cond{Column: "ownerid", Op: filter.EqUserOrUserTeams}
	if f.shares.Load() {
		rule = &filter.Or{List: []filter.Expr{rule, &filter.Cond{Column: "workorderid", Op: filter.EqSharedWithUser}}}
	}
	if v%2 == 1 {
		rule = &filter.And{List: []filter.Expr{rule, &filter.Cond{Column: "completed", Op: filter.Ne, Values: []any{true}}}}
	}
	if when := f.when.Load(); when != nil {
		c := *when
		rule = &filter.And{List: []filter.Expr{rule, &c}}
	}
	woRule, err := filter.ToJSON(rule)
	if err != nil {
		return nil, err
	}
	own, err := filter.ToJSON(&filter.Cond{Column: "ownerid", Op: filter.EqUserOrUserTeams})
	if err != nil {
		return nil, err
	}
	items := []profile.Item{
		{Table: "workorder", Rule: profile.RuleCustom, Filter: woRule, IntervalMinutes: 10},
		{Table: "account", Rule: profile.RuleCustom, Filter: own, Relationships: []string{"workorder_customerid"}, IntervalMinutes: 10},
		{Table: "contact", Rule: profile.RuleRelated, Relationships: []string{"contact_parentcustomerid"}, IntervalMinutes: 30},
		{Table: "product", Rule: profile.RuleAll, IntervalMinutes: 60},
	}
	if f.linkOnly.Load() {
		items[1].Rule, items[1].Filter = profile.RuleRelated, nil
	}
	for i := range items { // every column, images and files included
		for _, c := range f.p.Schema().MustTable(items[i].Table).Columns {
			if c.Type == schema.Image {
				items[i].ImageColumns = append(items[i].ImageColumns, c.Name)
			}
		}
		items[i].Files = true
	}
	plan, err := profile.BuildPlan(f.p.Schema(), items, pr)
	if err != nil {
		return nil, err
	}
	return &profile.Plan{ProfileID: profileID, Version: v, Items: plan}, nil
}

// world is a server with a few users, teams and the field tables.
type world struct {
	t       testing.TB
	p       *platform.Platform
	eng     *syncsrv.Engine
	srv     *httptest.Server
	planner *fakePlanner
	root    string
	team    string
	role    string
	wide    string // a role reading every work order of the business unit
	users   []string
	tokens  []string
	admin   string
	prods   []string
	// clock is the server's clock, settable.
	clock *testClock
	// seeded counts the accounts seed made, to name rows in order.
	seeded int
}

// testClock is a settable clock: the real time until Set.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

// Set stops the clock at t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves a set clock by d, or sets it d from now.
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Now()
	}
	c.t = c.t.Add(d)
}

var (
	// workOrderTable is the demo's work order without its money and file
	// columns (the file tests add the file columns they need).
	workOrderTable = without(demo.WorkOrder, "cost", "photo", "report")
	productTable   = platform.TableInput{Name: "product", Ownership: schema.OwnedByOrganization, PrimaryName: "name", Offline: true,
		Columns: []schema.Column{{Name: "name", Type: schema.Text, Required: true, MaxLength: 100}, {Name: "price", Type: schema.Money}}}
)

// without returns t without the named columns.
func without(t platform.TableInput, names ...string) platform.TableInput {
	t.Columns = slices.DeleteFunc(slices.Clone(t.Columns), func(c schema.Column) bool { return slices.Contains(names, c.Name) })
	return t
}

func techGrants() []security.Grant {
	var g []security.Grant
	for _, t := range []string{"workorder", "account", "contact"} {
		for _, p := range security.Privileges {
			g = append(g, security.Grant{Table: t, Privilege: p, Depth: security.User})
		}
	}
	return append(g, security.Grant{Table: "product", Privilege: security.Read, Depth: security.Organization},
		security.Grant{Table: "product", Privilege: security.AppendTo, Depth: security.Organization})
}

func newWorld(t testing.TB, e testenv.Engine, nusers int) *world {
	t.Helper()
	return newWorldWith(t, e, nusers, platform.Options{})
}

// newWorldWith is newWorld over a platform with opts.
func newWorldWith(t testing.TB, e testenv.Engine, nusers int, opts platform.Options) *world {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	p, err := platform.Open(ctx, e.Open(t), opts)
	testenv.Must(t, err)
	w := &world{t: t, p: p, planner: &fakePlanner{p: p}, clock: clock}
	sys := platform.System()
	_, err = p.CreateTable(ctx, sys, productTable)
	testenv.Must(t, err)
	_, err = p.CreateTable(ctx, sys, workOrderTable)
	testenv.Must(t, err)
	w.root, err = p.RootBusinessUnit(ctx)
	testenv.Must(t, err)
	w.team, err = p.CreateTeam(ctx, sys, "Field Team", "")
	testenv.Must(t, err)
	w.role, err = p.CreateRole(ctx, sys, "Technician", techGrants())
	testenv.Must(t, err)
	w.wide, err = p.CreateRole(ctx, sys, "Dispatcher", []security.Grant{{Table: "workorder", Privilege: security.Read, Depth: security.BusinessUnit}})
	testenv.Must(t, err)
	for i := range nusers {
		id, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "User " + string(rune('A'+i)), DomainName: "u" + string(rune('a'+i))})
		testenv.Must(t, err)
		testenv.Must(t, p.AssignUserRole(ctx, sys, id, w.role))
		if i < 2 {
			testenv.Must(t, p.AddTeamMember(ctx, sys, w.team, id))
		}
		tok, err := p.IssueToken(ctx, sys, id, "test")
		testenv.Must(t, err)
		w.users, w.tokens = append(w.users, id), append(w.tokens, tok)
	}
	w.eng = syncsrv.New(p, w.planner, syncsrv.Options{Now: clock.Now})
	w.srv = httptest.NewServer(httpapi.New(p, httpapi.Options{Sync: w.eng}))
	t.Cleanup(w.srv.Close)
	admin, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "Admin", DomainName: "admin"})
	testenv.Must(t, err)
	testenv.Must(t, p.AssignUserRole(ctx, sys, admin, security.RoleSystemAdministrator))
	w.admin, err = p.IssueToken(ctx, sys, admin, "test")
	testenv.Must(t, err)
	testenv.Must(t, p.Write(ctx, func(wr *platform.Writer) error {
		for i := range 5 {
			r, err := wr.Create(ctx, sys, "product", map[string]any{"name": "Part " + string(rune('A'+i)), "price": float64(i) + 0.5})
			if err != nil {
				return err
			}
			w.prods = append(w.prods, r["productid"].(string))
		}
		return nil
	}))
	return w
}

// seed creates n accounts per owner, each with a contact and k work orders,
// named in creation order.
func (w *world) seed(owners []string, n, k int) {
	ctx := context.Background()
	sys := platform.System()
	testenv.Must(w.t, w.p.Write(ctx, func(wr *platform.Writer) error {
		for _, o := range owners {
			for a := range n {
				w.seeded++
				acc, err := wr.Create(ctx, sys, "account", map[string]any{"name": fmt.Sprintf("Account %06d", w.seeded), "ownerid": o, "revenue": float64(a * 1000)})
				if err != nil {
					return err
				}
				id := acc["accountid"].(string)
				if _, err := wr.Create(ctx, sys, "contact", map[string]any{"lastname": fmt.Sprintf("Contact %06d", w.seeded), "parentcustomerid": id, "ownerid": o}); err != nil {
					return err
				}
				for j := range k {
					if _, err := wr.Create(ctx, sys, "workorder", map[string]any{"name": fmt.Sprintf("WO %06d.%d", w.seeded, j), "customerid": id, "ownerid": o,
						"productid": w.prods[j%len(w.prods)], "priority": int64(1 + j%3), "estimatedhours": float64(j) / 2, "completed": j%4 == 0,
						"scheduledstart": time.Date(2026, 11, 1+j%20, 8, 0, 0, 0, time.UTC), "description": strings.Repeat("x", 40)}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}))
}

func (w *world) principal(i int) *security.Principal {
	pr, err := w.p.Principal(context.Background(), w.users[i])
	testenv.Must(w.t, err)
	return pr
}

// device opens user i's device in dir through tr.
func (w *world) device(i int, dir string, tr http.RoundTripper) *client.Client {
	w.t.Helper()
	c, err := client.Open(context.Background(), client.Options{Dir: dir, Server: w.srv.URL, Token: w.tokens[i], AppID: "fieldapp",
		HTTPClient: &http.Client{Transport: tr}})
	testenv.Must(w.t, err)
	w.t.Cleanup(func() { _ = c.Close() })
	return c
}

// checkEqual fails unless the device holds exactly its download plan.
func (w *world) checkEqual(t testing.TB, i int, c *client.Client) {
	t.Helper()
	want, err := w.eng.Expected(context.Background(), w.principal(i), c.DeviceID())
	testenv.Must(t, err)
	for table, rows := range want {
		got, err := c.Rows(context.Background(), table)
		testenv.Must(t, err)
		if diff := cmp.Diff(rows, got); diff != "" {
			t.Fatalf("device of user %d, table %s differs from the plan (-want +got):\n%s", i, table, diff)
		}
	}
}

// faults is a transport that can be down, cut streamed bodies, and lose
// the reply of an upload after the server applied it.
type faults struct {
	mu        sync.Mutex
	down      bool
	cutAfter  int64 // cut the next response body after this many bytes
	loseReply bool  // drop the next upload reply (the server applied it)
	// fail makes requests to routes ending with one of these fail, as a
	// device whose process dies once it reaches them.
	fail []string
}

func (f *faults) set(fn func(f *faults)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

var errNetwork = errors.New("injected network failure")

func (f *faults) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	down, cut, lose := f.down, f.cutAfter, f.loseReply
	if cut > 0 && !strings.HasSuffix(req.URL.Path, "/events") {
		f.cutAfter = 0
	}
	if lose && strings.HasSuffix(req.URL.Path, "/upload") {
		f.loseReply = false
	} else {
		lose = false
	}
	for _, suffix := range f.fail {
		down = down || strings.HasSuffix(req.URL.Path, suffix)
	}
	f.mu.Unlock()
	if down {
		return nil, errNetwork
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if lose {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errNetwork
	}
	if cut > 0 && !strings.HasSuffix(req.URL.Path, "/events") {
		resp.Body = &cutBody{r: resp.Body, left: cut}
	}
	return resp, nil
}

type cutBody struct {
	r    io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errNetwork
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.r.Close() }
