// Package httpapi is Outpost's HTTP interface: the OData-style data API, the
// metadata and security APIs, health and metrics. Handlers decode, make one
// domain call and encode; errors become HTTP statuses in one place.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// Options tunes a Server. The zero value is ready to use.
type Options struct {
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; default 4 MiB.
	MaxBodyBytes int64
	// Registry receives the metrics; default a new registry with the Go and
	// process collectors.
	Registry *prometheus.Registry
	// Profiles serves /api/offline (profiles, apps and solutions: an
	// apps.Service carries its profile service); nil leaves those routes out.
	Profiles *apps.Service
	// Sync serves /api/sync; nil leaves those routes out.
	Sync *syncsrv.Engine
	// Portal is the maker portal's files, served under /portal/ without a
	// token (the portal signs in through the API); nil leaves it out.
	Portal fs.FS
	// OIDC turns on single sign-on (/api/auth/oidc); nil leaves it out.
	OIDC *OIDCOptions
	// StreamWriteTimeout is how long one write of a long stream (snapshot
	// pages, change hints) may take before the stream is cut; each write
	// sets its own deadline, so streams outlive the server's WriteTimeout
	// while a device that stops reading is dropped. Default
	// DefaultStreamWriteTimeout.
	StreamWriteTimeout time.Duration
	// MetricsToken, when set, is the bearer token GET /metrics requires
	// (outpost serve --metrics-token).
	MetricsToken string
	// MetricsOff leaves GET /metrics out of the API: the metrics are
	// served on their own address through MetricsHandler (outpost serve
	// --metrics-addr).
	MetricsOff bool
}

// DefaultStreamWriteTimeout is the default of Options.StreamWriteTimeout.
const DefaultStreamWriteTimeout = 30 * time.Second

// Server is the Outpost HTTP API as an http.Handler.
type Server struct {
	p       *platform.Platform
	logger  *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	reg     *prometheus.Registry
	// patterns are the registered routes, in order (Routes).
	patterns []string

	profiles *apps.Service
	sync     *syncsrv.Engine
	portal   fs.FS
	// streamWrite: see Options.StreamWriteTimeout.
	streamWrite time.Duration

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	syncm    *syncMetrics
	// metricsToken and metricsOff: see Options.
	metricsToken string
	metricsOff   bool
}

// eventsRoute is the change-hint stream's route, left out of the request
// duration histogram.
const eventsRoute = "GET " + wire.Prefix + "/events"

// New returns the API server over p.
func New(p *platform.Platform, opts Options) *Server {
	s := &Server{p: p, logger: opts.Logger, maxBody: opts.MaxBodyBytes, mux: http.NewServeMux(), reg: opts.Registry,
		profiles: opts.Profiles, sync: opts.Sync, portal: opts.Portal, streamWrite: opts.StreamWriteTimeout,
		metricsToken: opts.MetricsToken, metricsOff: opts.MetricsOff}
	if s.streamWrite <= 0 {
		s.streamWrite = DefaultStreamWriteTimeout
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = 4 << 20
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outpost_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "outpost_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"})
	s.reg.MustRegister(s.requests, s.duration)
	s.registerMetrics()
	s.routes()
	s.providerRoutes(opts.OIDC)
	if opts.OIDC != nil {
		s.oidcRoutes(*opts.OIDC)
	}
	return s
}

// Registry returns the metrics registry, for packages that add their own.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Handle registers an authenticated API route served by h; other packages
// (sync, offline profiles) add their routes this way.
func (s *Server) Handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, s.authed(h))
}

// HandleSelfChecked registers an authenticated route whose handler checks
// the caller's principal against its own read snapshot (device deltas):
// the principal comes from memory when it can (AuthenticateUnchecked),
// sparing the request a read of the security log.
func (s *Server) HandleSelfChecked(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, s.authedWith(func(*http.Request) authMode { return selfChecked }, h))
}

// HandlePublic registers a route that needs no token.
func (s *Server) HandlePublic(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

// Routes lists the registered routes as "METHOD /path" patterns, in the
// order they were registered; openapi.json describes each of them.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

func (s *Server) routes() {
	s.HandlePublic("GET /healthz", http.HandlerFunc(s.healthz))
	if !s.metricsOff {
		s.HandlePublic("GET /metrics", s.MetricsHandler())
	}
	s.HandlePublic("GET /api/openapi.json", http.HandlerFunc(serveOpenAPI))
	s.Handle("GET /api/whoami", s.whoami)
	s.dataRoutes()
	s.metadataRoutes()
	s.securityRoutes()
	s.telemetryRoutes()
	s.authRoutes()
	s.fileRoutes()
	if s.profiles != nil {
		s.offlineRoutes()
	}
	if s.sync != nil {
		s.syncRoutes()
	}
	if s.portal != nil {
		s.portalRoutes()
	}
	s.mux.Handle("/", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return outpost.NotFoundf("no route %s %s: see the API reference in docs/api.md", r.Method, r.URL.Path).WithTarget(r.URL.Path)
	}))
}

