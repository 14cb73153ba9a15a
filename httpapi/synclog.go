package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/outposthq/outpost"
)

// syncEntry is what one sync request logs: filled by its handler, written
// by syncLogged when the request ends.
type syncEntry struct {
	device string
	rows   int
}

type syncEntryKey struct{}

// noteSync records the device and the rows a sync request carried.
func noteSync(r *http.Request, device string, rows int) {
	if e, ok := r.Context().Value(syncEntryKey{}).(*syncEntry); ok {
		e.device, e.rows = device, e.rows+rows
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

// syncLogged logs one info line per sync request: user, device, kind,
// rows, bytes sent (an error reply is written after it, so 0), duration
// and outcome ("ok" or the error code).
func (s *Server) syncLogged(kind string, h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		start := time.Now()
		e := &syncEntry{}
		cw := &countingWriter{ResponseWriter: w}
		err := h(cw, r.WithContext(context.WithValue(r.Context(), syncEntryKey{}, e)))
		outcome := "ok"
		if err != nil {
			outcome = string(outpost.ErrorCode(err))
		}
		user := ""
		if p := Principal(r); p != nil {
			user = p.UserID
		}
		s.logger.InfoContext(r.Context(), "sync", "user", user, "device", e.device, "kind", kind, "rows", e.rows,
			"bytes", cw.n, "duration", time.Since(start), "outcome", outcome)
		return err
	}
}
