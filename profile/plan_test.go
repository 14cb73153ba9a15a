package profile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// world is a small organisation with data for download-plan tests:
//
//	root
//	├── A   (u1, u2; team TA = u1, u3)
//	│   └── A1  (u3)
//	└── B   (u4; team TB = u4)
//
// Tables: client, job (N:1 client, N:1 part, N:N tool), person (N:1
// client), part and tool (organization owned), zone (business owned).
type world struct {
	root, a, a1, b string
	users          []string // u1..u4
	ta, tb         string
	rows           map[string][]outpost.Row
	pairs          [][2]string // job_tool (jobid, toolid)
	shares         map[string]map[string][]string
}

func lookup(name, target string) schema.Column {
	return schema.Column{Name: name, Type: schema.Lookup, Target: target}
}

func newWorld(t *testing.T, p *platform.Platform) *world {
	t.Helper()
	ctx := t.Context()
	s := testenv.MustGet[string](t)
	w := &world{rows: map[string][]outpost.Row{}, shares: map[string]map[string][]string{}}
	w.root = s(p.RootBusinessUnit(ctx))
	w.a = s(p.CreateBusinessUnit(ctx, sys, "A", w.root))
	w.a1 = s(p.CreateBusinessUnit(ctx, sys, "A1", w.a))
	w.b = s(p.CreateBusinessUnit(ctx, sys, "B", w.root))
	for i, bu := range []string{w.a, w.a, w.a1, w.b} {
		w.users = append(w.users, s(p.CreateUser(ctx, sys, platform.UserInput{FullName: fmt.Sprintf("U%d", i+1), DomainName: fmt.Sprintf("u%d", i+1), BusinessUnitID: bu})))
	}
	w.ta = s(p.CreateTeam(ctx, sys, "TA", w.a))
	w.tb = s(p.CreateTeam(ctx, sys, "TB", w.b))
	testenv.Must(t, p.AddTeamMember(ctx, sys, w.ta, w.users[0]))
	testenv.Must(t, p.AddTeamMember(ctx, sys, w.ta, w.users[2]))
	testenv.Must(t, p.AddTeamMember(ctx, sys, w.tb, w.users[3]))
	prio := schema.Column{Name: "priority", Type: schema.Integer}
	for _, in := range []platform.TableInput{
		{Name: "part", Ownership: schema.OwnedByOrganization, Offline: true},
		{Name: "tool", Ownership: schema.OwnedByOrganization, Offline: true},
		{Name: "zone", Ownership: schema.OwnedByBusiness, Offline: true},
		{Name: "client", Offline: true},
		{Name: "job", Offline: true, Columns: []schema.Column{lookup("customerid", "client"), lookup("partid", "part"), prio,
			{Name: "photo", Type: schema.Image}, {Name: "doc", Type: schema.File}}},
		{Name: "person", Offline: true, Columns: []schema.Column{lookup("clientid", "client")}},
	} {
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, in))
	}
	testenv.Must(t, p.CreateManyToMany(ctx, sys, schema.ManyToManyDef{Name: "job_tool", Table1: "job", Table2: "tool", Intersect: "job_tool"}))
	tables := []string{"client", "job", "person", "part", "tool", "zone"}
	var grants []security.Grant
	grants = append(grants, security.Grant{Table: "mobileofflineprofile", Privilege: security.Read, Depth: security.Organization})
	depths := []security.Depth{security.User, security.ParentChild, security.BusinessUnit, security.Organization}
	for i, u := range w.users {
		g := slices.Clone(grants)
		for _, tb := range tables {
			d := depths[i]
			if tb == "part" || tb == "tool" {
				d = security.Organization // organization owned: all or nothing
			}
			g = append(g, security.Grant{Table: tb, Privilege: security.Read, Depth: d})
		}
		if i == 2 {
			g = g[:len(g)-3] // u3 cannot read part, tool or zone
		}
		role := s(p.CreateRole(ctx, sys, fmt.Sprintf("R%d", i+1), g))
		testenv.Must(t, p.AssignUserRole(ctx, sys, u, role))
	}
	// Team TA's role adds business-unit read on client for u1 and u3.
	role := s(p.CreateRole(ctx, sys, "TA client", []security.Grant{{Table: "client", Privilege: security.Read, Depth: security.BusinessUnit}}))
	testenv.Must(t, p.AssignTeamRole(ctx, sys, w.ta, role))
	w.seed(t, p)
	return w
}

