package profile_test

import (
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

func seedDemo(t *testing.T, p *platform.Platform) *demo.Env {
	t.Helper()
	return testenv.MustGet[*demo.Env](t)(demo.Seed(t.Context(), p, demo.Options{AccountsPerTechnician: 1}))
}

func item(table string, rule profile.Rule) profile.ItemInput {
	return profile.ItemInput{Item: profile.Item{Table: table, Rule: rule}}
}

// TestSaveErrors checks every rule enforced when a profile or item is
// saved, with its exact message.
func TestSaveErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		prof := testenv.MustGet[*profile.Profile](t)(s.Create(ctx, sys, profile.Input{Name: "Draft"}))
		tests := []struct {
			name string
			in   profile.ItemInput
			code outpost.Code
			msg  string
		}{
			{"unknown table", item("nosuch", profile.RuleAll), outpost.CodeInvalid, `table "nosuch" does not exist`},
			{"table not offline", item("role", profile.RuleAll), outpost.CodeInvalid, `table "role" is not enabled for offline: turn on "Can be taken offline" first`},
			{"no rule", item("product", ""), outpost.CodeInvalid, `table "product": rule is required: use related, all, organization or custom (or 0 to 3)`},
			{"unknown rule", item("product", "some"), outpost.CodeInvalid, `table "product": rule "some" is not valid: use related, all, organization or custom (or 0 to 3)`},
			{"rule not offered", item("product", profile.RuleOrganization), outpost.CodeInvalid, `table "product" is organization owned: it offers Related rows only, All rows, Custom, not Organization rows`},
			{"business owned user rows", profile.ItemInput{Item: profile.Item{Table: "team", Rule: profile.RuleOrganization, UserRows: true}}, outpost.CodeInvalid,
				`table "team" is business owned: its rows have no owner, so Organization rows offers business-unit rows only`},
			{"unknown relationship", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleRelated, Relationships: []string{"nope"}}}, outpost.CodeInvalid,
				`table "product" has no relationship "nope": it has workorder_productid, product_createdby, product_modifiedby`},
			{"unknown column", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleAll, Columns: []string{"colour"}}}, outpost.CodeInvalid, `table "product" has no column "colour"`},
			{"image as column", profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleAll, Columns: []string{"photo"}}}, outpost.CodeInvalid,
				`table "workorder": column "photo" is a image column: choose it with imageColumns or files`},
			{"file as image", profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleAll, ImageColumns: []string{"report"}}}, outpost.CodeInvalid,
				`table "workorder": column "report" is a file column, not an image column`},
			{"files without file columns", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleAll, Files: true}}, outpost.CodeInvalid, `table "product" has no file columns`},
			{"bad filter text", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleCustom}, FilterText: "price gt"}, outpost.CodeInvalid,
				`filterText:1:9: expected a value after "gt", found end of input`},
			{"filter on unknown column", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleCustom}, FilterText: "colour eq 'red'"}, outpost.CodeInvalid,
				`profile "Draft", item product:1:1: unknown column "colour" in table "product"`},
			{"both filters", profile.ItemInput{Item: profile.Item{Table: "product", Rule: profile.RuleCustom, Filter: []byte("true")}, FilterText: "price gt 1"}, outpost.CodeInvalid,
				`table "product": give the filter as filter (a JSON tree) or filterText (OData), not both`},
		}
		for _, tt := range tests {
			_, err := s.PutItem(ctx, sys, prof.ID, tt.in)
			t.Run(tt.name, func(t *testing.T) { testenv.WantError(t, err, tt.code, tt.msg) })
		}
		long := strings.Repeat("x", 256)
		_, err := s.Create(ctx, sys, profile.Input{Name: long})
		testenv.WantError(t, err, outpost.CodeInvalid, "name must be at most 255 characters, got 256")
		_, err = s.Create(ctx, sys, profile.Input{Name: " "})
		testenv.WantError(t, err, outpost.CodeInvalid, "name is required")
		_, err = s.Create(ctx, sys, profile.Input{Name: "x", Description: strings.Repeat("d", 2001)})
		testenv.WantError(t, err, outpost.CodeInvalid, "description must be at most 2000 characters, got 2001")
		_, err = s.Create(ctx, sys, profile.Input{Name: "draft"})
		testenv.WantError(t, err, outpost.CodeConflict, `an offline profile named "draft" already exists`)
		_, err = s.Create(ctx, sys, profile.Input{Name: "dup", Items: []profile.ItemInput{item("product", profile.RuleAll), item("product", profile.RuleAll)}})
		testenv.WantError(t, err, outpost.CodeConflict, `table "product" is in the profile twice: a profile has one item per table`)
		_, err = s.Create(ctx, sys, profile.Input{Name: "a", Assignment: &profile.Assignment{Mode: "some"}})
		testenv.WantError(t, err, outpost.CodeInvalid, `assignment mode "some" is not valid: use default or restricted`)
		_, err = s.Get(ctx, sys, "00000000-0000-4000-8000-00000000abcd")
		testenv.WantError(t, err, outpost.CodeNotFound, "no offline profile has id 00000000-0000-4000-8000-00000000abcd")
		_, err = s.RemoveItem(ctx, sys, prof.ID, "account")
		testenv.WantError(t, err, outpost.CodeNotFound, `table "account" is not in the profile`)
		// A Basic User reads profiles but cannot change them.
		nora := principal(t, p, env.Technicians[0].ID)
		_, err = s.Create(ctx, nora, profile.Input{Name: "Mine"})
		testenv.WantError(t, err, outpost.CodeForbidden, `you lack the create privilege on table "mobileofflineprofile"`)
		_, _, err = s.Publish(ctx, nora, env.ProfileID)
		if outpost.ErrorCode(err) != outpost.CodeForbidden {
			t.Errorf("Basic User publish: %v, want forbidden", err)
		}
	})
}
