package syncsrv

import (
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

func (t token) String() string {
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, t.Version, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, t.Issued.UnixMilli(), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, t.Scope, 16)
	return string(b)
}

func parseToken(s string) (token, error) {
	vs, rest, ok1 := strings.Cut(s, ".")
	ms, fps, ok2 := strings.Cut(rest, ".")
	v, err1 := strconv.ParseInt(vs, 10, 64)
	n, err2 := strconv.ParseInt(ms, 10, 64)
	fp, err3 := strconv.ParseUint(fps, 16, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil || v < 0 {
		return token{}, outpost.Invalidf("sync token %q is not valid: send the token the server returned", s).WithTarget("token")
	}
	return token{Version: v, Issued: time.UnixMilli(n).UTC(), Scope: fp}, nil
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
