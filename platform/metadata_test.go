package platform_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

var inspection = platform.TableInput{
	Name: "inspection", DisplayName: "Inspection", Ownership: schema.OwnedByUser,
	Columns: []schema.Column{
		{Name: "accountid", Type: schema.Lookup, Target: "account"},
		{Name: "score", Type: schema.Integer},
		{Name: "result", Type: schema.Choice, Options: []schema.Option{{Value: 1, Label: "Pass"}, {Value: 2, Label: "Fail"}}},
		{Name: "notes", Type: schema.Memo},
		{Name: "inspectedon", Type: schema.DateTime},
		{Name: "passed", Type: schema.Boolean},
		{Name: "fee", Type: schema.Money},
		{Name: "ratio", Type: schema.Decimal},
		{Name: "photo", Type: schema.Image},
		{Name: "report", Type: schema.File},
	},
}

func TestCreateAndAlterTable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		tbl := testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, inspection))
		for _, c := range []string{"inspectionid", "name", "ownerid", "owningbusinessunit", "versionnumber", "statecode", "createdon"} {
			if _, ok := tbl.Column(c); !ok {
				t.Errorf("new table lacks column %q", c)
			}
		}
		rels := p.Schema().Relationships("account")
		found := false
		for _, r := range rels {
			found = found || (r.Name == "inspection_accountid" && r.Kind == schema.OneToMany)
		}
		if !found {
			t.Errorf("account has no 1:N inspection_accountid relationship: %v", rels)
		}
		// Rows round-trip with every type.
		o := newOrg(t, p)
		acc := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": o.u1}))
		row := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "inspection", map[string]any{
			"name": "i1", "ownerid": o.u1, "accountid": acc["accountid"], "score": 7, "result": 2, "notes": "long text",
			"inspectedon": "2026-03-04T05:06:07Z", "passed": true, "fee": 12.5, "ratio": 0.25,
		}))
		got := testenv.MustGet[outpost.Row](t)(p.Get(ctx, sys, "inspection", row["inspectionid"].(string), nil))
		js := platform.JSONRow(got)
		checks := map[string]any{"score": int64(7), "result": int64(2), "passed": true, "fee": 12.5, "ratio": 0.25, "inspectedon": "2026-03-04T05:06:07.000Z", "notes": "long text"}
		for k, want := range checks {
			if js[k] != want {
				t.Errorf("%s = %#v, want %#v", k, js[k], want)
			}
		}
		// Add a column; the physical table follows.
		testenv.MustGet[*schema.Table](t)(p.AddColumn(ctx, sys, "inspection", schema.Column{Name: "inspector", Type: schema.Text, MaxLength: 50}))
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "inspection", row["inspectionid"].(string), map[string]any{"inspector": "Kim"}))
		// Offline is irreversible and switches change tracking on.
		on, off := true, false
		tt := testenv.MustGet[*schema.Table](t)(p.UpdateTable(ctx, sys, "inspection", platform.TablePatch{Offline: &on}))
		if !tt.Offline || !tt.ChangeTracking {
			t.Fatalf("offline=%v tracking=%v, want both on", tt.Offline, tt.ChangeTracking)
		}
		_, err := p.UpdateTable(ctx, sys, "inspection", platform.TablePatch{Offline: &off})
		wantCode(t, err, outpost.CodeInvalid)
		_, err = p.UpdateTable(ctx, sys, "mobileofflineprofile", platform.TablePatch{Offline: &on})
		wantCode(t, err, outpost.CodeInvalid)
		// The metadata survives a reload from the database.
		testenv.Must(t, p.Reload(ctx))
		if c, ok := p.Schema().MustTable("inspection").Column("inspector"); !ok || c.MaxLength != 50 {
			t.Fatalf("after reload inspector column = %v, %v", c, ok)
		}
		// N:N relationship with its intersect table.
		testenv.Must(t, p.CreateManyToMany(ctx, sys, schema.ManyToManyDef{Name: "inspection_contact", Table1: "inspection", Table2: "contact"}))
		if _, ok := p.Schema().Relationship("contact", "inspection_contact"); !ok {
			t.Fatal("contact has no N:N inspection_contact")
		}
	})
}

func TestMetadataBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, inspection))
		tests := []struct {
			name    string
			in      platform.TableInput
			code    outpost.Code
			message string
		}{
			{"duplicate table", inspection, outpost.CodeConflict, `table "inspection" already exists`},
			{"bad name", platform.TableInput{Name: "Bad Name"}, outpost.CodeInvalid, `table name "Bad Name" is not valid`},
			{"bad ownership", platform.TableInput{Name: "t1", Ownership: "people"}, outpost.CodeInvalid, `ownership "people" is not valid`},
			{"bad type", platform.TableInput{Name: "t2", Columns: []schema.Column{{Name: "x1", Type: "blob"}}}, outpost.CodeInvalid, `type "blob" is not valid`},
			{"lookup without target", platform.TableInput{Name: "t3", Columns: []schema.Column{{Name: "x1", Type: schema.Lookup}}}, outpost.CodeInvalid, "needs a target table"},
			{"lookup to nowhere", platform.TableInput{Name: "t4", Columns: []schema.Column{{Name: "x1", Type: schema.Lookup, Target: "nope"}}}, outpost.CodeInvalid, `looks up table "nope"`},
			{"choice without options", platform.TableInput{Name: "t5", Columns: []schema.Column{{Name: "x1", Type: schema.Choice}}}, outpost.CodeInvalid, "needs at least one option"},
			{"system column", platform.TableInput{Name: "t6", Columns: []schema.Column{{Name: "ownerid", Type: schema.Text}}}, outpost.CodeInvalid, "system column"},
			{"duplicate column", platform.TableInput{Name: "t7", Columns: []schema.Column{{Name: "x1", Type: schema.Text}, {Name: "x1", Type: schema.Text}}}, outpost.CodeConflict, `column "x1" is defined twice`},
			{"text too long", platform.TableInput{Name: "t8", Columns: []schema.Column{{Name: "x1", Type: schema.Text, MaxLength: 5000}}}, outpost.CodeInvalid, "maxLength must be between 1 and 4000"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := p.CreateTable(ctx, sys, tt.in)
				wantCode(t, err, tt.code)
				if !strings.Contains(outpost.ErrorMessage(err), tt.message) {
					t.Errorf("message %q does not contain %q", outpost.ErrorMessage(err), tt.message)
				}
				if _, exists := p.Schema().Table(tt.in.Name); exists && tt.in.Name != "inspection" {
					t.Errorf("table %q exists after a failed create", tt.in.Name)
				}
			})
		}
		_, err := p.AddColumn(ctx, sys, "inspection", schema.Column{Name: "score", Type: schema.Integer})
		wantCode(t, err, outpost.CodeConflict)
		_, err = p.AddColumn(ctx, sys, "nope", schema.Column{Name: "x1", Type: schema.Integer})
		wantCode(t, err, outpost.CodeNotFound)
		_, err = p.AddColumn(ctx, sys, "inspection", schema.Column{Name: "x2", Type: schema.Integer, Required: true})
		wantCode(t, err, outpost.CodeInvalid)
		// Only makers change metadata.
		o := newOrg(t, p)
		_, err = p.CreateTable(ctx, principal(t, p, o.u1), platform.TableInput{Name: "t9"})
		wantCode(t, err, outpost.CodeForbidden)
		role(t, p, o.u1, false)
		testenv.Must(t, p.AssignUserRole(ctx, sys, o.u1, security.RoleSystemCustomizer))
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, principal(t, p, o.u1), platform.TableInput{Name: "t9"}))
	})
}

func TestWriteMetaIsAllOrNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		err := p.WriteMeta(ctx, func(w *platform.Writer) error {
			if _, err := w.CreateTable(ctx, sys, platform.TableInput{Name: "widget", Ownership: schema.OwnedByOrganization}); err != nil {
				return err
			}
			// The new table is usable inside the transaction.
			if _, err := w.Create(ctx, sys, "widget", map[string]any{"name": "w1"}); err != nil {
				return err
			}
			_, err := w.Create(ctx, sys, "widget", map[string]any{"nope": 1})
			return err
		})
		wantCode(t, err, outpost.CodeInvalid)
		if _, ok := p.Schema().Table("widget"); ok {
			t.Fatal("a failed WriteMeta left its table in the schema")
		}
		testenv.Must(t, p.Reload(ctx))
		if _, ok := p.Schema().Table("widget"); ok {
			t.Fatal("a failed WriteMeta left its table in the database's metadata")
		}
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, platform.TableInput{Name: "widget", Ownership: schema.OwnedByOrganization}))
		// Metadata methods outside WriteMeta are refused.
		err = p.Write(ctx, func(w *platform.Writer) error {
			_, err := w.CreateTable(ctx, sys, platform.TableInput{Name: "gizmo"})
			return err
		})
		if err == nil {
			t.Fatal("CreateTable in a plain Write succeeded")
		}
	})
}

