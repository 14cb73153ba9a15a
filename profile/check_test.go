package profile_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

// TestRelationshipCountsFollowValidate checks that the counts the portal
// shows are the ones publish applies: within the limit each table counts its
// chains; past it the count stops at 16 and names the same 16th chain as the
// validation error, cyclic drafts included.
func TestRelationshipCountsFollowValidate(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	p := &profile.Profile{Name: "p", Items: chainItems(3)}
	got := profile.RelationshipCounts(s, p)
	want := []profile.RelationshipCount{{Table: "t00", Count: 2}, {Table: "t01", Count: 1}, {Table: "t02", Count: 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts of a chain of 3 (-want +got):\n%s", diff)
	}
	for _, items := range [][]profile.Item{chainItems(17), chainWithLinks(15)} {
		p := &profile.Profile{Name: "p", Items: items}
		c := profile.RelationshipCounts(s, p)[0]
		v := profile.Validate(s, p)
		if c.Count != 16 || c.Over == "" || len(v.Errors) == 0 || !strings.HasSuffix(v.Errors[0].Message, "the 16th is "+c.Over) {
			t.Errorf("count %+v; validation %+v", c, v.Errors)
		}
	}
	// A cycle: the walk still ends, just past the limit.
	cyc := []profile.Item{
		{Table: "c1", Rule: profile.RuleAll, Relationships: []string{"c1_hubid"}},
		{Table: "hub", Rule: profile.RuleRelated, Relationships: []string{"c1_hubid"}},
	}
	if c := profile.RelationshipCounts(s, &profile.Profile{Name: "p", Items: cyc}); c[0].Count != 16 || !strings.HasPrefix(c[0].Over, "c1 -[c1_hubid N:1]-> hub -[c1_hubid 1:N]-> c1") {
		t.Errorf("cyclic counts: %+v", c)
	}
}

// TestCheckItem checks an unsaved item against a draft: text and tree
// forms of its filter both ways, the field error of a wrong filter, the
// counts with the item in place, and that nothing is written.
func TestCheckItem(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, p *platform.Platform, s *profile.Service) {
		env := seedDemo(t, p)
		ctx := t.Context()
		text := "statecode eq 0 and (priority ge 2 or Microsoft.Dynamics.CRM.EqUserOrUserTeams(PropertyName='ownerid')) and customerid/name ne 'x'"
		in := profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleCustom}, FilterText: text}
		c := testenv.MustGet[*profile.ItemCheck](t)(s.CheckItem(ctx, sys, env.ProfileID, in))
		if c.Error != nil || c.Item == nil || len(c.Item.Filter) == 0 {
			t.Fatalf("check of a good filter: %+v %+v", c, c.Error)
		}
		tree := c.Item.Filter
		back := testenv.MustGet[*profile.ItemCheck](t)(s.CheckItem(ctx, sys, env.ProfileID, profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleCustom, Filter: tree}}))
		if back.FilterText == "" || back.FilterText != c.FilterText {
			t.Errorf("filter text from the tree %q, from the text %q", back.FilterText, c.FilterText)
		}
		again := testenv.MustGet[*profile.ItemCheck](t)(s.CheckItem(ctx, sys, env.ProfileID, profile.ItemInput{Item: in.Item, FilterText: back.FilterText}))
		if string(again.Item.Filter) != string(tree) {
			t.Errorf("text → tree → text → tree: %s, then %s", tree, again.Item.Filter)
		}
		// The filter's link counts toward workorder's total, and through
		// account's relationship toward account's and contact's.
		counts := map[string]int{}
		for _, x := range c.Counts {
			counts[x.Table] = x.Count
		}
		if diff := cmp.Diff(map[string]int{"workorder": 1, "account": 2, "contact": 3, "product": 0}, counts); diff != "" {
			t.Errorf("counts with the custom filter (-want +got):\n%s", diff)
		}

		bad := testenv.MustGet[*profile.ItemCheck](t)(s.CheckItem(ctx, sys, env.ProfileID, profile.ItemInput{Item: profile.Item{Table: "workorder", Rule: profile.RuleCustom}, FilterText: "nosuch eq 1"}))
		if bad.Error == nil || bad.Error.Target != "filterText" || !strings.Contains(bad.Error.Message, `unknown column "nosuch"`) || bad.Item != nil || len(bad.Counts) != 4 {
			t.Errorf("check of a wrong filter: %+v", bad)
		}
		_, err := s.CheckItem(ctx, sys, env.ProfileID, profile.ItemInput{Item: profile.Item{Table: "nosuch", Rule: profile.RuleAll}})
		testenv.WantError(t, err, "invalid", `table "nosuch" does not exist`)

		prof := testenv.MustGet[*profile.Profile](t)(s.Get(ctx, sys, env.ProfileID))
		if prof.Draft {
			b, _ := json.Marshal(prof.Items)
			t.Errorf("checking wrote the draft: %s", b)
		}
	})
}
