package syncsrv

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/wire"
)

// uploadPlanner plans every work order and account the user may read.
type uploadPlanner struct{ p *platform.Platform }

func (u uploadPlanner) AppProfile(context.Context, *security.Principal, string) (string, string, error) {
	return "field", "modeldriven", nil
}

func (u uploadPlanner) Plan(ctx context.Context, pr *security.Principal, profileID string) (*profile.Plan, error) {
	items, err := profile.BuildPlan(u.p.Schema(), []profile.Item{
		{Table: "account", Rule: profile.RuleAll, IntervalMinutes: 10},
		{Table: "workorder", Rule: profile.RuleAll, IntervalMinutes: 10},
	}, pr)
	if err != nil {
		return nil, err
	}
	return &profile.Plan{ProfileID: profileID, Items: items}, nil
}

// uploadWorld is a server where user 0 has a device: work orders and
// accounts owned by user 0 and by user 1 (user 0 may read user 1's work
// orders but not write them), one of user 1's work orders shared with
// user 0, and rows changed on the server after the device read them.
type uploadWorld struct {
	p        *platform.Platform
	eng      *Engine
	users    []string
	by       *security.Principal
	base     int64 // the version the device read
	mu       sync.Mutex
	notices  [][]string
	replace  *strings.Replacer
	deviceID string
}

func rowID(kind, i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", kind, i) }

const (
	kindOwnWO = iota + 1
	kindOtherWO
	kindOwnAcc
	kindOtherAcc
	kindNewWO
	kindMissing
)

func newUploadWorld(t testing.TB, e testenv.Engine, detect bool) *uploadWorld {
	return newUploadWorldWith(t, e, detect, true)
}

// newUploadWorldWith is newUploadWorld with uploads batched or applied one
// change at a time.
func newUploadWorldWith(t testing.TB, e testenv.Engine, detect, batched bool) *uploadWorld {
	t.Helper()
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	p, err := platform.Open(ctx, e.Open(t), platform.Options{Now: func() time.Time { return clock }})
	testenv.Must(t, err)
	sys := platform.System()
	_, err = p.CreateTable(ctx, sys, platform.TableInput{Name: "product", Ownership: schema.OwnedByOrganization, PrimaryName: "name", Offline: true,
		Columns: []schema.Column{{Name: "name", Type: schema.Text, Required: true, MaxLength: 100}}})
	testenv.Must(t, err)
	_, err = p.CreateTable(ctx, sys, platform.TableInput{Name: "workorder", Ownership: schema.OwnedByUser, PrimaryName: "name", Offline: true,
		Columns: []schema.Column{
			{Name: "name", Type: schema.Text, Required: true, MaxLength: 100},
			{Name: "customerid", Type: schema.Lookup, Target: "account"},
			{Name: "description", Type: schema.Memo},
			{Name: "priority", Type: schema.Choice, Options: []schema.Option{{Value: 1, Label: "Low"}, {Value: 2, Label: "Normal"}, {Value: 3, Label: "High"}}},
		}})
	testenv.Must(t, err)
	var grants []security.Grant
	for _, tbl := range []string{"workorder", "account"} {
		for _, pv := range security.Privileges {
			d := security.User
			if tbl == "workorder" && pv == security.Read {
				d = security.BusinessUnit // reads the other user's work orders, cannot write them
			}
			grants = append(grants, security.Grant{Table: tbl, Privilege: pv, Depth: d})
		}
	}
	role, err := p.CreateRole(ctx, sys, "Technician", grants)
	testenv.Must(t, err)
	w := &uploadWorld{p: p, deviceID: "5f2504e0-4f89-41d3-9a0c-0305e82c3301"}
	for i := range 2 {
		id, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: fmt.Sprintf("User %d", i), DomainName: fmt.Sprintf("u%d", i)})
		testenv.Must(t, err)
		testenv.Must(t, p.AssignUserRole(ctx, sys, id, role))
		w.users = append(w.users, id)
	}
	root, err := p.RootBusinessUnit(ctx)
	testenv.Must(t, err)
	w.replace = strings.NewReplacer(w.users[0], "<user0>", w.users[1], "<user1>", root, "<root>")
	testenv.Must(t, p.Write(ctx, func(wr *platform.Writer) error {
		for i := range 3 {
			for kind, owner := range map[int]string{kindOwnAcc: w.users[0], kindOtherAcc: w.users[1]} {
				if _, err := wr.Create(ctx, sys, "account", map[string]any{"accountid": rowID(kind, i), "name": "Account", "ownerid": owner}); err != nil {
					return err
				}
			}
		}
		for i := range 12 {
			for kind, owner := range map[int]string{kindOwnWO: w.users[0], kindOtherWO: w.users[1]} {
				if _, err := wr.Create(ctx, sys, "workorder", map[string]any{"workorderid": rowID(kind, i), "name": "WO", "ownerid": owner,
					"customerid": rowID(kindOwnAcc, i%3), "priority": int64(1)}); err != nil {
					return err
				}
			}
		}
		return wr.Share(ctx, sys, "workorder", rowID(kindOtherWO, 0), w.users[0], platform.ShareRead)
	}))
	w.eng = New(p, uploadPlanner{p}, Options{OneChangeAtATime: !batched})
	w.by, err = p.Principal(ctx, w.users[0])
	testenv.Must(t, err)
	_, err = w.eng.Open(ctx, w.by, wire.OpenRequest{DeviceID: w.deviceID, AppID: "fieldapp"})
	testenv.Must(t, err)
	testenv.Must(t, w.eng.SetSettings(ctx, sys, wire.Settings{ConflictDetection: detect}))
	testenv.Must(t, p.DB().Read.QueryRowContext(ctx, `SELECT max(versionnumber) FROM workorder`).Scan(&w.base))
	// Changed on the server after the device read them.
	for i := range 3 {
		_, err := p.Update(ctx, sys, "workorder", rowID(kindOwnWO, i), map[string]any{"description": "server edit"})
		testenv.Must(t, err)
	}
	p.OnCommit(func(tables []string) {
		w.mu.Lock()
		w.notices = append(w.notices, tables)
		w.mu.Unlock()
	})
	return w
}

