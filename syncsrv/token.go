package syncsrv

import (
	"context"
	"crypto/hmac"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// token is a device's position in one table: every change up to Version is
// in the device's copy; Issued says when (tokens expire); Scope is the
// fingerprint of what decided the table's rows (the item's filter and
// columns and the user's teams, business units and hierarchy). When Scope
// differs from the current fingerprint, rows may have entered or left the
// device's scope without their own version moving.
type token struct {
	Version int64
	Issued  time.Time
	Scope   uint64
}

// A token travels as "version.issuedMillis.scopeHex.key.mac": the key's
// number and the MAC of everything before it under that key (tokenkey.go).

// payload is the signed part of t.
func (t token) payload(key int64) string {
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, t.Version, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, t.Issued.UnixMilli(), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, t.Scope, 16)
	b = append(b, '.')
	b = strconv.AppendInt(b, key, 10)
	return string(b)
}

// sign returns t as a token signed with k.
func (t token) sign(k signKey) string {
	p := t.payload(k.id)
	return p + "." + k.mac(p)
}

// maxClockSkew is how far ahead of this server's clock a token may be
// dated (another server's clock may run a little ahead).
const maxClockSkew = time.Minute

// parseToken reads and verifies s at now. A token that is not one fails
// with CodeInvalid; a token this server cannot vouch for — unsigned (from
// an earlier version), signed with an unknown key, altered, dated in the
// future or expired — fails with CodeGone: the device re-syncs from
// scratch.
func (e *Engine) parseToken(ctx context.Context, table, s string, now time.Time) (token, error) {
	parts := strings.Split(s, ".")
	bad := outpost.Invalidf("sync token %q of table %q is not valid: send the token the server returned", s, table).WithTarget("token")
	if len(parts) != 3 && len(parts) != 5 {
		return token{}, bad
	}
	v, err1 := strconv.ParseInt(parts[0], 10, 64)
	n, err2 := strconv.ParseInt(parts[1], 10, 64)
	fp, err3 := strconv.ParseUint(parts[2], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil || v < 0 {
		return token{}, bad
	}
	gone := func(why string) error {
		return outpost.Errorf(outpost.CodeGone, "the sync token of table %q %s: a clean re-sync is needed", table, why).WithTarget("token")
	}
	if len(parts) == 3 {
		return token{}, gone("is unsigned (issued by an earlier version)")
	}
	kid, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return token{}, bad
	}
	tok := token{Version: v, Issued: time.UnixMilli(n).UTC(), Scope: fp}
	k, ok, err := e.verifyingKey(ctx, kid)
	if err != nil {
		return token{}, err
	}
	if !ok || !hmac.Equal([]byte(k.mac(tok.payload(kid))), []byte(parts[4])) {
		return token{}, gone("was not issued by this server or was altered")
	}
	if tok.Issued.After(now.Add(maxClockSkew)) {
		return token{}, gone("is dated " + tok.Issued.Format(time.RFC3339) + ", in the future")
	}
	if now.Sub(tok.Issued) > e.opts.TokenMaxAge {
		return token{}, gone(fmt.Sprintf("was issued on %s, more than %s ago", tok.Issued.Format(time.DateOnly), e.opts.TokenMaxAge))
	}
	return tok, nil
}

// scopeFingerprint hashes everything besides row data that decides which
// rows of item a user's device holds.
func scopeFingerprint(pr *security.Principal, item *profile.PlanItem) uint64 {
	h := fnv.New64a()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	w(item.Table)
	if item.Filter != nil {
		w(filter.String(item.Filter))
	}
	w(item.Columns...)
	sorted := func(ss []string) []string { c := slices.Clone(ss); slices.Sort(c); return c }
	w(pr.UserID, pr.BusinessUnitID)
	w(sorted(pr.TeamIDs)...)
	w("|")
	w(sorted(pr.HierarchyUserIDs)...)
	w("|")
	w(sorted(pr.BusinessUnitSubtree)...)
	return h.Sum64()
}

// dependencies returns the tables whose rows decide, through links, which
// rows of table e selects, plus the item's declared DependsOn.
func dependencies(s *schema.Schema, item *profile.PlanItem) []string {
	seen := map[string]bool{}
	for _, t := range filter.LinkedTables(s, item.Table, item.Filter) {
		seen[t] = true
	}
	for _, d := range item.DependsOn {
		seen[d] = true
	}
	delete(seen, item.Table)
	out := make([]string, 0, len(seen))
	for t := range seen {
		if _, ok := s.Table(t); ok {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// clockRelative reports whether e uses an operator relative to the clock.
func clockRelative(e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.And:
		return slices.ContainsFunc(x.List, clockRelative)
	case *filter.Or:
		return slices.ContainsFunc(x.List, clockRelative)
	case *filter.Not:
		return clockRelative(x.X)
	case *filter.Link:
		return x.Expr != nil && clockRelative(x.Expr)
	case *filter.Cond:
		return clockOp(x.Op)
	}
	return false
}
