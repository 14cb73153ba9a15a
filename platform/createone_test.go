package platform_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
)

// TestCreateAs: a one-row create as a principal from memory. On
// PostgreSQL, one that needs no read first runs as one statement: the row
// answers as a read of it does, carries a version no token handed out
// before it reaches, is in the changes after such a token and in the scope
// log, and the commit hooks hear of it, and a lookup's check is part of
// the statement. A create that names its id or another owner, or whose
// lookup the caller may not set, runs as a transaction, on either engine,
// with its checks and answers. After a security change the cached principal writes
// nothing: the create runs again as the user's principal read afresh,
// which no longer may.
func TestCreateAs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		sys := platform.System()
		o := newOrg(t, p)
		r, _, cached, v := accountCreator(t, p, o.u1)
		// Older PostgreSQL databases, whose versions come from the counter
		// row (OUTPOST_PG_XID_VERSIONS=0), create in a transaction.
		pg := p.DB().SparseVersions()
		heard := make(chan []string, 16)
		p.OnCommit(func(tables []string) { heard <- tables })
		drain := func() (out [][]string) {
			for {
				select {
				case ts := <-heard:
					out = append(out, ts)
				default:
					return out
				}
			}
		}
		drain()

		before := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "account", 0, 1000)).Token
		one := platform.OneStatementCreates(p)
		row := testenv.MustGet[outpost.Row](t)(p.CreateAs(ctx, cached, v, "account", map[string]any{"name": "one statement", "revenue": 12.5}))
		if got := platform.OneStatementCreates(p) - one; pg && got != 1 || !pg && got != 0 {
			t.Fatalf("%d creates ran as one statement, want %v", got, pg)
		}
		id := row["accountid"].(string)
		read := testenv.MustGet[outpost.Row](t)(p.Get(ctx, principal(t, p, o.u1), "account", id, nil))
		for k, want := range read {
			if got := row[k]; !equalValue(got, want) {
				t.Errorf("the answer's %s is %v (%T), a read gives %v (%T)", k, got, got, want, want)
			}
		}
		if len(row) != len(read) {
			t.Errorf("the answer has %d columns, a read %d", len(row), len(read))
		}
		if row["ownerid"] != o.u1 || row["createdby"] != o.u1 {
			t.Errorf("owner %v, created by %v; want the caller %s", row["ownerid"], row["createdby"], o.u1)
		}
		version := row["versionnumber"].(int64)
		if version <= before {
			t.Fatalf("version %d is not above the token %d handed out before", version, before)
		}
		ch := testenv.MustGet[*platform.Changes](t)(p.ChangesSince(ctx, "account", before, 1000))
		if len(ch.Rows) != 1 || ch.Rows[0]["accountid"] != id {
			t.Fatalf("the changes after %d are %v, want the new row", before, ch.Rows)
		}
		q, args := sqlgen.NewBuilder(p.DB().Dialect).SQL(`SELECT columns FROM outpost_scopelog WHERE tablename = `).Arg("account").
			SQL(` AND version = `).Arg(version).Build()
		var cols string
		testenv.Must(t, p.DB().Read.QueryRowContext(ctx, q, args...).Scan(&cols))
		if cols != platform.AllColumns {
			t.Errorf("the scope log has %q for the create, want %q", cols, platform.AllColumns)
		}
		if got := drain(); len(got) != 1 || len(got[0]) != 1 || got[0][0] != "account" {
			t.Errorf("the commit hooks heard %v, want [[account]]", got)
		}

		// Creates that need a read first run as transactions.
		one = platform.OneStatementCreates(p)
		// u1 may not append to accounts: the lookup's check refuses.
		_, err := p.CreateAs(ctx, cached, v, "account", map[string]any{"name": "child", "parentaccountid": row["accountid"]})
		wantCode(t, err, outpost.CodeForbidden)
		named := outpost.NewID()
		testenv.MustGet[outpost.Row](t)(p.CreateAs(ctx, cached, v, "account", map[string]any{"accountid": named, "name": "named"}))
		_, err = p.CreateAs(ctx, cached, v, "account", map[string]any{"accountid": named, "name": "named again"})
		wantCode(t, err, outpost.CodeConflict)
		_, err = p.CreateAs(ctx, cached, v, "account", map[string]any{"name": "for someone else", "ownerid": o.u2})
		wantCode(t, err, outpost.CodeForbidden)
		_, err = p.CreateAs(ctx, cached, v, "account", map[string]any{"name": "no such column", "nosuchcolumn": 1})
		wantCode(t, err, outpost.CodeInvalid)
		if got := platform.OneStatementCreates(p) - one; got != 0 {
			t.Errorf("%d of the creates that need reads ran as one statement", got)
		}

		// With Append on accounts and Append To on its own, u1's lookup to
		// its own account is a condition of the one statement; one to an
		// account it cannot read writes nothing there and gets the
		// transaction's answer, a missing row.
		role(t, p, o.u1, false, security.Grant{Table: "account", Privilege: security.Append, Depth: security.User},
			security.Grant{Table: "account", Privilege: security.AppendTo, Depth: security.User})
		fresh, fv, err := p.PrincipalVersion(ctx, o.u1)
		testenv.Must(t, err)
		one = platform.OneStatementCreates(p)
		child := testenv.MustGet[outpost.Row](t)(p.CreateAs(ctx, fresh, fv, "account", map[string]any{"name": "child", "parentaccountid": id}))
		if child["parentaccountid"] != id {
			t.Errorf("the child's parent is %v, want %s", child["parentaccountid"], id)
		}
		if got := platform.OneStatementCreates(p) - one; pg && got != 1 || !pg && got != 0 {
			t.Errorf("%d creates with a lookup ran as one statement, want %v", got, pg)
		}
		others := testenv.MustGet[outpost.Row](t)(p.Create(ctx, sys, "account", map[string]any{"name": "u2's", "ownerid": o.u2}))
		one = platform.OneStatementCreates(p)
		_, err = p.CreateAs(ctx, fresh, fv, "account", map[string]any{"name": "child of u2's", "parentaccountid": others["accountid"]})
		wantCode(t, err, outpost.CodeInvalid)
		if got := platform.OneStatementCreates(p) - one; got != 0 {
			t.Errorf("a create whose lookup check failed counted %d one-statement creates", got)
		}
		if n := len(names(t, p, sys, "account", platform.Query{Filter: "name eq 'child of u2''s'"})); n != 0 {
			t.Fatalf("a lookup to a row u1 cannot append to was written (%d rows)", n)
		}

		// The role that let u1 create is gone: the cached principal is
		// older than the security log.
		testenv.Must(t, p.RemoveUserRole(ctx, sys, o.u1, r))
		_, err = p.CreateAs(ctx, cached, v, "account", map[string]any{"name": "after the change"})
		wantCode(t, err, outpost.CodeForbidden)
		if n := len(names(t, p, sys, "account", platform.Query{Filter: "name eq 'after the change'"})); n != 0 {
			t.Fatalf("a principal older than the security log created %d rows", n)
		}
	})
}

// equalValue compares two column values as a read returns them.
func equalValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}