// randomBatch returns n changes of every kind: updates (valid, invalid,
// of rows the user may not see, may only read, that changed on the server,
// that do not exist, that set lookups to allowed and forbidden rows, of
// rows created earlier in the batch), creates, deletes, unknown tables and
// ops, bad ids, and a repeated sequence number.
func randomBatch(r *rand.Rand, base int64, n int) []wire.Change {
	var out []wire.Change
	created := 0
	for seq := int64(1); len(out) < n; seq++ {
		if r.IntN(10) == 0 {
			// A run of creates or of deletes, which the batched path
			// applies at once: now and then with a change it must not
			// apply (an invalid option, a key created already, a row
			// that may only be read, a missing row).
			burst := 2 + r.IntN(5)
			create := r.IntN(2) == 0
			for k := range burst {
				ch := wire.Change{Seq: seq, MutationID: fmt.Sprintf("m%d", seq), Table: "workorder", Op: wire.OpDelete, ID: rowID(kindOwnWO, r.IntN(12)), BaseVersion: base}
				if create {
					ch.Op, ch.ID, ch.BaseVersion = wire.OpCreate, rowID(kindNewWO, created), 0
					ch.Columns = map[string]any{"name": fmt.Sprintf("Burst %d", seq), "customerid": rowID(kindOwnAcc, r.IntN(3))}
					created++
					switch r.IntN(8) {
					case 0:
						ch.Columns["priority"] = int64(4) // not an option
					case 1:
						if k > 0 {
							ch.ID = out[len(out)-1].ID // created just before
						}
					}
				} else {
					switch r.IntN(6) {
					case 0:
						ch.ID = rowID(kindOtherWO, r.IntN(12)) // readable only, or shared
					case 1:
						ch.ID = rowID(kindMissing, r.IntN(3))
					case 2:
						if created > 0 {
							ch.ID, ch.BaseVersion = rowID(kindNewWO, r.IntN(created)), 0
						}
					}
				}
				out = append(out, ch)
				if k < burst-1 {
					seq++
				}
			}
			continue
		}
		ch := wire.Change{Seq: seq, MutationID: fmt.Sprintf("m%d", seq), Table: "workorder", Op: wire.OpUpdate, BaseVersion: base,
			ID: rowID(kindOwnWO, r.IntN(12)), Columns: map[string]any{"description": fmt.Sprintf("edit %d", seq)}}
		switch k := r.IntN(40); {
		case k < 18: // a plain update, maybe of a row changed on the server
		case k < 20:
			ch.Columns["priority"] = int64(1 + r.IntN(4)) // 4 is not an option
		case k < 22:
			ch.ID = rowID(kindOtherWO, r.IntN(12)) // readable only, or shared
			if r.IntN(2) == 0 {
				ch.ID = rowID(kindOtherWO, 0)
			}
		case k < 23:
			ch.ID = rowID(kindMissing, r.IntN(3))
		case k < 25:
			ch.Columns["customerid"] = rowID(kindOwnAcc, r.IntN(3))
		case k < 26:
			ch.Columns["customerid"] = rowID(kindOtherAcc, r.IntN(3)) // no Append To
		case k < 27:
			ch.Columns["customerid"] = rowID(kindMissing, 0)
		case k < 28:
			ch.Columns["customerid"] = nil
		case k < 31:
			ch.Op, ch.ID, ch.BaseVersion = wire.OpCreate, rowID(kindNewWO, created), 0
			ch.Columns = map[string]any{"name": "New", "customerid": rowID(kindOwnAcc, r.IntN(3))}
			created++
		case k < 33:
			if created > 0 {
				ch.ID = rowID(kindNewWO, r.IntN(created)) // created earlier in the batch
				ch.BaseVersion = 0
			}
		case k < 35:
			ch.Op, ch.Columns = wire.OpDelete, nil
			if created > 0 && r.IntN(2) == 0 {
				ch.ID = rowID(kindNewWO, r.IntN(created))
			}
		case k < 36:
			ch.Table = "account"
			ch.ID = rowID(kindOwnAcc, r.IntN(3))
			ch.Columns = map[string]any{"telephone1": fmt.Sprintf("555-%d", seq)}
		case k < 37:
			ch.Table = "nosuchtable"
		case k < 38:
			ch.ID = "not-a-uuid"
		case k < 39:
			ch.Columns = map[string]any{"ownerid": rowID(kindOwnAcc, 0)} // a system column
		default:
			if len(out) > 0 {
				ch = out[len(out)-1] // the same change sent twice
				seq--
			}
		}
		out = append(out, ch)
	}
	return out
}