// ServeHTTP implements http.Handler with request ids, recovery, metrics and
// the access log around the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set("X-Request-Id", id)
	rec := &recorder{ResponseWriter: w, code: http.StatusOK}
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
	r = r.WithContext(ctx)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.ErrorContext(ctx, "panic serving request", "request_id", id, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, outpost.CodeInternal, "internal error", "")
			}
		}
		_, route := s.mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(route, fmt.Sprint(rec.code)).Inc()
		if route != eventsRoute { // change-hint streams last hours: outpost_sync_event_streams counts them
			s.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}
		s.logger.DebugContext(ctx, "request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", rec.code, "duration", time.Since(start))
	}()
	r.Body = http.MaxBytesReader(rec, r.Body, s.bodyLimit(r))
	if err := checkURLText(r); err != nil {
		writeError(rec, http.StatusBadRequest, outpost.CodeInvalid, outpost.ErrorMessage(err), outpost.ErrorTarget(err))
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// checkURLText refuses a path or query parameter holding NUL, naming it.
func checkURLText(r *http.Request) error {
	if err := outpost.CheckText("path", r.URL.Path); err != nil {
		return err
	}
	if !strings.Contains(r.URL.RawQuery, "%00") {
		return nil
	}
	for k, vs := range r.URL.Query() {
		if err := outpost.CheckText(k, k+strings.Join(vs, "")); err != nil {
			return err
		}
	}
	return nil
}

type requestIDKey struct{}
type principalKey struct{}

type recorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// principalOf returns the authenticated caller of r.
func principalOf(r *http.Request) *security.Principal {
	p, _ := r.Context().Value(principalKey{}).(*security.Principal)
	return p
}

// authed authenticates the bearer token (or the session cookie, auth.go)
// and runs h.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return s.authedWith(func(*http.Request) authMode { return checked }, h)
}

// authMode says how a request's principal is checked against the
// security log.
type authMode int

const (
	// checked: before the handler runs (principalOf).
	checked authMode = iota
	// selfChecked: by the handler, against its own read snapshot
	// (HandleSelfChecked).
	selfChecked
	// checkedInWrite: by the write transaction of the one row the request
	// writes (writeAs); principalOf answers nil.
	checkedInWrite
)

// uncheckedKey holds the principal of a checkedInWrite request.
type uncheckedKey struct{}

// uncheckedCaller is a principal from memory and the security log
// version it is exact for.
type uncheckedCaller struct {
	pr      *security.Principal
	version int64
}

