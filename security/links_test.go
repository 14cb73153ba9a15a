package security_test

import (
	"strings"
	"testing"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// TestSecureLinksLimitsLinksToReadableRows checks that a link to a table
// the principal cannot read matches nothing, and that a link to a readable
// table carries the principal's read filter of the related table.
func TestSecureLinksLimitsLinksToReadableRows(t *testing.T) {
	s := schema.BuiltIn()
	e, err := filter.ParseOData("primarycontactid/fullname eq 'Secret' and name eq 'mine'")
	if err != nil {
		t.Fatal(err)
	}
	checked, err := filter.Check(s, "account", e, filter.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &security.Principal{UserID: "u", Privileges: security.Set{}}
	p.Privileges.Add(security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
	got := filter.String(p.SecureLinks(s, "account", checked))
	if strings.Contains(got, "primarycontactid") || !strings.Contains(got, "false") || !strings.Contains(got, "mine") {
		t.Errorf("without read on contact the link must become false: %s", got)
	}
	p.Privileges.Add(security.Grant{Table: "contact", Privilege: security.Read, Depth: security.User})
	got = filter.String(p.SecureLinks(s, "account", checked))
	if !strings.Contains(got, "primarycontactid/") || !strings.Contains(got, "ownerid") || !strings.Contains(got, "Secret") {
		t.Errorf("with user-depth read on contact the link must carry the owner filter: %s", got)
	}
}
