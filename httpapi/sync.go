package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// syncRoutes registers /api/sync/v1/... (the device protocol, docs/protocol.md).
func (s *Server) syncRoutes() {
	p := wire.Prefix
	s.Handle("POST "+p+"/open", s.syncLogged(platform.SyncKindOpen, s.syncOpen))
	s.Handle("POST "+p+"/snapshot", s.syncLogged(platform.SyncKindFirst, s.syncSnapshot))
	// A delta checks the principal in its own snapshot (the probe).
	s.HandleSelfChecked("POST "+p+"/delta", s.syncLogged(platform.SyncKindDelta, s.syncDelta))
	s.Handle("POST "+p+"/reconcile", s.syncLogged(platform.SyncKindReconcile, s.syncReconcile))
	s.Handle("POST "+p+"/upload", s.syncLogged(platform.SyncKindUpload, s.syncUpload))
	s.Handle("POST "+p+"/events/ticket", s.syncEventTicket)
	// Authenticated by a stream ticket (?ticket=) or as any other route.
	s.HandlePublic("GET "+p+"/events", s.eventsAuth(s.syncEvents))
	s.Handle("GET "+p+"/errors", s.syncErrors)
	s.Handle("POST "+p+"/errors/{id}/retry", s.syncRetry)
	s.Handle("POST "+p+"/errors/{id}/resolve", s.syncResolve)
	s.Handle("GET "+p+"/settings", s.syncGetSettings)
	s.Handle("PUT "+p+"/settings", s.syncPutSettings)
}