func (w *world) seed(t *testing.T, p *platform.Platform) {
	t.Helper()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(7, 7))
	owners := append(slices.Clone(w.users), w.ta, w.tb)
	bus := []string{w.root, w.a, w.a1, w.b}
	pick := func(table string) any {
		rs := w.rows[table]
		if len(rs) == 0 || rng.IntN(6) == 0 {
			return nil
		}
		return rs[rng.IntN(len(rs))][table+"id"]
	}
	letters := "ABCDE"
	err := p.Write(ctx, func(wr *platform.Writer) error {
		create := func(table string, n int, fn func(i int) map[string]any) error {
			for i := range n {
				in := fn(i)
				in["name"] = fmt.Sprintf("%c-%s-%d", letters[rng.IntN(len(letters))], table, i)
				row, err := wr.Create(ctx, sys, table, in)
				if err != nil {
					return err
				}
				w.rows[table] = append(w.rows[table], row)
			}
			return nil
		}
		none := func(int) map[string]any { return map[string]any{} }
		owned := func(int) map[string]any { return map[string]any{"ownerid": owners[rng.IntN(len(owners))]} }
		if err := create("part", 12, none); err != nil {
			return err
		}
		if err := create("tool", 10, none); err != nil {
			return err
		}
		if err := create("zone", 8, func(int) map[string]any { return map[string]any{"owningbusinessunit": bus[rng.IntN(len(bus))]} }); err != nil {
			return err
		}
		if err := create("client", 40, owned); err != nil {
			return err
		}
		if err := create("job", 120, func(i int) map[string]any {
			m := owned(i)
			m["customerid"], m["partid"], m["priority"] = pick("client"), pick("part"), int64(1+rng.IntN(3))
			return m
		}); err != nil {
			return err
		}
		if err := create("person", 60, func(i int) map[string]any {
			m := owned(i)
			m["clientid"] = pick("client")
			return m
		}); err != nil {
			return err
		}
		for range 60 {
			job := w.rows["job"][rng.IntN(len(w.rows["job"]))]["jobid"].(string)
			pair := [2]string{job, w.rows["tool"][rng.IntN(10)]["toolid"].(string)}
			if slices.Contains(w.pairs, pair) {
				continue
			}
			if _, err := wr.Create(ctx, sys, "job_tool", map[string]any{"jobid": pair[0], "toolid": pair[1]}); err != nil {
				return err
			}
			w.pairs = append(w.pairs, pair)
		}
		return nil
	})
	testenv.Must(t, err)
	for _, table := range []string{"client", "job", "person"} {
		for range 8 {
			id := w.rows[table][rng.IntN(len(w.rows[table]))][table+"id"].(string)
			to := owners[rng.IntN(len(owners))]
			testenv.Must(t, p.Share(ctx, sys, table, id, to, platform.ShareRead))
			if w.shares[table] == nil {
				w.shares[table] = map[string][]string{}
			}
			w.shares[table][id] = append(w.shares[table][id], to)
		}
	}
	// Re-read the rows: sharing stamped new versions, job pairs are done.
	for table := range w.rows {
		page := testenv.MustGet[*platform.Page](t)(p.List(ctx, sys, table, platform.Query{PageSize: platform.MaxPageSize}))
		w.rows[table] = page.Rows
	}
}