// authedWith authenticates the caller as mode says for the request and
// runs h; selfChecked and checkedInWrite take the principal from memory
// when it can.
func (s *Server) authedWith(mode func(*http.Request) authMode, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		m := mode(r)
		cred, p, version, err := s.authenticate(r, m != checked)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="outpost", error="invalid_token"`)
			return err
		}
		ctx := context.WithValue(r.Context(), credentialKey{}, cred)
		if m == checkedInWrite {
			ctx = context.WithValue(ctx, uncheckedKey{}, uncheckedCaller{pr: p, version: version})
		} else {
			ctx = context.WithValue(ctx, principalKey{}, p)
		}
		return h(w, r.WithContext(ctx))
	})
}

// writeAs runs fn, the write of a request, in a write transaction as the
// caller: a checkedInWrite request's principal is checked in that
// transaction (platform.WriteAs), any other's was checked already.
func (s *Server) writeAs(r *http.Request, fn func(w *platform.Writer, by *security.Principal) error) error {
	if c, ok := r.Context().Value(uncheckedKey{}).(uncheckedCaller); ok {
		return s.p.WriteAs(r.Context(), c.pr, c.version, fn)
	}
	by := principalOf(r)
	return s.p.Write(r.Context(), func(w *platform.Writer) error { return fn(w, by) })
}

// handle turns a handler's error into the JSON error reply.
func (s *Server) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = outpost.Errorf(outpost.CodeTooLarge, "the request body is over the limit of %d bytes", mbe.Limit)
		}
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client went away
		}
		code := outpost.ErrorCode(err)
		if secs := platform.RetryAfterOf(err); secs > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		} else if code == outpost.CodeTooMany {
			w.Header().Set("Retry-After", "5")
		}
		if code == outpost.CodeInternal {
			id, _ := r.Context().Value(requestIDKey{}).(string)
			s.logger.ErrorContext(r.Context(), "request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, statusOf(code), code, outpost.ErrorMessage(err), outpost.ErrorTarget(err))
	})
}

// statusOf maps an error code to its HTTP status.
func statusOf(c outpost.Code) int {
	switch c {
	case outpost.CodeInvalid:
		return http.StatusBadRequest
	case outpost.CodeNotFound:
		return http.StatusNotFound
	case outpost.CodeConflict:
		return http.StatusConflict
	case outpost.CodeUnauthorized, outpost.CodeTokenExpired, outpost.CodeDeviceRevoked:
		return http.StatusUnauthorized
	case outpost.CodeTooManyAttempts:
		return http.StatusTooManyRequests
	case outpost.CodeForbidden:
		return http.StatusForbidden
	case outpost.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case outpost.CodeGone:
		return http.StatusGone
	case outpost.CodeTooMany:
		return http.StatusTooManyRequests
	case outpost.CodeUnsupported:
		return http.StatusUnsupportedMediaType
	case outpost.CodeFailedDependency:
		return http.StatusFailedDependency
	}
	return http.StatusInternalServerError
}

// writeError writes the JSON error envelope with status.
func writeError(w http.ResponseWriter, status int, code outpost.Code, msg, target string) {
	_ = writeJSON(w, status, errorEnvelope(code, msg, target))
}

// errorEnvelope is the JSON body of every error reply, of a route or of a
// request inside a $batch.
func errorEnvelope(code outpost.Code, msg, target string) wire.ErrorBody {
	return wire.ErrorBody{Error: wire.ErrorDetail{Code: string(code), Message: msg, Target: target}}
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// decodeBody decodes the request body into v: numbers kept exact, one
// value only; unknown fields rejected when strict.
//
// Text holding NUL (U+0000) anywhere in the body is refused, naming the
// field: no text Outpost stores may hold it (outpost.CheckText).
func decodeBody(r *http.Request, v any, strict bool) error {
	if err := decodeJSON(r, v, strict); err != nil {
		return err
	}
	if field, ok := nulField(reflect.ValueOf(v), "body"); ok {
		return outpost.CheckText(field, "\x00")
	}
	return nil
}

// nulField returns the name of the innermost field (struct field by its
// JSON name, or map key) of v holding text with NUL.
func nulField(v reflect.Value, name string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return name, outpost.HasNUL(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), name)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // bytes, not text
		}
		for i := range v.Len() {
			if f, ok := nulField(v.Index(i), name); ok {
				return f, true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			if k.Kind() == reflect.String && outpost.HasNUL(k.String()) {
				return name, true
			}
			if f, ok := nulField(it.Value(), fmt.Sprint(k.Interface())); ok {
				return f, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			field := sf.Name
			if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				field = tag
			}
			if f, ok := nulField(v.Field(i), field); ok {
				return f, true
			}
		}
	}
	return "", false
}

// decodeJSON is decodeBody without the NUL check, for bodies whose parts
// are checked one by one (a device upload, where a bad change becomes a
// Sync Error and never blocks the changes behind it).
func decodeJSON(r *http.Request, v any, strict bool) error {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF):
			return outpost.Invalidf("the request body is empty: send a JSON object").WithTarget("body")
		case errors.As(err, &se):
			return outpost.Invalidf("the request body is not valid JSON at byte %d: %v", se.Offset, se).WithTarget("body")
		case errors.As(err, &te) && te.Field == "":
			return outpost.Invalidf("the request body must be %s, got a JSON %s", jsonKind(te.Type), te.Value).WithTarget("body")
		case errors.As(err, &te):
			return outpost.Invalidf("field %q takes %s, got a JSON %s", te.Field, jsonKind(te.Type), te.Value).WithTarget(te.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return outpost.Invalidf("unknown field %q", f).WithTarget(f)
		}
		return outpost.Invalidf("the request body is not valid JSON: %v", err).WithTarget("body")
	}
	if dec.More() {
		return outpost.Invalidf("the request body holds more than one JSON value").WithTarget("body")
	}
	return nil
}

// jsonKind names in JSON's words the value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.String:
		return "a JSON string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another JSON value"
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.p.DB().Read.PingContext(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the database does not answer", "")
		return
	}
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	return writeJSON(w, http.StatusOK, map[string]any{
		"userid": p.UserID, "businessunitid": p.BusinessUnitID, "teams": nonNil(p.TeamIDs), "roles": nonNil(p.RoleIDs),
		"admin": p.Admin, "customizer": p.Customizer, "privileges": p.Privileges.Grants(),
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
