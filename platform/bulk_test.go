package platform_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// CreateMany's batched path stores what Create stores row by row, and
// refuses what Create refuses with the same error, naming the row.
func TestCreateManyMatchesCreate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		role(t, p, o.u1, false,
			security.Grant{Table: "account", Privilege: security.Create, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Read, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Append, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.AppendTo, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.Delete, Depth: security.User})
		role(t, p, o.u2, false, security.Grant{Table: "account", Privilege: security.Create, Depth: security.User})
		u1, u2 := principal(t, p, o.u1), principal(t, p, o.u2)
		parent := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "account", map[string]any{"name": "Parent"}))["accountid"].(string)
		hidden := testenv.MustGet[outpost.Row](t)(p.Create(ctx, u2, "account", map[string]any{"name": "Not u1's"}))["accountid"].(string)

		inputs := func(tag string) []map[string]any {
			return []map[string]any{
				{"name": tag + " 1", "telephone1": "555"},
				{"name": tag + " 2", "parentaccountid": parent, "revenue": 12.5},
				{"name": tag + " 3", "statecode": 1},
			}
		}
		bulk := func(by *security.Principal, in []map[string]any) (*platform.BulkResult, error) {
			var res *platform.BulkResult
			err := p.Write(ctx, func(w *platform.Writer) error {
				var err error
				res, err = w.CreateMany(ctx, by, "account", in, platform.BulkOptions{})
				return err
			})
			return res, err
		}
		res := testenv.MustGet[*platform.BulkResult](t)(bulk(u1, inputs("Bulk")))
		var single []string
		for _, in := range inputs("Single") {
			single = append(single, testenv.MustGet[outpost.Row](t)(p.Create(ctx, u1, "account", in))["accountid"].(string))
		}
		compare := []string{"ownerid", "owneridtype", "owningbusinessunit", "createdby", "modifiedby", "statecode", "statuscode", "telephone1", "revenue", "parentaccountid"}
		for i, id := range res.IDs {
			a := testenv.MustGet[outpost.Row](t)(p.Get(ctx, u1, "account", id, nil))
			b := testenv.MustGet[outpost.Row](t)(p.Get(ctx, u1, "account", single[i], nil))
			for _, c := range compare {
				if fmt.Sprint(a[c]) != fmt.Sprint(b[c]) {
					t.Errorf("row %d column %s: CreateMany stored %v, Create %v", i, c, a[c], b[c])
				}
			}
			if a["ownerid"] != o.u1 || a["owningbusinessunit"] != o.a {
				t.Errorf("row %d: owner %v in %v, want u1 in A", i, a["ownerid"], a["owningbusinessunit"])
			}
		}

		before := len(names(t, p, platform.System(), "account", platform.Query{}))
		for _, tc := range []struct {
			name   string
			by     *security.Principal
			in     []map[string]any
			code   outpost.Code
			target string
		}{
			{"a lookup to a row the caller cannot see answers as a missing row", u1, []map[string]any{{"name": "x"}, {"name": "y", "parentaccountid": hidden}}, outpost.CodeInvalid, "Targets[1].parentaccountid"},
			{"a lookup to no row", u1, []map[string]any{{"name": "x", "parentaccountid": "5b0e8e9a-0c1f-4a52-9d5e-2f3c4b5a6d7e"}, {"name": "y"}}, outpost.CodeInvalid, "Targets[0].parentaccountid"},
			{"the same key twice", u1, []map[string]any{{"name": "x", "accountid": "6b0e8e9a-0c1f-4a52-9d5e-2f3c4b5a6d7e"}, {"name": "y", "accountid": "6b0e8e9a-0c1f-4a52-9d5e-2f3c4b5a6d7e"}}, outpost.CodeConflict, "Targets[1].accountid"},
			{"a row owned by someone else without assign", u1, []map[string]any{{"name": "x"}, {"name": "y", "ownerid": o.u2}}, outpost.CodeForbidden, "Targets[1].ownerid"},
			{"append without the privilege", u2, []map[string]any{{"name": "x"}, {"name": "y", "parentaccountid": hidden}}, outpost.CodeForbidden, "Targets[1].parentaccountid"},
			{"a bad value", u1, []map[string]any{{"name": "x", "revenue": "lots"}, {"name": "y"}}, outpost.CodeInvalid, "Targets[0].revenue"},
		} {
			_, err := bulk(tc.by, tc.in)
			if outpost.ErrorCode(err) != tc.code || outpost.ErrorTarget(err) != tc.target {
				t.Errorf("%s: %v (code %s, target %q), want %s at %s", tc.name, err, outpost.ErrorCode(err), outpost.ErrorTarget(err), tc.code, tc.target)
			}
			if tc.name == "a lookup to a row the caller cannot see answers as a missing row" && strings.Contains(outpost.ErrorMessage(err), "appendto") {
				t.Errorf("the error tells that the hidden row exists: %v", err)
			}
			if n := len(names(t, p, platform.System(), "account", platform.Query{})); n != before {
				t.Fatalf("%s: a refused batch left %d rows, want %d", tc.name, n, before)
			}
		}

		// A row created again under a deleted id is no longer a tombstone.
		gone := res.IDs[0]
		testenv.Must(t, p.Delete(ctx, u1, "account", gone))
		v0 := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "account", 0, 1000)).Token
		again := testenv.MustGet[*platform.BulkResult](t)(bulk(u1, []map[string]any{{"name": "Back", "accountid": gone}, {"name": "Also"}}))
		if again.IDs[0] != gone {
			t.Fatalf("ids %v", again.IDs)
		}
		ch := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "account", v0, 1000))
		for _, d := range ch.Deleted {
			if d.ID == gone {
				t.Errorf("the re-created row is still reported deleted")
			}
		}
		if len(ch.Rows) != 2 {
			t.Errorf("changes since the batch: %d rows, want 2", len(ch.Rows))
		}
	})
}
