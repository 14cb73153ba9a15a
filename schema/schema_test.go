package schema_test

import (
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
)

func TestBuiltInTables(t *testing.T) {
	s := schema.BuiltIn()
	for _, name := range []string{"systemuser", "team", "teammembership", "businessunit", "role", "account", "contact", "task",
		"canvasapp", "appmodule", "mobileofflineprofile", "mobileofflineprofileitem", "syncerror"} {
		if _, ok := s.Table(name); !ok {
			t.Errorf("built-in table %q is missing", name)
		}
	}
	if s.MustTable("mobileofflineprofile").Offline || !s.MustTable("mobileofflineprofile").NeverOffline {
		t.Error("profile tables must never be offline")
	}
	acc := s.MustTable("account")
	for _, c := range []string{"accountid", "createdon", "modifiedon", "createdby", "modifiedby", "ownerid", "owningbusinessunit", "statecode", "statuscode", "versionnumber"} {
		if _, ok := acc.Column(c); !ok {
			t.Errorf("account lacks system column %q", c)
		}
	}
	if _, ok := s.MustTable("appmodule").Column("ownerid"); ok {
		t.Error("organization-owned appmodule has an owner column")
	}
}

func TestRelationships(t *testing.T) {
	s := schema.BuiltIn()
	got := map[string]schema.RelKind{}
	for _, r := range s.Relationships("account") {
		got[r.Name] = r.Kind
	}
	want := map[string]schema.RelKind{
		"account_primarycontactid": schema.ManyToOne, // account -> contact
		"contact_parentcustomerid": schema.OneToMany, // account <- contact
	}
	for name, kind := range want {
		if got[name] != kind {
			t.Errorf("relationship %s = %q, want %q", name, got[name], kind)
		}
	}
	r, ok := s.Relationship("systemuser", "teammembership_association")
	if !ok || r.Kind != schema.ManyToMany || r.Related != "team" || r.IntersectColumn != "systemuserid" || r.RelatedColumn != "teamid" {
		t.Errorf("systemuser N:N team = %+v, %v", r, ok)
	}
	// A self-referencing N:N names its second column related<table>id on both sides.
	s2, err := s.WithManyToMany(schema.ManyToManyDef{Name: "account_peers", Table1: "account", Table2: "account", Intersect: "accountpeer"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ = s2.Relationship("account", "account_peers")
	it := s2.MustTable("accountpeer")
	for _, c := range []string{r.IntersectColumn, r.RelatedColumn} {
		if _, ok := it.Column(c); !ok {
			t.Errorf("intersect table has no column %q", c)
		}
	}
}

func TestValidateTable(t *testing.T) {
	tests := []struct {
		name string
		t    *schema.Table
		code outpost.Code
	}{
		{"ok", schema.WithSystemColumns(&schema.Table{Name: "thing", Ownership: schema.OwnedByUser, Columns: []schema.Column{{Name: "name", Type: schema.Text}}}), ""},
		{"no primary name", schema.WithSystemColumns(&schema.Table{Name: "thing", Ownership: schema.OwnedByUser, PrimaryName: "title"}), outpost.CodeInvalid},
		{"offline without tracking", schema.WithSystemColumns(&schema.Table{Name: "thing", Ownership: schema.OwnedByUser, Offline: true, Columns: []schema.Column{{Name: "name", Type: schema.Text}}}), outpost.CodeInvalid},
		{"options on text", schema.WithSystemColumns(&schema.Table{Name: "thing", Ownership: schema.OwnedByNone, Columns: []schema.Column{{Name: "name", Type: schema.Text, Options: []schema.Option{{Value: 1}}}}}), outpost.CodeInvalid},
		{"duplicate option", schema.WithSystemColumns(&schema.Table{Name: "thing", Ownership: schema.OwnedByNone, Columns: []schema.Column{{Name: "name", Type: schema.Text}, {Name: "c1", Type: schema.Choice, Options: []schema.Option{{Value: 1}, {Value: 1}}}}}), outpost.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := schema.ValidateTable(tt.t)
			if got := outpost.ErrorCode(err); got != tt.code {
				t.Errorf("ValidateTable = %v (code %q), want code %q", err, got, tt.code)
			}
		})
	}
}
