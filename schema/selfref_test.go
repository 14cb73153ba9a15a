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