// brute computes the download set of items for pr in plain Go: for each
// table, readable AND (rule OR related), following relationships to the
// sets already computed, until nothing changes.
func (w *world) brute(t *testing.T, sch *schema.Schema, pr *security.Principal, items []profile.Item, custom map[string]func(outpost.Row, map[string]map[string]outpost.Row) bool) map[string][]string {
	byID := map[string]map[string]outpost.Row{}
	for table, rs := range w.rows {
		byID[table] = map[string]outpost.Row{}
		for _, r := range rs {
			byID[table][r[table+"id"].(string)] = r
		}
	}
	mine := append([]string{pr.UserID}, pr.TeamIDs...)
	readable := func(tb *schema.Table, r outpost.Row) bool {
		d := pr.Depth(tb, security.Read)
		owner, _ := r["ownerid"].(string)
		bu, _ := r["owningbusinessunit"].(string)
		id := r[tb.PrimaryKey()].(string)
		switch {
		case d == security.None:
			return false
		case d == security.Organization:
			return true
		case tb.HasOwner() && (slices.Contains(mine, owner) || slices.ContainsFunc(w.shares[tb.Name][id], func(s string) bool { return slices.Contains(mine, s) })):
			return true
		case d == security.ParentChild:
			return slices.Contains(pr.BusinessUnitSubtree, bu)
		case d == security.BusinessUnit || !tb.HasOwner():
			return bu == pr.BusinessUnitID
		}
		return false
	}
	sets := map[string]map[string]bool{}
	for _, it := range items {
		sets[it.Table] = map[string]bool{}
	}
	for changed := true; changed; {
		changed = false
		for _, it := range items {
			tb := sch.MustTable(it.Table)
			for id, r := range byID[it.Table] {
				if sets[it.Table][id] || !readable(tb, r) {
					continue
				}
				owner, _ := r["ownerid"].(string)
				in := false
				switch it.Rule {
				case profile.RuleAll:
					in = true
				case profile.RuleOrganization:
					in = it.UserRows && owner == pr.UserID || it.TeamRows && slices.Contains(pr.TeamIDs, owner) ||
						it.BusinessUnitRows && r["owningbusinessunit"] == pr.BusinessUnitID
				case profile.RuleCustom:
					in = custom[it.Table](r, byID)
				}
				for _, name := range it.Relationships {
					rel, _ := sch.Relationship(it.Table, name)
					other := sets[rel.Related]
					switch rel.Kind {
					case schema.ManyToOne:
						ref, _ := r[rel.Column].(string)
						in = in || other[ref]
					case schema.OneToMany:
						for oid := range other {
							in = in || byID[rel.Related][oid][rel.Column] == id
						}
					case schema.ManyToMany:
						for _, pair := range w.pairs {
							a, b := pair[0], pair[1]
							if it.Table == "tool" {
								a, b = b, a
							}
							in = in || a == id && other[b]
						}
					}
				}
				if in {
					sets[it.Table][id] = true
					changed = true
				}
			}
		}
	}
	out := map[string][]string{}
	for table, set := range sets {
		out[table] = []string{}
		for id := range set {
			out[table] = append(out[table], id)
		}
		sort.Strings(out[table])
	}
	return out
}