// upload sends changes in batches of size, as a device does.
func (w *uploadWorld) upload(t *testing.T, changes []wire.Change, size int) []wire.Result {
	t.Helper()
	var out []wire.Result
	for len(changes) > 0 {
		n := min(size, len(changes))
		resp, err := w.eng.Upload(context.Background(), w.by, wire.UploadRequest{DeviceID: w.deviceID, Changes: changes[:n]})
		testenv.Must(t, err)
		out = append(out, resp.Results...)
		changes = changes[n:]
	}
	return out
}

// dump returns the server's state that an upload may change, with the
// ids that differ between worlds replaced.
func (w *uploadWorld) dump(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ranks := w.versionRanks(t)
	var sb strings.Builder
	for _, q := range []string{
		`SELECT * FROM workorder ORDER BY workorderid`,
		`SELECT * FROM account ORDER BY accountid`,
		`SELECT name, entityname, errormessage, errordetail, errorcode, errortype, action, actiondata, requestdata, regardingobjectid, regardingobjecttable, ownerid, statecode, versionnumber FROM syncerror ORDER BY requestdata`,
		`SELECT deviceid, seq, lastseq, status, version, errortype, errorcode, message FROM outpost_syncresult ORDER BY seq`,
		`SELECT version, tablename, columns FROM outpost_scopelog ORDER BY version, tablename`,
		`SELECT tablename, id, version FROM outpost_tombstone ORDER BY tablename, id`,
		`SELECT deviceid, lastseq FROM outpost_device`,
	} {
		rows, err := w.p.DB().Read.QueryContext(ctx, q)
		testenv.Must(t, err)
		cols, err := rows.Columns()
		testenv.Must(t, err)
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			testenv.Must(t, rows.Scan(ptrs...))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				if n, ok := v.(int64); ok && (cols[i] == "version" || cols[i] == "versionnumber") {
					v = ranks.of(n)
				}
				fmt.Fprintf(&sb, "%s=%v ", cols[i], v)
			}
			sb.WriteString("\n")
		}
		testenv.Must(t, rows.Err())
		testenv.Must(t, rows.Close())
	}
	w.mu.Lock()
	fmt.Fprintf(&sb, "notices %v\n", w.notices)
	w.mu.Unlock()
	return w.messageVersions(w.baseRelative(w.replace.Replace(sb.String())), ranks)
}

// versionRanks numbers the versions stored in the tables an upload
// changes in order. Versions are not the same in two worlds on PostgreSQL
// (they are transaction ids, which the whole cluster hands out), but their
// order is: results and dumps compare ranks.
func (w *uploadWorld) versionRanks(t *testing.T) versionRanks {
	t.Helper()
	rows, err := w.p.DB().Read.QueryContext(context.Background(), `SELECT versionnumber FROM workorder UNION SELECT versionnumber FROM account
		UNION SELECT versionnumber FROM syncerror UNION SELECT version FROM outpost_syncresult UNION SELECT version FROM outpost_scopelog
		UNION SELECT version FROM outpost_tombstone ORDER BY 1`)
	testenv.Must(t, err)
	defer rows.Close()
	ranks := versionRanks{}
	for rows.Next() {
		var v int64
		testenv.Must(t, rows.Scan(&v))
		ranks[v] = int64(len(ranks) + 1)
	}
	testenv.Must(t, rows.Err())
	return ranks
}

type versionRanks map[int64]int64

var baseVersionJSON = regexp.MustCompile(`"baseVersion":(\d+)`)