// TestReservedTableNames refuses tables and intersect tables named like
// Outpost's own tables, the engines' catalogs or a built-in table, and a
// table whose physical table already exists outside the metadata; account
// deletes keep working afterwards.
func TestReservedTableNames(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		for _, tc := range []struct{ name, want string }{
			{"outpost_setting", `"outpost_"`}, {"outpost_newthing", `"outpost_"`}, {"sqlite_stat1", `"sqlite_"`},
			{"sqlite_master", `"sqlite_"`}, {"pg_class", `"pg_"`}, {"account", "built-in"}, {"teammembership", "built-in"},
			{"systemuserroles", "built-in"}, {"syncerror", "built-in"},
		} {
			_, err := p.CreateTable(ctx, sys, platform.TableInput{Name: tc.name})
			wantCode(t, err, outpost.CodeInvalid)
			if msg := outpost.ErrorMessage(err); !strings.Contains(msg, tc.want) || outpost.ErrorTarget(err) != "name" {
				t.Errorf("create %s: %q (target %q) does not name %s", tc.name, msg, outpost.ErrorTarget(err), tc.want)
			}
			err = p.CreateManyToMany(ctx, sys, schema.ManyToManyDef{Name: "rel_" + strings.ReplaceAll(tc.name, "_", ""), Table1: "account", Table2: "contact", Intersect: tc.name})
			wantCode(t, err, outpost.CodeInvalid)
			if msg := outpost.ErrorMessage(err); !strings.Contains(msg, tc.want) || outpost.ErrorTarget(err) != "intersect" {
				t.Errorf("N:N over %s: %q (target %q) does not name %s", tc.name, msg, outpost.ErrorTarget(err), tc.want)
			}
		}
		// A physical table the metadata does not know.
		if _, err := p.DB().Write.ExecContext(ctx, `CREATE TABLE stray (strayid TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		_, err := p.CreateTable(ctx, sys, platform.TableInput{Name: "stray"})
		wantCode(t, err, outpost.CodeConflict)
		if msg := outpost.ErrorMessage(err); !strings.Contains(msg, "already exists in the database") {
			t.Errorf("create over a stray table: %q", msg)
		}
		if _, ok := p.Schema().Table("stray"); ok {
			t.Error("the stray table was registered")
		}
		// Outpost's own tables still work.
		u, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "U", DomainName: "u"})
		testenv.Must(t, err)
		row, err := p.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": u})
		testenv.Must(t, err)
		testenv.Must(t, p.Delete(ctx, sys, "account", row["accountid"].(string)))
	})
}

// A created row comes back as a read returns it, for every column type and
// values at their edges: on SQLite the INSERT returns nothing and the row
// is built from the values bound (storedRow), on PostgreSQL it is the
// INSERT's RETURNING.
func TestCreateReturnsTheRowAsStored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		testenv.MustGet[*schema.Table](t)(p.CreateTable(ctx, sys, inspection))
		o := newOrg(t, p)
		acc := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": o.u1}))
		inputs := []map[string]any{
			{"name": "only the name"},
			{"name": "every type", "ownerid": o.u1, "accountid": acc["accountid"], "score": 7, "result": 2, "notes": "long text",
				"inspectedon": "2026-03-04T05:06:07Z", "passed": true, "fee": 12.5, "ratio": 0.25},
			{"name": "edges", "score": int64(-1 << 53), "fee": 0.1, "ratio": -0.0, "passed": false,
				"inspectedon": "2026-03-04T05:06:07.123456789+02:00", "notes": "ünïcödé ✓ \t\n 'quotes' \"double\""},
			{"name": "whole numbers", "fee": 3, "ratio": float64(1 << 53), "score": float64(42), "statecode": 1, "statuscode": 2},
			{"name": "nulls", "accountid": nil, "score": nil, "notes": nil, "inspectedon": nil, "passed": nil, "fee": nil},
			{"name": "chosen id", "inspectionid": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "ownerid": o.ta},
		}
		// Also as the last write of its transaction (WriteLast): on
		// PostgreSQL the INSERT then travels with the COMMIT and the row is
		// built from the values bound. A chosen id is created as before.
		for _, last := range []bool{false, true} {
			for _, in := range inputs {
				in := maps.Clone(in)
				if in["ownerid"] == nil {
					in["ownerid"] = o.u2
				}
				if id, ok := in["inspectionid"].(string); ok && last {
					in["inspectionid"] = id[:len(id)-1] + "c"
				}
				cctx := ctx
				if last {
					cctx = platform.WriteLast(ctx)
				}
				created, err := p.Create(cctx, sys, "inspection", in)
				if err != nil {
					t.Fatalf("create %v (last %v): %v", in["name"], last, err)
				}
				read := testenv.MustGet[outpost.Row](t)(p.Get(ctx, sys, "inspection", created["inspectionid"].(string), nil))
				if diff := cmp.Diff(read, created); diff != "" {
					t.Errorf("%v (last %v): the row Create returned differs from the row read (-read +created):\n%s", in["name"], last, diff)
				}
				if diff := cmp.Diff(platform.JSONRow(read), platform.JSONRow(created)); diff != "" {
					t.Errorf("%v (last %v): JSON of the row Create returned differs (-read +created):\n%s", in["name"], last, diff)
				}
			}
		}
	})
}