// planned runs the plan's filters in SQL and returns the ids per table.
func planned(t *testing.T, p *platform.Platform, pr *security.Principal, plan *profile.Plan) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, it := range plan.Items {
		b := sqlgen.NewBuilder(p.DB().Dialect)
		b.SQL("SELECT t0.").Ident(it.Table + "id").SQL(" FROM ").Ident(it.Table).SQL(" AS t0 WHERE ")
		if err := it.WriteScope(b, p.Schema(), pr.Env()); err != nil {
			t.Fatalf("compile %s: %v", it.Table, err)
		}
		q, args := b.Build()
		rows, err := p.DB().Read.QueryContext(context.Background(), q, args...)
		if err != nil {
			t.Fatalf("query %s: %v\n%s", it.Table, err, q)
		}
		ids := []string{}
		for rows.Next() {
			var id string
			testenv.Must(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		rows.Close()
		sort.Strings(ids)
		out[it.Table] = ids
	}
	return out
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// TestPlanMatchesBruteForce checks the planned rows of every rule,
// relationship direction (N:1, 1:N, N:N) and privilege depth against a
// computation in Go over the same data.
func TestPlanMatchesBruteForce(t *testing.T) {
	t.Parallel()
	jobCustom := raw(map[string]any{"or": []any{
		map[string]any{"column": "priority", "operator": "eq", "value": 3},
		map[string]any{"link": "job_customerid", "filter": map[string]any{"column": "name", "operator": "begins-with", "value": "A"}},
	}})
	personCustom := raw(map[string]any{"column": "ownerid", "operator": "eq-userid"})
	tests := []struct {
		name  string
		items []profile.Item
	}{
		{"organization rows, 1:N and N:1 related, custom OR related, all", []profile.Item{
			{Table: "job", Rule: profile.RuleOrganization, UserRows: true, TeamRows: true, BusinessUnitRows: true},
			{Table: "client", Rule: profile.RuleRelated, Relationships: []string{"job_customerid"}},
			{Table: "person", Rule: profile.RuleCustom, Filter: personCustom, Relationships: []string{"person_clientid"}},
			{Table: "part", Rule: profile.RuleAll},
		}},
		{"custom with link, N:N related, business unit rows, 1:N from organization owned", []profile.Item{
			{Table: "job", Rule: profile.RuleCustom, Filter: jobCustom},
			{Table: "client", Rule: profile.RuleOrganization, UserRows: true},
			{Table: "tool", Rule: profile.RuleRelated, Relationships: []string{"job_tool"}},
			{Table: "zone", Rule: profile.RuleOrganization, BusinessUnitRows: true},
			{Table: "part", Rule: profile.RuleRelated, Relationships: []string{"job_partid"}},
		}},
		{"N:1 chains from all rows, team rows only", []profile.Item{
			{Table: "client", Rule: profile.RuleOrganization, TeamRows: true},
			{Table: "job", Rule: profile.RuleRelated, Relationships: []string{"job_customerid", "job_tool"}},
			{Table: "tool", Rule: profile.RuleAll},
			{Table: "person", Rule: profile.RuleRelated, Relationships: []string{"person_clientid"}},
			{Table: "zone", Rule: profile.RuleAll},
		}},
	}
	custom := map[string]func(outpost.Row, map[string]map[string]outpost.Row) bool{
		"job": func(r outpost.Row, byID map[string]map[string]outpost.Row) bool {
			if r["priority"] == int64(3) {
				return true
			}
			c, ok := r["customerid"].(string)
			return ok && strings.HasPrefix(byID["client"][c]["name"].(string), "A")
		},
	}
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		w := newWorld(t, p)
		for _, tt := range tests {
			in := profile.Input{Name: tt.name}
			for _, it := range tt.items {
				in.Items = append(in.Items, profile.ItemInput{Item: it})
			}
			prof := testenv.MustGet[*profile.Profile](t)(s.Create(t.Context(), sys, in))
			_, v, err := s.Publish(t.Context(), sys, prof.ID)
			if err != nil {
				t.Fatalf("%s: publish: %v", tt.name, err)
			}
			_ = v
			for i, u := range w.users {
				pr := principal(t, p, u)
				// A copy per user: the engines' subtests run in parallel.
				rules := maps.Clone(custom)
				rules["person"] = func(r outpost.Row, _ map[string]map[string]outpost.Row) bool { return r["ownerid"] == pr.UserID }
				plan := testenv.MustGet[*profile.Plan](t)(s.Plan(t.Context(), pr, prof.ID))
				got := planned(t, p, pr, plan)
				want := w.brute(t, p.Schema(), pr, tt.items, rules)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, user u%d: planned rows (-brute force +plan):\n%s", tt.name, i+1, diff)
				}
				total := 0
				for _, ids := range got {
					total += len(ids)
				}
				if total == 0 {
					t.Errorf("%s, user u%d: plan downloads nothing; the test data is too thin", tt.name, i+1)
				}
			}
		}
	})
}