// baseRelative writes the base versions of changes in s relative to the
// world's base version, which differs between worlds on PostgreSQL.
func (w *uploadWorld) baseRelative(s string) string {
	return baseVersionJSON.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseInt(baseVersionJSON.FindStringSubmatch(m)[1], 10, 64)
		if n == 0 {
			return m // a create's
		}
		return fmt.Sprintf(`"baseVersion":base%+d`, n-w.base)
	})
}

var messageVersion = regexp.MustCompile(`\(version (\d+)\)`)

// messageVersions writes the versions a conflict message names as ranks
// (a stored row's) or relative to the world's base version (what the
// device read).
func (w *uploadWorld) messageVersions(s string, ranks versionRanks) string {
	return messageVersion.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseInt(messageVersion.FindStringSubmatch(m)[1], 10, 64)
		if r, ok := ranks[n]; ok {
			return fmt.Sprintf("(version #%d)", r)
		}
		return fmt.Sprintf("(version base%+d)", n-w.base)
	})
}

// of returns v's rank, or -v for a version not stored (0 stays 0).
func (r versionRanks) of(v int64) int64 {
	if n, ok := r[v]; ok && v != 0 {
		return n
	}
	return -v
}

// normalize replaces the Sync Error ids of results (random) by their Sync
// Error's request data, which names the device and the change, and the ids
// that differ between worlds in the rows.
func (w *uploadWorld) normalize(t *testing.T, results []wire.Result) []wire.Result {
	t.Helper()
	ranks := w.versionRanks(t)
	out := make([]wire.Result, len(results))
	for i, r := range results {
		out[i] = r
		out[i].Version = ranks.of(r.Version)
		if r.Error != nil {
			e := *r.Error
			var req string
			testenv.Must(t, w.p.DB().Read.QueryRowContext(context.Background(), `SELECT requestdata FROM syncerror WHERE syncerrorid = `+w.p.DB().Dialect.Placeholder(1), e.SyncErrorID).Scan(&req))
			e.SyncErrorID = w.baseRelative(req)
			e.Message = w.messageVersions(e.Message, ranks)
			out[i].Error = &e
		}
		if r.Row != nil {
			row := make([]any, len(r.Row))
			for j, v := range r.Row {
				if s, ok := v.(string); ok {
					v = w.replace.Replace(s)
				}
				if j < len(r.Columns) && r.Columns[j] == "versionnumber" {
					if n, ok := v.(int64); ok {
						v = ranks.of(n)
					} else if f, ok := v.(float64); ok {
						v = float64(ranks.of(int64(f)))
					}
				}
				row[j] = v
			}
			out[i].Row = row
		}
	}
	return out
}

func withoutRows(results []wire.Result) []wire.Result {
	out := slices.Clone(results)
	for i := range out {
		out[i].Columns, out[i].Row = nil, nil
	}
	return out
}

// TestBatchedUploadMatchesOneByOne uploads the same random batches to two
// identical servers, one checking runs of updates at once and one applying
// every change alone in its savepoint: results, Sync Errors, rows,
// versions, result records, scope log, tombstones and commit notices are
// the same. Sending the batches again answers the same and changes
// nothing.
func TestBatchedUploadMatchesOneByOne(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		for _, detect := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/detect=%v", e.Name, detect), func(t *testing.T) {
				for seed := range uint64(3) {
					var results [2][]wire.Result
					var dumps [2]string
					var worlds [2]*uploadWorld
					for i, batched := range []bool{true, false} {
						func() {
							w := newUploadWorldWith(t, e, detect, batched)
							changes := randomBatch(rand.New(rand.NewPCG(seed, 7)), w.base, 240)
							results[i] = w.normalize(t, w.upload(t, changes, 60+int(seed)*40))
							dumps[i] = w.dump(t)
							// A replay (a lost reply) answers the same and writes nothing.
							// The server's current row of a rejected change is read afresh.
							again := w.normalize(t, w.upload(t, changes, 1000))
							if diff := cmp.Diff(withoutRows(results[i]), withoutRows(again)); diff != "" {
								t.Fatalf("batched=%v seed %d: replay differs (-first +replay):\n%s", batched, seed, diff)
							}
							if diff := cmp.Diff(dumps[i], w.dump(t)); diff != "" {
								t.Fatalf("batched=%v seed %d: replay changed the server (-before +after):\n%s", batched, seed, diff)
							}
							worlds[i] = w
						}()
					}
					if diff := cmp.Diff(results[1], results[0]); diff != "" {
						t.Fatalf("seed %d: results differ (-one by one +batched):\n%s", seed, diff)
					}
					if diff := cmp.Diff(dumps[1], dumps[0]); diff != "" {
						t.Fatalf("seed %d: server state differs (-one by one +batched):\n%s", seed, diff)
					}
					applied, rejected := 0, 0
					for _, r := range results[0] {
						if r.Status == wire.StatusApplied {
							applied++
						} else {
							rejected++
						}
					}
					if applied < 40 || rejected < 20 {
						t.Fatalf("seed %d: %d applied, %d rejected: the batch should mix both", seed, applied, rejected)
					}
				}
			})
		}
	}
}

