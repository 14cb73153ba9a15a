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
	"github.com/outposthq/outpost/wire"
)

// syncRoutes registers /api/sync/v1/... (the device protocol, docs/protocol.md).
func (s *Server) syncRoutes() {
	p := wire.Prefix
	s.Handle("POST "+p+"/open", s.syncLogged("open", s.syncOpen))
	s.Handle("POST "+p+"/snapshot", s.syncLogged("snapshot", s.syncSnapshot))
	// A delta checks the principal in its own snapshot (the probe).
	s.HandleSelfChecked("POST "+p+"/delta", s.syncLogged("delta", s.syncDelta))
	s.Handle("POST "+p+"/reconcile", s.syncLogged("reconcile", s.syncReconcile))
	s.Handle("POST "+p+"/upload", s.syncLogged("upload", s.syncUpload))
	s.Handle("GET "+p+"/events", s.syncEvents)
	s.Handle("GET "+p+"/errors", s.syncErrors)
	s.Handle("POST "+p+"/errors/{id}/retry", s.syncRetry)
	s.Handle("POST "+p+"/errors/{id}/resolve", s.syncResolve)
	s.Handle("GET "+p+"/settings", s.syncGetSettings)
	s.Handle("PUT "+p+"/settings", s.syncPutSettings)
}

func (s *Server) syncOpen(w http.ResponseWriter, r *http.Request) error {
	var req wire.OpenRequest
	if err := DecodeJSON(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	out, err := s.sync.Open(r.Context(), Principal(r), req)
	if err != nil {
		return err
	}
	if c := Credential(r); c.DeviceID != "" {
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
	if err := DecodeJSON(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	rc := http.NewResponseController(w)
	var write func(p *wire.SnapshotPage) error
	contentType := wire.NDJSONContentType
	if acceptsPages(r.Header.Values("Accept")) {
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
	err := s.sync.Snapshot(r.Context(), Principal(r), req, func(p *wire.SnapshotPage) error {
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
		return rc.Flush()
	})
	if err != nil && started {
		code := outpost.ErrorCode(err)
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

// acceptsPages reports whether an Accept header names the compact snapshot
// encoding (with a non-zero quality).
func acceptsPages(accept []string) bool {
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			media, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(media), wire.PagesContentType) {
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
	if err := DecodeJSON(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	out, err := s.sync.Delta(r.Context(), Principal(r), req)
	if err != nil {
		return err
	}
	for _, d := range out.Deltas {
		noteSync(r, req.DeviceID, len(d.Upserts)+len(d.Removes))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) syncReconcile(w http.ResponseWriter, r *http.Request) error {
	var req wire.ReconcileRequest
	if err := DecodeJSON(r, &req, true); err != nil {
		return err
	}
	noteSync(r, req.DeviceID, 0)
	out, err := s.sync.Reconcile(r.Context(), Principal(r), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) syncUpload(w http.ResponseWriter, r *http.Request) error {
	var req wire.UploadRequest
	if err := decodeJSON(r, &req, true); err != nil { // each change is checked by the engine
		return err
	}
	noteSync(r, req.DeviceID, len(req.Changes))
	out, err := s.sync.Upload(r.Context(), Principal(r), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// syncEvents streams change hints as server-sent events: "change" events
// with the tables of the device's plan that changed, and a comment every
// 25 s to keep proxies from closing the connection. At each keep-alive,
// and after commits that may move access, the device's access is checked
// again, and so is the credential the stream was opened with (a revoked
// token or device, an expired token); when either fails the stream ends
// with a "closed" event carrying the error.
func (s *Server) syncEvents(w http.ResponseWriter, r *http.Request) error {
	cred := Credential(r)
	sub, err := s.sync.Subscribe(r.Context(), Principal(r), r.URL.Query().Get("deviceId"), func(ctx context.Context) error {
		return s.p.CheckCredential(ctx, cred)
	})
	if err != nil {
		return err
	}
	defer sub.Close()
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

func (s *Server) syncErrors(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, err := s.sync.Errors(r.Context(), Principal(r), q.Get("all") == "true", q.Get("active") == "true")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.ErrorsResponse{Errors: list})
}

func (s *Server) syncRetry(w http.ResponseWriter, r *http.Request) error {
	se, err := s.sync.Retry(r.Context(), Principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) syncResolve(w http.ResponseWriter, r *http.Request) error {
	se, err := s.sync.Resolve(r.Context(), Principal(r), r.PathValue("id"))
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
	if err := DecodeJSON(r, &st, true); err != nil {
		return err
	}
	if err := s.sync.SetSettings(r.Context(), Principal(r), st); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
