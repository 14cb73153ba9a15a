package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// syncEntry is what one sync request records: filled by its handler,
// written by syncLogged when the request ends (log line, metrics and
// telemetry event).
type syncEntry struct {
	device         string
	kind           string
	rowsDown       int64
	rowsUp         int64
	tables         []string
	appID          string
	profileVersion int64
	// streamErr is the code of an error that ended a stream after it
	// started (the reply was already 200).
	streamErr string
}

type syncEntryKey struct{}

func entry(r *http.Request) *syncEntry {
	e, _ := r.Context().Value(syncEntryKey{}).(*syncEntry)
	if e == nil {
		return &syncEntry{} // a handler called outside syncLogged
	}
	return e
}

// noteSync records the device and the rows a sync request sent down.
func noteSync(r *http.Request, device string, rows int) {
	e := entry(r)
	e.device, e.rowsDown = device, e.rowsDown+int64(rows)
}

// noteTable records a table the sync request touched.
func noteTable(r *http.Request, table string) {
	e := entry(r)
	if table != "" && !slices.Contains(e.tables, table) && len(e.tables) < 200 {
		e.tables = append(e.tables, table)
	}
}

// countingWriter counts the bytes of a reply.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// syncLogged records every sync request once it is served: one info log
// line (user, device, app, profile version, kind, tables, rows up and
// down, bytes sent — an error reply is written after it, so 0 —, duration,
// outcome, error code and the device's report of its previous sync), the
// sync metrics and a telemetry event (platform.RecordSync). The reply is
// flushed to the device before the event is stored, so the event carries
// the time the request began: a device's next request may be stored first,
// and the list of events newest first must still show them in the order
// the device sent them (the event id breaks ties, platform.ListSyncs).
func (s *Server) syncLogged(kind string, h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		start, at := time.Now(), s.p.Now()
		// Version 7 ids grow with time, within a millisecond too: events
		// that share their time list in the order their requests began.
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		eventID := id.String()
		e := &syncEntry{kind: kind}
		cw := &countingWriter{ResponseWriter: w}
		err = h(cw, r.WithContext(context.WithValue(r.Context(), syncEntryKey{}, e)))
		elapsed := time.Since(start)
		outcome, code := "ok", ""
		if err != nil {
			outcome, code = "error", string(outpost.ErrorCode(err))
		} else if e.streamErr != "" {
			outcome, code = "error", e.streamErr
		}
		ev := platform.SyncEvent{EventID: eventID, At: at, StoreID: e.device, AppID: e.appID, ProfileVersion: e.profileVersion, Kind: e.kind, Tables: e.tables,
			RowsUp: e.rowsUp, RowsDown: e.rowsDown, Bytes: cw.n, DurationMs: float64(elapsed.Microseconds()) / 1000, Outcome: outcome, ErrorCode: code}
		if ev.Tables == nil {
			ev.Tables = []string{}
		}
		if p := principalOf(r); p != nil {
			ev.UserID = p.UserID
		}
		ev.DeviceID = credentialOf(r).DeviceID
		ev.ClientApplyMs, ev.ClientErrors = parseClientReport(r.Header.Get(wire.ClientReportHeader))
		label := outcome
		if code != "" {
			label = code
		}
		m := s.syncm
		m.syncs.WithLabelValues(ev.Kind, label).Inc()
		m.rows.WithLabelValues(ev.Kind).Add(float64(ev.RowsDown))
		m.bytes.WithLabelValues(ev.Kind).Add(float64(ev.Bytes))
		m.duration.WithLabelValues(ev.Kind).Observe(elapsed.Seconds())
		if outpost.ValidID(ev.StoreID) && ev.UserID != "" {
			if err == nil {
				_ = http.NewResponseController(w).Flush()
			}
			stored, rerr := s.p.RecordSync(context.WithoutCancel(r.Context()), ev)
			if rerr != nil {
				s.logger.WarnContext(r.Context(), "sync telemetry not stored", "err", rerr)
			} else {
				ev = stored
			}
		}
		s.logger.InfoContext(r.Context(), "sync", "user", ev.UserID, "device", ev.StoreID, "signed_in_device", ev.DeviceID, "app", ev.AppID,
			"profile_version", ev.ProfileVersion, "kind", ev.Kind, "tables", ev.Tables, "rows", ev.RowsUp+ev.RowsDown, "rows_up", ev.RowsUp,
			"rows_down", ev.RowsDown, "bytes", ev.Bytes, "duration_ms", ev.DurationMs, "outcome", outcome, "error_code", code,
			"client_apply_ms", ev.ClientApplyMs, "client_errors", ev.ClientErrors)
		return err
	}
}