// TestUploadRejectionInTheMiddle: a change rejected for privileges and one
// rejected as a conflict, between applied updates, become Sync Errors; the
// changes around them apply, and a replay answers the same.
func TestUploadRejectionInTheMiddle(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		w := newUploadWorld(t, e, true)
		upd := func(seq int64, id string, cols map[string]any) wire.Change {
			return wire.Change{Seq: seq, MutationID: fmt.Sprint(seq), Table: "workorder", Op: wire.OpUpdate, ID: id, BaseVersion: w.base, Columns: cols}
		}
		changes := []wire.Change{
			upd(1, rowID(kindOwnWO, 5), map[string]any{"description": "a"}),
			upd(2, rowID(kindOtherWO, 1), map[string]any{"description": "another user's row"}),
			upd(7, rowID(kindMissing, 1), map[string]any{"description": "no such row"}),
			upd(3, rowID(kindOwnWO, 6), map[string]any{"description": "b"}),
			upd(4, rowID(kindOwnWO, 0), map[string]any{"description": "changed on the server"}),
			upd(5, rowID(kindOwnWO, 7), map[string]any{"customerid": rowID(kindOtherAcc, 0)}),
			upd(6, rowID(kindOwnWO, 8), map[string]any{"description": "c", "customerid": rowID(kindOwnAcc, 1)}),
		}
		res := w.upload(t, changes, 1000)
		slices.SortFunc(changes, func(a, b wire.Change) int { return int(a.Seq - b.Seq) })
		want := []string{wire.StatusApplied, wire.StatusRejected, wire.StatusApplied, wire.StatusRejected, wire.StatusRejected, wire.StatusApplied, wire.StatusRejected}
		for i, r := range res {
			if r.Status != want[i] {
				t.Fatalf("change %d: %s, want %s (%+v)", r.Seq, r.Status, want[i], r.Error)
			}
		}
		// Change 5 points a lookup at an account the user cannot read:
		// it answers as a missing account would.
		if res[1].Error.Code != string(outpost.CodeForbidden) || res[3].Error.Type != wire.ErrorConflict || res[4].Error.Code != string(outpost.CodeInvalid) || res[6].Error.Type != wire.ErrorNotFound {
			t.Fatalf("errors = %+v, %+v, %+v, %+v; want forbidden, conflict, invalid, not found", res[1].Error, res[3].Error, res[4].Error, res[6].Error)
		}
		var n int
		testenv.Must(t, w.p.DB().Read.QueryRowContext(context.Background(), `SELECT count(*) FROM syncerror`).Scan(&n))
		if n != 4 {
			t.Fatalf("%d Sync Errors, want 4", n)
		}
		for _, c := range []struct{ id, desc string }{{rowID(kindOwnWO, 5), "a"}, {rowID(kindOwnWO, 6), "b"}, {rowID(kindOwnWO, 8), "c"}, {rowID(kindOwnWO, 0), "server edit"}} {
			row, err := w.p.Get(context.Background(), platform.System(), "workorder", c.id, nil)
			testenv.Must(t, err)
			if row["description"] != c.desc || (c.desc != "server edit" && row["versionnumber"] != res[0].Version) {
				t.Fatalf("row %s = %v at %v, want %q at %d", c.id, row["description"], row["versionnumber"], c.desc, res[0].Version)
			}
		}
		again := w.upload(t, changes, 1000)
		for i := range again {
			again[i].Columns, again[i].Row = res[i].Columns, res[i].Row // only the server's current row may differ
		}
		if diff := cmp.Diff(res, again); diff != "" {
			t.Fatalf("replay differs (-first +replay):\n%s", diff)
		}
		if !slices.ContainsFunc(w.notices, func(tables []string) bool { return slices.Contains(tables, "workorder") }) {
			t.Fatalf("no commit notice for workorder: %v", w.notices)
		}
	})
}

// BenchmarkUpload times Engine.Upload of 1,000 updates of distinct rows
// (the server's share of an upload), checked a run at a time and one
// change at a time.
func BenchmarkUpload(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		for _, batched := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/batched=%v", e.Name, batched), func(b *testing.B) { benchmarkUpload(b, e, batched) })
		}
	}
}

