package schema_test

import (
	"testing"

	"github.com/outposthq/outpost/schema"
)

// A self-referencing lookup is N:1 and 1:N under one name; Relationship
// must give the N:1, so that "parentaccountid/name eq 'x'" means the parent.
func TestSelfReferencingRelationshipIsManyToOne(t *testing.T) {
	t.Parallel()
	r, ok := schema.BuiltIn().Relationship("account", "account_parentaccountid")
	if !ok || r.Kind != schema.ManyToOne || r.Column != "parentaccountid" {
		t.Fatalf("Relationship(account, account_parentaccountid) = %+v, %t; want the N:1", r, ok)
	}
}

// Relationship names are unique per table: the 1:N end of a self-lookup has
// its own name, so selecting either end is unambiguous.
func TestRelationshipNamesUniquePerTable(t *testing.T) {
	t.Parallel()
	s := schema.BuiltIn()
	for _, tb := range s.Tables() {
		seen := map[string]schema.RelKind{}
		for _, r := range s.Relationships(tb.Name) {
			if k, dup := seen[r.Name]; dup {
				t.Errorf("table %s: relationship %s is listed as %s and as %s", tb.Name, r.Name, k, r.Kind)
			}
			seen[r.Name] = r.Kind
		}
	}
	r, ok := s.Relationship("account", "referenced_account_parentaccountid")
	if !ok || r.Kind != schema.OneToMany || r.Related != "account" || r.Column != "parentaccountid" {
		t.Fatalf("Relationship(account, referenced_account_parentaccountid) = %+v, %t; want the 1:N", r, ok)
	}
}