func (s *Server) syncOpen(w http.ResponseWriter, r *http.Request) error {
	var req wire.OpenRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	out, err := s.sync.Open(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	e := entry(r)
	e.appID, e.profileVersion = out.AppID, out.ProfileVersion
	if c := credentialOf(r); c.DeviceID != "" {
		if err := s.p.LinkDeviceStore(r.Context(), c.DeviceID, req.DeviceID); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// syncSnapshot streams pages as newline-delimited JSON, or in the compact
// binary encoding (wire.PagesContentType) when the device's Accept header
// names it. Errors before the first page are ordinary error replies; later
// ones end the stream with a page that carries the error.
func (s *Server) syncSnapshot(w http.ResponseWriter, r *http.Request) error {
	var req wire.SnapshotRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	rc := http.NewResponseController(w)
	var write func(p *wire.SnapshotPage) error
	contentType := wire.NDJSONContentType
	if accepts(r.Header.Values("Accept"), wire.PagesContentType) {
		contentType = wire.PagesContentType
		var buf []byte
		write = func(p *wire.SnapshotPage) error {
			var err error
			if buf, err = wire.AppendPage(buf[:0], p); err != nil {
				return err
			}
			_, err = w.Write(buf)
			return err
		}
	} else {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		write = func(p *wire.SnapshotPage) error { return enc.Encode(p) }
	}
	started := false
	err := s.sync.Snapshot(r.Context(), principalOf(r), req, func(p *wire.SnapshotPage) error {
		if !started {
			w.Header().Set("Content-Type", contentType)
			w.Header().Add("Vary", "Accept")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		s.streamDeadline(rc)
		if err := write(p); err != nil {
			return err
		}
		noteSync(r, req.DeviceID, len(p.Rows))
		noteTable(r, p.Table)
		return rc.Flush()
	})
	if err != nil && started {
		code := outpost.ErrorCode(err)
		entry(r).streamErr = string(code)
		if code == outpost.CodeInternal {
			s.logger.ErrorContext(r.Context(), "snapshot failed", "err", err)
		}
		s.streamDeadline(rc)
		_ = write(&wire.SnapshotPage{Table: req.Table, Error: &wire.ErrorDetail{Code: string(code), Message: outpost.ErrorMessage(err)}})
		return nil
	}
	return err
}

// streamDeadline gives the next write of a stream StreamWriteTimeout,
// replacing the server's WriteTimeout for the connection (which the server
// sets afresh for the connection's next request). Writers that cannot set
// deadlines (tests' recorders) stream without one.
func (s *Server) streamDeadline(rc *http.ResponseController) {
	_ = rc.SetWriteDeadline(time.Now().Add(s.streamWrite))
}

// zeroQuality reports whether media type parameters carry q=0.
func zeroQuality(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(k, "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}

// accepts reports whether an Accept header names media (with a non-zero
// quality): the compact encodings are sent only to devices that ask.
func accepts(accept []string, want string) bool {
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			media, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(media), want) {
				continue
			}
			if zeroQuality(params) {
				continue
			}
			return true
		}
	}
	return false
}

func (s *Server) syncDelta(w http.ResponseWriter, r *http.Request) error {
	var req wire.DeltaRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	e := entry(r)
	if req.Full {
		e.kind = platform.SyncKindFull
	}
	e.profileVersion = req.ProfileVersion
	out, err := s.sync.Delta(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	e.profileVersion = out.ProfileVersion
	for _, d := range out.Deltas {
		n := len(d.Upserts) + len(d.Removes) + len(d.RemoveKeys)
		noteSync(r, req.DeviceID, n)
		if n > 0 || d.Reconcile != nil || len(d.RemoveWhere) > 0 {
			noteTable(r, d.Table)
		}
		if d.Reconcile != nil {
			s.syncm.reconciles.WithLabelValues(reconcileReasonLabel(d.Reason)).Inc()
		}
	}
	w.Header().Add("Vary", "Accept")
	if accepts(r.Header.Values("Accept"), wire.DeltaContentType) {
		body, err := wire.AppendDelta(nil, out)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", wire.DeltaContentType)
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(body)
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) syncReconcile(w http.ResponseWriter, r *http.Request) error {
	var req wire.ReconcileRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	out, err := s.sync.Reconcile(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	noteSync(r, req.DeviceID, len(out.Upserts)+len(out.Removes))
	noteTable(r, out.Table)
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) syncUpload(w http.ResponseWriter, r *http.Request) error {
	var req wire.UploadRequest
	if err := decodeJSON(r, &req, true); err != nil { // each change is checked by the engine
		return err
	}
	noteSync(r, req.DeviceID, 0)
	entry(r).rowsUp = int64(len(req.Changes))
	out, err := s.sync.Upload(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	s.noteUploadResults(r, req, out)
	return writeJSON(w, http.StatusOK, out)
}

// eventTicketRequest asks for a stream ticket for a device's change stream.
type eventTicketRequest struct {
	DeviceID string `json:"deviceId"`
}

// eventTicket is a single-use ticket that opens the change stream of its
// device: GET /api/sync/v1/events?deviceId=...&ticket=... (for browsers,
// whose EventSource cannot send an Authorization header).
type eventTicket struct {
	Ticket    string    `json:"ticket"`
	ExpiresOn time.Time `json:"expiresOn"`
}

func (s *Server) syncEventTicket(w http.ResponseWriter, r *http.Request) error {
	var req eventTicketRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	ticket, exp, err := s.p.IssueStreamTicket(r.Context(), credentialOf(r), req.DeviceID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, eventTicket{Ticket: ticket, ExpiresOn: exp})
}

// eventsAuth authenticates a change stream by its ticket when the query
// carries one (platform.RedeemStreamTicket), else as any route (bearer
// token or session cookie).
func (s *Server) eventsAuth(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	authed := s.authed(h)
	ticketed := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		cred, p, err := s.p.RedeemStreamTicket(r.Context(), q.Get("ticket"), q.Get("deviceId"))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="outpost", error="invalid_token"`)
			return err
		}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		return h(w, r.WithContext(context.WithValue(ctx, credentialKey{}, cred)))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("ticket") {
			ticketed.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// syncEvents streams change hints as server-sent events: "change" events
// with the tables of the device's plan that changed, and a comment every
// 25 s to keep proxies from closing the connection. At each keep-alive,
// and after commits that may move access, the device's access is checked
// again, and so is the credential the stream was opened with (a revoked
// token or device, an expired token); when either fails the stream ends
// with a "closed" event carrying the error.
func (s *Server) syncEvents(w http.ResponseWriter, r *http.Request) error {
	cred := credentialOf(r)
	sub, err := s.sync.Subscribe(r.Context(), principalOf(r), r.URL.Query().Get("deviceId"), func(ctx context.Context) error {
		return s.p.CheckCredential(ctx, cred)
	})
	if err != nil {
		return err
	}
	defer sub.Close()
	s.syncm.streams.Inc()
	defer s.syncm.streams.Dec()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	s.streamDeadline(rc)
	if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	closed := func(err error) {
		if r.Context().Err() != nil {
			return // the device went away
		}
		if outpost.ErrorCode(err) == outpost.CodeInternal {
			s.logger.ErrorContext(r.Context(), "change stream check failed", "err", err)
		}
		data, _ := json.Marshal(wire.ErrorBody{Error: wire.ErrorDetail{Code: string(outpost.ErrorCode(err)), Message: outpost.ErrorMessage(err), Target: outpost.ErrorTarget(err)}})
		s.streamDeadline(rc)
		_, _ = fmt.Fprintf(w, "event: closed\ndata: %s\n\n", data)
		_ = rc.Flush()
	}
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		var msg string
		select {
		case <-r.Context().Done():
			return nil
		case <-sub.Done(): // the server shuts down
			return nil
		case <-keepAlive.C:
			if err := sub.Check(r.Context()); err != nil {
				closed(err)
				return nil
			}
			msg = ": keep-alive\n\n"
		case <-sub.Ready():
			tables, err := sub.Take(r.Context())
			if err != nil {
				closed(err)
				return nil
			}
			if len(tables) == 0 {
				continue
			}
			data, _ := json.Marshal(wire.Hint{Tables: tables})
			msg = fmt.Sprintf("event: change\ndata: %s\n\n", data)
		}
		s.streamDeadline(rc)
		if _, err := fmt.Fprint(w, msg); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// syncErrors lists Sync Errors: the caller's, or with all=true or
// user=ID (administrators) other users'; table, type and state narrow the
// list, and active=true is state=0.
func (s *Server) syncErrors(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f syncsrv.ErrorFilter
	for name, dst := range map[string]*bool{"all": &f.All, "active": new(bool)} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return outpost.Invalidf("%s must be true or false, got %q", name, v).WithTarget(name)
			}
			*dst = b
			if name == "active" && b {
				f.State = new(int64)
			}
		}
	}
	for name, dst := range map[string]**int64{"type": &f.Type, "state": &f.State} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return outpost.Invalidf("%s must be a whole number, got %q", name, v).WithTarget(name)
			}
			*dst = &n
		}
	}
	f.UserID, f.Table = q.Get("user"), q.Get("table")
	list, err := s.sync.ListErrors(r.Context(), principalOf(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.ErrorsResponse{Errors: list})
}

func (s *Server) syncRetry(w http.ResponseWriter, r *http.Request) error {
	se, err := s.sync.Retry(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) syncResolve(w http.ResponseWriter, r *http.Request) error {
	se, err := s.sync.Resolve(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) syncGetSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.sync.Settings(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) syncPutSettings(w http.ResponseWriter, r *http.Request) error {
	var st wire.Settings
	if err := decodeBody(r, &st, true); err != nil {
		return err
	}
	if err := s.sync.SetSettings(r.Context(), principalOf(r), st); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// noteUploadResults counts the changes applied and rejected (by Sync Error
// type) and notes the tables of the applied ones.
func (s *Server) noteUploadResults(r *http.Request, req wire.UploadRequest, out *wire.UploadResponse) {
	tables := make(map[int64]string, len(req.Changes))
	for _, c := range req.Changes {
		tables[c.Seq] = c.Table
	}
	for _, res := range out.Results {
		switch {
		case res.Status == wire.StatusApplied:
			s.syncm.changes.WithLabelValues(wire.StatusApplied, "none").Inc()
			noteTable(r, tables[res.Seq])
		case res.Error != nil:
			s.syncm.changes.WithLabelValues(wire.StatusRejected, errorTypeLabel(res.Error.Type)).Inc()
		default:
			s.syncm.changes.WithLabelValues(wire.StatusRejected, "other").Inc()
		}
	}
}