func benchmarkUpload(b *testing.B, e testenv.Engine, batched bool) {
	w := newUploadWorldWith(b, e, true, batched)
	ctx := context.Background()
	const rows = 2000
	testenv.Must(b, w.p.Write(ctx, func(wr *platform.Writer) error {
		for i := range rows {
			if _, err := wr.Create(ctx, platform.System(), "workorder", map[string]any{"workorderid": rowID(kindNewWO, 100000+i), "name": "WO",
				"ownerid": w.users[0], "customerid": rowID(kindOwnAcc, i%3), "priority": int64(1)}); err != nil {
				return err
			}
		}
		return nil
	}))
	seq := int64(0)
	b.ResetTimer()
	for range b.N {
		changes := make([]wire.Change, 1000)
		for i := range changes {
			seq++
			changes[i] = wire.Change{Seq: seq, MutationID: fmt.Sprint(seq), Table: "workorder", Op: wire.OpUpdate, ID: rowID(kindNewWO, 100000+int(seq)%rows),
				BaseVersion: 1 << 40, Columns: map[string]any{"description": fmt.Sprintf("edit %d", seq), "priority": int64(1 + seq%3)}}
		}
		resp, err := w.eng.Upload(ctx, w.by, wire.UploadRequest{DeviceID: w.deviceID, Changes: changes})
		testenv.Must(b, err)
		if resp.Results[999].Status != wire.StatusApplied {
			b.Fatalf("result %+v", resp.Results[999])
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// TestUploadWriteFailure: when the database refuses a write the checks
// allowed (here a trigger), the batch is applied again one change at a
// time: only that change is rejected, with the same answers as without
// batching.
func TestUploadWriteFailure(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		var got [2][]wire.Result
		var dumps [2]string
		for i, batched := range []bool{true, false} {
			func() {
				w := newUploadWorldWith(t, e, false, batched)
				trigger := []string{`CREATE TRIGGER boom BEFORE UPDATE ON workorder WHEN NEW.description = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`}
				if w.p.DB().Dialect.IsPostgres() {
					trigger = []string{
						`CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.description = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
						`CREATE TRIGGER boom BEFORE UPDATE ON workorder FOR EACH ROW EXECUTE FUNCTION boom()`,
					}
				}
				for _, q := range trigger {
					_, err := w.p.DB().Write.ExecContext(context.Background(), q)
					testenv.Must(t, err)
				}
				var changes []wire.Change
				for seq := int64(1); seq <= 9; seq++ {
					desc := fmt.Sprintf("edit %d", seq)
					if seq == 5 {
						desc = "boom"
					}
					changes = append(changes, wire.Change{Seq: seq, MutationID: fmt.Sprint(seq), Table: "workorder", Op: wire.OpUpdate,
						ID: rowID(kindOwnWO, int(seq)), BaseVersion: w.base, Columns: map[string]any{"description": desc}})
				}
				got[i] = w.normalize(t, w.upload(t, changes, 1000))
				dumps[i] = w.dump(t)
			}()
		}
		for _, r := range got[0] {
			if want := r.Seq != 5; (r.Status == wire.StatusApplied) != want {
				t.Fatalf("change %d: %s (%+v), want applied only for changes other than 5", r.Seq, r.Status, r.Error)
			}
		}
		if diff := cmp.Diff(got[1], got[0]); diff != "" {
			t.Fatalf("results differ (-one by one +batched):\n%s", diff)
		}
		if diff := cmp.Diff(dumps[1], dumps[0]); diff != "" {
			t.Fatalf("server state differs (-one by one +batched):\n%s", diff)
		}
	})
}

// TestUploadSequenceNumbers: sequence numbers are positive and follow the
// device's last applied one without a gap; an upload that breaks the rule
// is refused whole (nothing stored, nothing acknowledged). A change at or
// below the last sequence with no stored result (a device whose sequence
// jumped ahead before the rule) is recorded as a Sync Error, never
// answered "applied" while dropped.
func TestUploadSequenceNumbers(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		w := newUploadWorld(t, e, false)
		upd := func(seq int64, desc string) wire.Change {
			return wire.Change{Seq: seq, MutationID: fmt.Sprint(seq), Table: "workorder", Op: wire.OpUpdate, ID: rowID(kindOwnWO, 5), BaseVersion: w.base,
				Columns: map[string]any{"description": desc}}
		}
		lastSeq := func() int64 {
			var n int64
			testenv.Must(t, w.p.DB().Read.QueryRowContext(ctx, `SELECT lastseq FROM outpost_device WHERE deviceid = `+w.p.DB().Dialect.Placeholder(1), w.deviceID).Scan(&n))
			return n
		}
		description := func() any {
			row, err := w.p.Get(ctx, platform.System(), "workorder", rowID(kindOwnWO, 5), nil)
			testenv.Must(t, err)
			return row["description"]
		}
		for _, c := range []struct {
			name    string
			changes []wire.Change
		}{
			{"negative", []wire.Change{upd(-1, "minus one")}},
			{"zero", []wire.Change{upd(0, "zero")}},
			{"huge", []wire.Change{upd(1<<62, "huge")}},
			{"gap in the batch", []wire.Change{upd(1, "one"), upd(3, "three")}},
		} {
			resp, err := w.eng.Upload(ctx, w.by, wire.UploadRequest{DeviceID: w.deviceID, Changes: c.changes})
			if outpost.ErrorCode(err) != outpost.CodeInvalid {
				t.Fatalf("%s: %+v, %v; want an invalid error", c.name, resp, err)
			}
			if outpost.ErrorTarget(err) != "changes" || !strings.Contains(outpost.ErrorMessage(err), "seq") {
				t.Fatalf("%s: %v; want a message about seq on changes", c.name, err)
			}
			if n := lastSeq(); n != 0 {
				t.Fatalf("%s: last sequence %d after a refused upload", c.name, n)
			}
			if d := description(); d != nil {
				t.Fatalf("%s: description %v written by a refused upload", c.name, d)
			}
		}
		res := w.upload(t, []wire.Change{upd(1, "one"), upd(2, "two")}, 1000)
		if res[0].Status != wire.StatusApplied || res[1].Status != wire.StatusApplied || description() != "two" || lastSeq() != 2 {
			t.Fatalf("contiguous upload: %+v, description %v, last %d", res, description(), lastSeq())
		}
		if _, err := w.eng.Upload(ctx, w.by, wire.UploadRequest{DeviceID: w.deviceID, Changes: []wire.Change{upd(4, "four")}}); outpost.ErrorCode(err) != outpost.CodeInvalid {
			t.Fatalf("upload after a gap: %v, want invalid", err)
		}
		// A device whose last sequence jumped ahead (as servers before
		// the rule allowed): its later changes are not dropped.
		_, err := w.p.DB().Write.ExecContext(ctx, `UPDATE outpost_device SET lastseq = `+w.p.DB().Dialect.Placeholder(1), int64(1<<62))
		testenv.Must(t, err)
		res = w.upload(t, []wire.Change{upd(3, "three")}, 1000)
		if res[0].Status != wire.StatusRejected || res[0].Error == nil || res[0].Error.SyncErrorID == "" {
			t.Fatalf("change below a jumped sequence: %+v, want rejected with a Sync Error", res[0])
		}
		again := w.upload(t, []wire.Change{upd(3, "three")}, 1000)
		if again[0].Status != wire.StatusRejected || again[0].Error.SyncErrorID != res[0].Error.SyncErrorID {
			t.Fatalf("replay: %+v, want the same rejection %+v", again[0], res[0])
		}
	})
}

// TestStagedFileLimits: staged content is bounded per device and per
// user, a staged id belongs to its user (another user cannot replace it),
// and content whose change never came is removed after StagedFileMaxAge.
func TestStagedFileLimits(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		w := newUploadWorld(t, e, false)
		now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		eng := New(w.p, uploadPlanner{w.p}, Options{StagedBytesPerDevice: 100, StagedBytesPerUser: 150, StagedFileMaxAge: time.Hour, Now: func() time.Time { return now }})
		other, err := w.p.Principal(ctx, w.users[1])
		testenv.Must(t, err)
		devA, devB, devOther := w.deviceID, outpost.NewID(), outpost.NewID()
		_, err = eng.Open(ctx, w.by, wire.OpenRequest{DeviceID: devB, AppID: "fieldapp"})
		testenv.Must(t, err)
		_, err = eng.Open(ctx, other, wire.OpenRequest{DeviceID: devOther, AppID: "fieldapp"})
		testenv.Must(t, err)
		stage := func(by *security.Principal, dev, id string, n int) error {
			return eng.StageFile(ctx, by, dev, id, "f.txt", "text/plain", strings.NewReader(strings.Repeat("x", n)))
		}
		staged := func(id string) int64 {
			var n int64
			testenv.Must(t, w.p.DB().Read.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM outpost_fileupload WHERE fileid = `+w.p.DB().Dialect.Placeholder(1), id).Scan(&n))
			return n
		}
		ids := []string{outpost.NewID(), outpost.NewID(), outpost.NewID(), outpost.NewID()}
		testenv.Must(t, stage(w.by, devA, ids[0], 60))
		if err := stage(w.by, devA, ids[1], 60); outpost.ErrorCode(err) != outpost.CodeTooMany {
			t.Fatalf("staging past the device's limit: %v, want too_many", err)
		}
		testenv.Must(t, stage(w.by, devA, ids[0], 80)) // replaces its own content
		testenv.Must(t, stage(w.by, devB, ids[2], 60))
		if err := stage(w.by, devB, ids[3], 20); outpost.ErrorCode(err) != outpost.CodeTooMany || !strings.Contains(outpost.ErrorMessage(err), "this user") {
			t.Fatalf("staging past the user's limit: %v, want too_many for the user", err)
		}
		if err := stage(other, devOther, ids[0], 5); outpost.ErrorCode(err) != outpost.CodeConflict {
			t.Fatalf("another user staging a taken id: %v, want conflict", err)
		}
		if n := staged(ids[0]); n != 80 {
			t.Fatalf("staged content of the taken id is %d bytes, want the owner's 80", n)
		}
		if n := staged(ids[1]) + staged(ids[3]); n != 0 {
			t.Fatalf("refused staging stored %d bytes", n)
		}
		now = now.Add(2 * time.Hour)
		removed, err := eng.pruneStaged(ctx)
		testenv.Must(t, err)
		if removed != 2 || staged(ids[0])+staged(ids[2]) != 0 {
			t.Fatalf("pruned %d staged files, %d bytes left; want 2 and none", removed, staged(ids[0])+staged(ids[2]))
		}
		testenv.Must(t, stage(other, devOther, ids[0], 5)) // the id is free again
	})
}

// TestUploadResultsStoredAsRuns: the applied changes of an upload are
// recorded as runs (one row from a first to a last sequence), a rejection
// alone, and a replay of any of them, whole or in part, answers exactly
// as the first send did.
func TestUploadResultsStoredAsRuns(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		w := newUploadWorld(t, e, false)
		upd := func(seq int64, id string) wire.Change {
			return wire.Change{Seq: seq, MutationID: fmt.Sprint(seq), Table: "workorder", Op: wire.OpUpdate, ID: id, BaseVersion: w.base,
				Columns: map[string]any{"description": fmt.Sprintf("edit %d", seq)}}
		}
		var changes []wire.Change
		for seq := int64(1); seq <= 6; seq++ {
			id := rowID(kindOwnWO, int(seq))
			if seq == 4 {
				id = rowID(kindMissing, 1) // rejected: no such row
			}
			changes = append(changes, upd(seq, id))
		}
		first := w.upload(t, changes, 1000)
		for i, r := range first {
			want := wire.StatusApplied
			if i == 3 {
				want = wire.StatusRejected
			}
			if r.Seq != int64(i+1) || r.Status != want {
				t.Fatalf("result %d: %+v, want seq %d %s", i, r, i+1, want)
			}
		}
		rows, err := w.p.DB().Read.QueryContext(ctx, `SELECT seq, lastseq, status FROM outpost_syncresult ORDER BY seq`)
		testenv.Must(t, err)
		defer rows.Close()
		var got []string
		for rows.Next() {
			var seq int64
			var last sql.NullInt64
			var status string
			testenv.Must(t, rows.Scan(&seq, &last, &status))
			got = append(got, fmt.Sprintf("%d-%v %s", seq, last.Int64, status))
		}
		testenv.Must(t, rows.Err())
		if want := []string{"1-3 applied", "4-0 rejected", "5-6 applied"}; !slices.Equal(got, want) {
			t.Fatalf("stored result rows %v, want %v", got, want)
		}
		// The whole upload again, then parts of it: every change gets the
		// result it got first, and nothing is written again.
		before := w.dump(t)
		for _, part := range [][]int{{0, 1, 2, 3, 4, 5}, {1}, {2, 4}, {3}, {5}, {0}} {
			var again []wire.Change
			for _, i := range part {
				again = append(again, changes[i])
			}
			res := w.upload(t, again, 1000)
			for k, i := range part {
				if !reflect.DeepEqual(res[k], storedForm(first[i])) {
					t.Fatalf("replay of seq %d: %+v, want %+v", i+1, res[k], storedForm(first[i]))
				}
			}
		}
		// Another user sending the same changes under this device's id
		// gets no stored result, only the refusal.
		other, err := w.p.Principal(ctx, w.users[1])
		testenv.Must(t, err)
		resp, err := w.eng.Upload(ctx, other, wire.UploadRequest{DeviceID: w.deviceID, Changes: changes[:3]})
		if outpost.ErrorCode(err) != outpost.CodeForbidden || resp != nil {
			t.Fatalf("another user's replay: %+v, %v; want forbidden", resp, err)
		}
		if after := w.dump(t); after != before {
			t.Fatalf("a replay changed the server:\n%s\nwant\n%s", after, before)
		}
		// The next change after the runs is applied.
		if res := w.upload(t, []wire.Change{upd(7, rowID(kindOwnWO, 7))}, 1000); res[0].Status != wire.StatusApplied {
			t.Fatalf("change 7 after replays: %+v", res[0])
		}
	})
}
