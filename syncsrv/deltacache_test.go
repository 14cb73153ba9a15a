package syncsrv_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// servers are two servers sharing one database, as two processes would:
// each has its own platform (principal and schema caches), profile service
// and sync engine (device, plan and version caches). Neither listens for
// the other's commit notices, so every change the second makes reaches the
// first without a notice: the worst case of a late or lost notice.
type servers struct {
	env    *demo.Env
	p1, p2 *platform.Platform
	eng1   *syncsrv.Engine
	prof2  *apps.Service
	tech   demo.User
}

func newServers(t *testing.T, e testenv.Engine) *servers {
	t.Helper()
	ctx := context.Background()
	db := e.Open(t)
	p1, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p1, demo.Options{AccountsPerTechnician: 3})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &servers{env: env, p1: p1, p2: p2, eng1: syncsrv.New(p1, apps.New(p1), syncsrv.Options{}),
		prof2: apps.New(p2), tech: env.Technicians[0]}
}

// device is a device reduced to its tokens and rows (id to version).
type device struct {
	id      string
	version int64 // the profile version
	tokens  map[string]string
	rows    map[string]map[string]int64
}

func (s *servers) principal(t *testing.T) *security.Principal {
	t.Helper()
	pr, err := s.p1.Principal(context.Background(), s.tech.ID)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// register opens a device of the technician on the first server and
// downloads every table.
func (s *servers) register(t *testing.T) *device {
	t.Helper()
	ctx := context.Background()
	d := &device{id: outpost.NewID(), tokens: map[string]string{}, rows: map[string]map[string]int64{}}
	open, err := s.eng1.Open(ctx, s.principal(t), wire.OpenRequest{DeviceID: d.id, AppID: s.env.ModelDrivenApp})
	if err != nil {
		t.Fatal(err)
	}
	d.version = open.ProfileVersion
	for _, tb := range open.Tables {
		d.rows[tb.Name] = map[string]int64{}
		first := true
		err := s.eng1.Snapshot(ctx, s.principal(t), wire.SnapshotRequest{DeviceID: d.id, Table: tb.Name, PageSize: 1000}, func(p *wire.SnapshotPage) error {
			if first {
				d.tokens[tb.Name], first = p.Token, false
			}
			for _, r := range p.Rows {
				d.rows[tb.Name][r[0].(string)] = r[1].(int64)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// delta sends one delta for every table and applies what comes back;
// tables answered with checksums are re-read whole (what reconciling
// converges to). It returns the response.
func (s *servers) delta(t *testing.T, d *device) *wire.DeltaResponse {
	t.Helper()
	ctx := context.Background()
	req := wire.DeltaRequest{DeviceID: d.id, ProfileVersion: d.version}
	for _, name := range sortedKeys(d.tokens) {
		req.Tables = append(req.Tables, wire.TableState{Table: name, Token: d.tokens[name]})
	}
	resp, err := s.eng1.Delta(ctx, s.principal(t), req)
	if err != nil {
		t.Fatal(err)
	}
	d.version = resp.ProfileVersion
	for _, td := range resp.Deltas {
		if td.Reconcile != nil {
			want := s.expected(t, d)
			d.rows[td.Table] = want[td.Table]
		}
		// Removal rules name a column of the rows the device holds; rows
		// unchanged since the token hold the server's value still.
		for _, rule := range td.RemoveWhere {
			for id := range d.rows[td.Table] {
				row, err := s.p1.Get(ctx, platform.System(), td.Table, id, nil)
				if err == nil && slices.Contains(rule.Values, fmt.Sprint(row[rule.Column])) {
					delete(d.rows[td.Table], id)
				}
			}
		}
		for _, r := range td.Upserts {
			d.rows[td.Table][r[0].(string)] = r[1].(int64)
		}
		for _, id := range td.Removes {
			delete(d.rows[td.Table], id)
		}
		keys := map[string]bool{}
		for _, k := range td.RemoveKeys {
			keys[k] = true
		}
		for id := range d.rows[td.Table] {
			if keys[wire.RemoveKey(id)] {
				delete(d.rows[td.Table], id)
			}
		}
		d.tokens[td.Table] = td.Token
	}
	return resp
}

// expected is what the device must hold now, by table, id to version.
func (s *servers) expected(t *testing.T, d *device) map[string]map[string]int64 {
	t.Helper()
	want, err := s.eng1.Expected(context.Background(), s.principal(t), d.id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int64{}
	for table, rows := range want {
		out[table] = map[string]int64{}
		for id, r := range rows {
			out[table][id] = r["versionnumber"].(int64)
		}
	}
	return out
}

func (s *servers) converged(t *testing.T, d *device, when string) {
	t.Helper()
	want := s.expected(t, d)
	for table, rows := range want {
		if !maps.Equal(rows, d.rows[table]) {
			t.Fatalf("%s: table %s: device holds %d rows, the plan %d (or versions differ)", when, table, len(d.rows[table]), len(rows))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func tokenVersion(t *testing.T, tok string) string {
	t.Helper()
	v, _, ok := strings.Cut(tok, ".")
	if !ok {
		t.Fatalf("token %q", tok)
	}
	return v
}

func (s *servers) ownWorkOrders(t *testing.T, d *device) []string {
	t.Helper()
	var ids []string
	for id := range d.rows["workorder"] {
		row, err := s.p2.Get(context.Background(), platform.System(), "workorder", id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if row["ownerid"] == s.tech.ID {
			ids = append(ids, id)
		}
	}
	if len(ids) < 3 {
		t.Fatalf("the technician owns %d work orders on the device", len(ids))
	}
	return ids
}

// TestDeltaSeesWritesOfAnotherServer warms the first server's caches with
// deltas that find nothing, then changes rows, security and the profile
// through the second server: the very next delta on the first must carry
// each change, although no commit notice told it.
func TestDeltaSeesWritesOfAnotherServer(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newServers(t, e)
			sys := platform.System()
			d := s.register(t)
			s.delta(t, d)
			before := s.delta(t, d) // answered from memory
			for _, td := range before.Deltas {
				if len(td.Upserts)+len(td.Removes)+len(td.RemoveKeys) > 0 || td.Reconcile != nil {
					t.Fatalf("nothing changed, yet table %s: %+v", td.Table, td)
				}
			}
			s.converged(t, d, "warm")
			own := s.ownWorkOrders(t, d)

			// A row update.
			if _, err := s.p2.Update(ctx, sys, "workorder", own[0], map[string]any{"description": "from server 2"}); err != nil {
				t.Fatal(err)
			}
			resp := s.delta(t, d)
			if got := upserted(resp, "workorder"); len(got) != 1 || got[0] != own[0] {
				t.Fatalf("update on server 2: upserts %v, want [%s]", got, own[0])
			}
			s.converged(t, d, "update")

			// A delete: a tombstone only.
			if err := s.p2.Delete(ctx, sys, "workorder", own[1]); err != nil {
				t.Fatal(err)
			}
			resp = s.delta(t, d)
			if td := tableDelta(resp, "workorder"); len(td.RemoveKeys) != 1 || td.RemoveKeys[0] != wire.RemoveKey(own[1]) {
				t.Fatalf("delete on server 2: %+v", td)
			}
			s.converged(t, d, "delete")

			// A row reassigned away: it leaves the scope.
			if _, err := s.p2.Assign(ctx, sys, "workorder", own[2], s.env.Technicians[2].ID); err != nil {
				t.Fatal(err)
			}
			s.delta(t, d)
			if _, ok := d.rows["workorder"][own[2]]; ok {
				t.Fatal("a work order reassigned on server 2 is still on the device")
			}
			s.delta(t, d)
			s.converged(t, d, "assign")

			// A security change: the technician leaves her team.
			if err := s.p2.RemoveTeamMember(ctx, sys, s.env.NorthTeam, s.tech.ID); err != nil {
				t.Fatal(err)
			}
			resp = s.delta(t, d)
			if td := tableDelta(resp, "workorder"); td.Reconcile == nil && len(td.RemoveWhere)+len(td.Removes)+len(td.RemoveKeys) == 0 {
				t.Fatalf("team membership changed on server 2, yet no work order left: %+v", td)
			}
			s.converged(t, d, "team")

			// The profile and the app republished without products.
			version := resp.ProfileVersion
			if _, err := s.prof2.RemoveItem(ctx, sys, s.env.ProfileID, "product"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.prof2.Publish(ctx, sys, s.env.ProfileID); err != nil {
				t.Fatal(err)
			}
			// Devices keep the app's version until the app is published.
			if resp = s.delta(t, d); resp.ProfileVersion != version || resp.Tables != nil {
				t.Fatalf("profile published on server 2, app not: version %d (was %d), tables %v", resp.ProfileVersion, version, tableNames(resp.Tables))
			}
			if _, err := s.prof2.PublishApp(ctx, sys, s.env.ModelDrivenApp); err != nil {
				t.Fatal(err)
			}
			resp = s.delta(t, d)
			if resp.ProfileVersion == version || resp.Tables == nil || hasTable(resp.Tables, "product") {
				t.Fatalf("profile republished on server 2: version %d (was %d), tables %v", resp.ProfileVersion, version, tableNames(resp.Tables))
			}

			// The device registered again, on server 2, for another
			// profile (as opening another app does): the next delta plans
			// with that profile.
			other, err := s.prof2.Create(ctx, sys, profile.Input{Name: "Products only", Items: []profile.ItemInput{
				{Item: profile.Item{Table: "product", Rule: profile.RuleAll, IntervalMinutes: 60}}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.prof2.Publish(ctx, sys, other.ID); err != nil {
				t.Fatal(err)
			}
			app, err := s.prof2.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: "Products", Definition: apps.Definition{Tables: []string{"product"}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.prof2.SetOffline(ctx, sys, app.ID, apps.OfflineInput{Enabled: true, ProfileID: other.ID}); err != nil {
				t.Fatal(err)
			}
			s.delta(t, d) // the first server knows the device and its plan again
			db := s.p2.DB()
			if _, err := db.Write.ExecContext(ctx, `UPDATE outpost_device SET profileid = `+db.Dialect.Placeholder(1)+`, appid = `+db.Dialect.Placeholder(2)+` WHERE deviceid = `+db.Dialect.Placeholder(3), other.ID, app.ID, d.id); err != nil {
				t.Fatal(err)
			}
			resp = s.delta(t, d)
			if names := tableNames(resp.Tables); !slices.Equal(names, []string{"product"}) {
				t.Fatalf("device moved to another profile on server 2: tables %v, want [product]", names)
			}
		})
	}
}

func hasTable(ts []wire.Table, name string) bool { return slices.Contains(tableNames(ts), name) }

func tableNames(ts []wire.Table) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// TestDeltaTokenStaysWhenNothingChanged: a delta that finds nothing returns
// the counter of its snapshot, and the next one the same version (with
// transaction-id versions the horizon moves with the cluster's other
// transactions, so only the counter's is checked); a write to a table moves
// only the tokens it must.
func TestDeltaTokenStaysWhenNothingChanged(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newServers(t, e)
			d := s.register(t)
			s.delta(t, d)
			first := maps.Clone(d.tokens)
			s.delta(t, d)
			for table, tok := range d.tokens {
				if !s.p1.DB().SparseVersions() && tokenVersion(t, tok) != tokenVersion(t, first[table]) {
					t.Fatalf("table %s: token moved from %s to %s with nothing changed", table, first[table], tok)
				}
			}
			// A write through the same server (its notice arrives at once).
			own := s.ownWorkOrders(t, d)
			if _, err := s.p1.Update(ctx, platform.System(), "workorder", own[0], map[string]any{"description": "same server"}); err != nil {
				t.Fatal(err)
			}
			resp := s.delta(t, d)
			if got := upserted(resp, "workorder"); len(got) != 1 {
				t.Fatalf("upserts %v", got)
			}
			for _, td := range resp.Deltas {
				if td.Table != "workorder" && (len(td.Upserts)+len(td.Removes)+len(td.RemoveKeys) > 0 || td.Reconcile != nil) {
					t.Fatalf("a description edit of a work order changed table %s: %+v", td.Table, td)
				}
			}
			s.converged(t, d, "same server")
		})
	}
}

// TestDeltaNeverSkipsConcurrentWrites syncs a device over and over on the
// first server while the second creates, updates and deletes the
// technician's work orders: when the writes stop, one more delta must
// leave the device equal to its plan. A token that claimed a version whose
// rows the device did not get would leave a row behind for good.
func TestDeltaNeverSkipsConcurrentWrites(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newServers(t, e)
			d := s.register(t)
			own := s.ownWorkOrders(t, d)
			var account string
			for id := range d.rows["account"] {
				account = id
				break
			}
			sys := platform.System()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var werr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(1, 2))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					switch rng.IntN(3) {
					case 0:
						var row outpost.Row
						row, err = s.p2.Create(ctx, sys, "workorder", map[string]any{"name": fmt.Sprintf("wo %d", i), "ownerid": s.tech.ID, "customerid": account})
						if err == nil {
							own = append(own, row["workorderid"].(string))
						}
					case 1:
						_, err = s.p2.Update(ctx, sys, "workorder", own[rng.IntN(len(own))], map[string]any{"description": fmt.Sprint(i)})
					case 2:
						if len(own) > 3 {
							k := rng.IntN(len(own))
							err = s.p2.Delete(ctx, sys, "workorder", own[k])
							own = append(own[:k], own[k+1:]...)
						}
					}
					if err != nil {
						werr = err
						return
					}
				}
			}()
			for range 60 {
				s.delta(t, d)
			}
			close(stop)
			wg.Wait()
			if werr != nil {
				t.Fatal(werr)
			}
			s.delta(t, d)
			s.converged(t, d, "after concurrent writes")
		})
	}
}

func tableDelta(resp *wire.DeltaResponse, table string) wire.TableDelta {
	for _, td := range resp.Deltas {
		if td.Table == table {
			return td
		}
	}
	return wire.TableDelta{}
}

func upserted(resp *wire.DeltaResponse, table string) []string {
	var ids []string
	for _, r := range tableDelta(resp, table).Upserts {
		ids = append(ids, r[0].(string))
	}
	return ids
}
