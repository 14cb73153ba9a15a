package platform_test

import (
	"context"
	"sync"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// forEachEngine runs fn against a fresh platform on every engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, p *platform.Platform)) {
	t.Helper()
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		p, err := platform.Open(t.Context(), e.Open(t), platform.Options{})
		if err != nil {
			t.Fatalf("open platform: %v", err)
		}
		fn(t, p)
	})
}

// wantCode checks that err carries code.
func wantCode(t *testing.T, err error, code outpost.Code) {
	t.Helper()
	if got := outpost.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// org is a small organisation for security tests:
//
//	root
//	├── A        (users u1, u2; team TA with u1)
//	│   └── A1   (user u3)
//	└── B        (user u4)
type org struct {
	root, a, a1, b string
	u1, u2, u3, u4 string
	ta             string
}

func newOrg(t *testing.T, p *platform.Platform) *org {
	t.Helper()
	ctx := context.Background()
	sys := platform.System()
	s := testenv.MustGet[string](t)
	o := &org{}
	o.root = s(p.RootBusinessUnit(ctx))
	o.a = s(p.CreateBusinessUnit(ctx, sys, "A", o.root))
	o.a1 = s(p.CreateBusinessUnit(ctx, sys, "A1", o.a))
	o.b = s(p.CreateBusinessUnit(ctx, sys, "B", o.root))
	o.u1 = s(p.CreateUser(ctx, sys, platform.UserInput{FullName: "U One", DomainName: "u1", BusinessUnitID: o.a}))
	o.u2 = s(p.CreateUser(ctx, sys, platform.UserInput{FullName: "U Two", DomainName: "u2", BusinessUnitID: o.a}))
	o.u3 = s(p.CreateUser(ctx, sys, platform.UserInput{FullName: "U Three", DomainName: "u3", BusinessUnitID: o.a1, ManagerID: o.u1}))
	o.u4 = s(p.CreateUser(ctx, sys, platform.UserInput{FullName: "U Four", DomainName: "u4", BusinessUnitID: o.b}))
	o.ta = s(p.CreateTeam(ctx, sys, "TA", o.a))
	testenv.Must(t, p.AddTeamMember(ctx, sys, o.ta, o.u1))
	return o
}

// principal loads the principal of a user.
func principal(t *testing.T, p *platform.Platform, id string) *security.Principal {
	t.Helper()
	pr, err := p.Principal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// role creates a role with grants and assigns it to the user or team.
func role(t *testing.T, p *platform.Platform, to string, team bool, grants ...security.Grant) string {
	t.Helper()
	ctx := context.Background()
	id := testenv.MustGet[string](t)(p.CreateRole(ctx, platform.System(), "r-"+testenv.Tag(outpost.NewID()), grants))
	if team {
		testenv.Must(t, p.AssignTeamRole(ctx, platform.System(), to, id))
	} else {
		testenv.Must(t, p.AssignUserRole(ctx, platform.System(), to, id))
	}
	return id
}

// names lists the primary names of a table's rows visible to by.
func names(t *testing.T, p *platform.Platform, by *security.Principal, table string, q platform.Query) []string {
	t.Helper()
	q.OrderBy = append([]platform.Order{{Column: "name"}}, q.OrderBy...)
	q.PageSize = platform.MaxPageSize
	page, err := p.List(context.Background(), by, table, q)
	if err != nil {
		t.Fatalf("list %s: %v", table, err)
	}
	out := []string{}
	for _, r := range page.Rows {
		out = append(out, r["name"].(string))
	}
	return out
}

// accountCreator gives u a role with create and read on accounts at user
// depth and a token, and returns the role, the token and u's principal as
// the token's request gets it (from memory when cached), with the security
// log version it is exact for: what a one-row data write runs as
// (WriteAs).
func accountCreator(t *testing.T, p *platform.Platform, u string) (roleID, token string, pr *security.Principal, version int64) {
	t.Helper()
	ctx := context.Background()
	roleID = role(t, p, u, false,
		security.Grant{Table: "account", Privilege: security.Create, Depth: security.User},
		security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
	token = testenv.MustGet[string](t)(p.IssueToken(ctx, platform.System(), u, "t"))
	_, pr, version, err := p.AuthenticateCredential(ctx, token, true)
	testenv.Must(t, err)
	return roleID, token, pr, version
}

// holdWriter starts a write that holds the writer until the returned
// release is called, and returns once it holds it; wait, called after
// release, returns the holding write's error.
func holdWriter(t *testing.T, p *platform.Platform) (release func(), wait func() error) {
	t.Helper()
	free, started := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- p.Write(context.Background(), func(w *platform.Writer) error {
			close(started)
			<-free
			return nil
		})
	}()
	<-started
	var once sync.Once
	return func() { once.Do(func() { close(free) }) }, func() error { return <-holder }
}
