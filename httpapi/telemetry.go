package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

// telemetryRoutes registers the sync telemetry of administrators.
func (s *Server) telemetryRoutes() {
	s.Handle("GET /api/admin/syncs", s.adminSyncs)
}

// adminSyncs lists sync telemetry events, newest first, filtered by user,
// device (signed-in device or store), kind, outcome and a time range, a
// page of $top (default 100, at most 1000) after $skip, with
// @odata.nextLink when more follow (it fixes until to the first page's
// time, so events recorded meanwhile do not shift the pages).
func (s *Server) adminSyncs(w http.ResponseWriter, r *http.Request) error {
	if !principalOf(r).Admin {
		return outpost.Forbiddenf("only administrators may read sync telemetry")
	}
	q := r.URL.Query()
	f := platform.SyncFilter{UserID: q.Get("user"), DeviceID: q.Get("device"), Kind: q.Get("kind"), Outcome: q.Get("outcome")}
	for _, name := range []string{"user", "device"} {
		if v := q.Get(name); v != "" && !outpost.ValidID(v) {
			return outpost.Invalidf("%s %q is not an id: use a UUID", name, v).WithTarget(name)
		}
	}
	if f.Kind != "" && !slices.Contains(platform.SyncKinds, f.Kind) {
		return outpost.Invalidf("kind %q is not a sync kind: use one of %v", f.Kind, platform.SyncKinds).WithTarget("kind")
	}
	if f.Outcome != "" && f.Outcome != "ok" && f.Outcome != "error" {
		return outpost.Invalidf("outcome takes ok or error, got %q", f.Outcome).WithTarget("outcome")
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return outpost.Invalidf("%s %q is not a time: use RFC 3339, such as 2026-03-01T08:00:00Z", name, v).WithTarget(name)
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*int{"$top": &f.Top, "$skip": &f.Skip} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (name == "$top" && (n < 1 || n > platform.MaxSyncPage)) {
				return outpost.Invalidf("%s %q is not valid: $top takes 1 to %d, $skip 0 or more", name, v, platform.MaxSyncPage).WithTarget(name)
			}
			*dst = n
		}
	}
	asOf := s.p.Now()
	list, more, err := s.p.ListSyncs(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	body := map[string]any{"value": list}
	if more {
		top := f.Top
		if top == 0 {
			top = 100
		}
		next := *r.URL
		v := next.Query()
		v.Set("$skip", strconv.Itoa(f.Skip+len(list)))
		v.Set("$top", strconv.Itoa(top))
		if f.Until.IsZero() { // later events would shift the pages
			v.Set("until", asOf.Add(time.Millisecond).Format(time.RFC3339Nano))
		}
		next.RawQuery = v.Encode()
		body["@odata.nextLink"] = next.RequestURI()
	}
	return writeJSON(w, http.StatusOK, body)
}
