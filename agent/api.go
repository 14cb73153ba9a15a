package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/wire"
)

// route is one route of the local API.
type route struct {
	pattern string
	h       http.Handler
}

func (a *Agent) routeList() []route {
	return []route{
		{"GET /api/session", a.handle(a.session)},
		{"POST /api/signin", a.handle(a.signIn)},
		{"POST /api/signout", a.handle(a.signOut)},
		{"GET /api/signin/providers", a.handle(a.providers)},
		{"POST /api/signin/sso", a.handle(a.startSSO)},
		{"GET /signin/callback", a.handle(a.ssoCallback)},
		{"GET /api/apps", a.handle(a.apps)},
		{"POST /api/apps/{id}/open", a.handle(a.open)},
		{"GET /api/app", a.withDevice(a.appDef)},
		{"GET /api/status", a.withDevice(a.status)},
		{"GET /api/events", a.withDevice(a.events)},
		{"GET /api/tables/{table}/rows", a.withDevice(a.rows)},
		{"POST /api/tables/{table}/rows", a.withDevice(a.create)},
		{"GET /api/tables/{table}/rows/{id}", a.withDevice(a.row)},
		{"PATCH /api/tables/{table}/rows/{id}", a.withDevice(a.update)},
		{"DELETE /api/tables/{table}/rows/{id}", a.withDevice(a.delete)},
		{"GET /api/tables/{table}/rows/{id}/files/{column}", a.withDevice(a.fileGet)},
		{"PUT /api/tables/{table}/rows/{id}/files/{column}", a.withDevice(a.filePut)},
		{"DELETE /api/tables/{table}/rows/{id}/files/{column}", a.withDevice(a.fileDelete)},
		{"GET /api/pending", a.withDevice(a.pending)},
		{"GET /api/errors", a.withDevice(a.syncErrors)},
		{"POST /api/errors/{id}/retry", a.withDevice(a.resolve(true))},
		{"POST /api/errors/{id}/discard", a.withDevice(a.resolve(false))},
		{"POST /api/sync", a.withDevice(a.syncNow)},
		{"POST /api/check-updates", a.withDevice(a.checkUpdates)},
	}
}

// Routes lists the local API's routes as "METHOD /path" (openapi.json
// describes each).
func Routes() []string {
	var out []string
	for _, r := range (&Agent{}).routeList() {
		out = append(out, r.pattern)
	}
	return out
}

func (a *Agent) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(OpenAPI)
	})
	for _, r := range a.routeList() {
		mux.Handle(r.pattern, r.h)
	}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle writes a returned error as the API's error body.
func (a *Agent) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// withDevice runs h with the open app's client, or answers 409.
func (a *Agent) withDevice(h func(w http.ResponseWriter, r *http.Request, dev *client.Client) error) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		a.mu.Lock()
		dev := a.dev
		a.mu.Unlock()
		if dev == nil {
			return outpost.Conflictf("no app is open: sign in and pick an app").WithTarget("app")
		}
		return h(w, r, dev)
	})
}

func (a *Agent) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *outpost.Error
	switch {
	case errors.Is(err, client.ErrUnreachable):
		writeError(w, http.StatusBadGateway, "server", "the server cannot be reached: "+err.Error())
	case errors.As(err, &e):
		writeError(w, statusOf(e.Code), e.Target, e.Message)
	default:
		a.logger.ErrorContext(r.Context(), "agent request failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "", "the device agent failed: "+err.Error())
	}
}

func statusOf(c outpost.Code) int {
	if s, ok := map[outpost.Code]int{outpost.CodeInvalid: 400, outpost.CodeUnauthorized: 401, outpost.CodeForbidden: 403, outpost.CodeNotFound: 404,
		outpost.CodeConflict: 409, outpost.CodeGone: 410, outpost.CodeTooLarge: 413}[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, status int, target, msg string) {
	code := map[int]string{400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 410: "gone", 413: "too_large", 421: "misdirected", 502: "unreachable"}[status]
	if code == "" {
		code = "internal"
	}
	writeJSON(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg, Target: target}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body of at most 1 MiB, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return outpost.Invalidf("the request body is not the expected JSON: %v", err).WithTarget("body")
	}
	return nil
}

func (a *Agent) currentSession() Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Session{SignedIn: a.cfg.signedIn(), Server: a.cfg.Server, User: a.cfg.User, SignInError: a.signInError}
	if a.dev != nil && a.app != nil {
		s.AppID, s.AppName = a.app.ID, a.app.Name
	}
	return s
}

func (a *Agent) session(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, a.currentSession())
}

func (a *Agent) status(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	st, err := deviceStatus(r.Context(), dev)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// deviceStatus maps the library's status to the API's.
func deviceStatus(ctx context.Context, dev *client.Client) (*DeviceStatus, error) {
	st, err := dev.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := &DeviceStatus{State: string(st.State), Online: st.Online, Linked: dev.HintsConnected(), Syncing: st.Syncing, Ready: st.Ready,
		PendingUploads: st.PendingUploads, ActiveErrors: st.ActiveErrors, StorageBytes: st.StorageBytes, LastSync: stamp(st.LastSync),
		LastMessage: st.LastMessage, LastError: st.LastError, Warnings: append([]string{}, st.Warnings...), DeviceID: st.DeviceID,
		FilesStored: st.Files.Stored, FilesMissing: st.Files.Missing, Tables: []TableStatus{},
		Progress: Progress{Phase: st.Progress.Phase, Table: st.Progress.Table, TablesDone: st.Progress.TablesDone, Tables: st.Progress.Tables,
			Rows: st.Progress.Rows, TotalRows: st.Progress.TotalRows, Bytes: st.Progress.Bytes, Files: st.Progress.Files, FilesTotal: st.Progress.FilesTotal}}
	for _, t := range st.Tables {
		out.Tables = append(out.Tables, TableStatus{Name: t.Name, Rows: t.Rows, Ready: t.Ready, IntervalMinutes: t.IntervalMinutes,
			LastSync: stamp(t.LastSync), NextSync: stamp(t.NextSync)})
	}
	return out, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// events streams the status as server-sent events: one at once, then one
// after every change the library reports (at most every 200 ms).
func (a *Agent) events(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	fl, ok := w.(http.Flusher)
	if !ok {
		return errors.New("streaming unsupported")
	}
	changed, stop := dev.Watch()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	var last []byte
	send := func() error {
		st, err := deviceStatus(ctx, dev)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(st)
		if string(b) == string(last) {
			return nil
		}
		last = b
		if _, err := fmt.Fprintf(w, "event: status\ndata: %s\n\n", b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	if err := send(); err != nil {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			fl.Flush()
		case <-changed:
			// Let a burst of progress settle into one event.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			if err := send(); err != nil {
				return nil
			}
		}
	}
}

func (a *Agent) appDef(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	a.mu.Lock()
	app := a.withCanvasURL(a.app)
	a.mu.Unlock()
	return writeJSON(w, http.StatusOK, app)
}

// rows answers a page of a view or of a table: ?view=NAME applies the
// view's filter and default order; filter adds an OData $filter (a form's
// related rows: "customerid eq '…'"); search looks in the view's search
// columns; orderby is "column" or "column desc"; skip and top page.
func (a *Agent) rows(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	table := r.PathValue("table")
	q := r.URL.Query()
	top, err := intParam(q.Get("top"), 50, 1, 500, "top")
	if err != nil {
		return err
	}
	skip, err := intParam(q.Get("skip"), 0, 0, 1<<30, "skip")
	if err != nil {
		return err
	}
	var parts []string
	var view *View
	order := q.Get("orderby")
	if name := q.Get("view"); name != "" {
		a.mu.Lock()
		view = a.app.view(name)
		a.mu.Unlock()
		if view == nil || view.Table != table {
			return outpost.NotFoundf("the app has no view %q of table %q", name, table).WithTarget("view")
		}
		if view.Filter != "" {
			parts = append(parts, "("+view.Filter+")")
		}
		if order == "" {
			order = view.OrderBy
		}
	}
	if f := strings.TrimSpace(q.Get("filter")); f != "" {
		parts = append(parts, "("+f+")")
	}
	var search client.Search
	if s := strings.TrimSpace(q.Get("search")); s != "" {
		def, err := dev.Def(table)
		if err != nil {
			return err
		}
		search = client.Search{Text: s, Columns: searchColumns(view, def)}
		if len(search.Columns) == 0 {
			return outpost.Invalidf("table %q has no text column to search", table).WithTarget("search")
		}
	}
	filterText := strings.Join(parts, " and ")
	var sel []string
	if view != nil {
		sel = view.Columns
	}
	rows, err := dev.Query(r.Context(), table, client.Query{Filter: filterText, Select: sel, OrderBy: order, Top: top, Skip: skip, Search: search})
	if err != nil {
		return err
	}
	// A page that is not full ends the list, so it gives the total without
	// counting (most searches); otherwise count. A search counts up to the
	// next multiple of the cap past this page: a search matching
	// thousands answers as fast as one matching the cap, and its total
	// reads "5,000+" (more) until the pages reach the last multiple.
	total := int64(skip + len(rows))
	more := false
	if len(rows) == top || (len(rows) == 0 && skip > 0) {
		var limit int64
		if c := int64(a.searchCountCap()); search.Text != "" && c > 0 {
			limit = c * (int64(skip+top)/c + 1)
		}
		if total, err = dev.CountSearchUpTo(r.Context(), table, filterText, search, limit); err != nil {
			return err
		}
		if limit > 0 && total > limit {
			total, more = limit, true
		}
	}
	names, err := lookupNames(r.Context(), dev, table, rows)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RowPage{Rows: rows, Total: total, More: more, Skip: skip, Names: names})
}

// lookupNames finds the "name" of every row that a lookup column of rows
// points to, where the target table is on the device.
func lookupNames(ctx context.Context, dev *client.Client, table string, rows []map[string]any) (map[string]string, error) {
	names := map[string]string{}
	def, err := dev.Def(table)
	if err != nil {
		return nil, err
	}
	for _, c := range def.Columns {
		if c.Type != "lookup" || !dev.Has(c.Target) {
			continue
		}
		tdef, err := dev.Def(c.Target)
		if err != nil || !hasColumn(tdef, "name") {
			continue
		}
		var or []string
		seen := map[string]bool{}
		for _, r := range rows {
			if id, ok := r[c.Name].(string); ok && !seen[id] && outpost.ValidID(id) {
				seen[id] = true
				or = append(or, tdef.PrimaryKey+" eq '"+id+"'")
			}
		}
		if len(or) == 0 {
			continue
		}
		found, err := dev.Query(ctx, c.Target, client.Query{Filter: strings.Join(or, " or "), Select: []string{"name"}})
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			if n, ok := f["name"].(string); ok {
				names[f[tdef.PrimaryKey].(string)] = n
			}
		}
	}
	return names, nil
}

func hasColumn(t wire.Table, name string) bool {
	for _, c := range t.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

// searchColumns are the view's search columns, else its text columns,
// else the table's "name".
func searchColumns(v *View, def wire.Table) []string {
	if v != nil && len(v.SearchColumns) > 0 {
		return v.SearchColumns
	}
	types := map[string]string{}
	for _, c := range def.Columns {
		types[c.Name] = c.Type
	}
	var out []string
	if v != nil {
		for _, c := range v.Columns {
			if types[c] == "text" {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 && types["name"] == "text" {
		out = []string{"name"}
	}
	return out
}

func intParam(s string, def, lo, hi int, name string) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, outpost.Invalidf("%s must be a whole number from %d to %d, not %q", name, lo, hi, s).WithTarget(name)
	}
	return n, nil
}

func (a *Agent) row(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	row, err := dev.Get(r.Context(), r.PathValue("table"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, row)
}

func (a *Agent) create(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	var in RowValues
	if err := decode(r, &in); err != nil {
		return err
	}
	id, err := dev.Create(r.Context(), r.PathValue("table"), in.Values)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, Created{ID: id})
}

func (a *Agent) update(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	var in RowValues
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := dev.Update(r.Context(), r.PathValue("table"), r.PathValue("id"), in.Values); err != nil {
		return err
	}
	row, err := dev.Get(r.Context(), r.PathValue("table"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, row)
}

func (a *Agent) delete(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	if err := dev.Delete(r.Context(), r.PathValue("table"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pendingShown is how many queued changes the status page lists.
const pendingShown = 200

func (a *Agent) pending(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	list, err := dev.PendingChanges(r.Context(), pendingShown)
	if err != nil {
		return err
	}
	st, err := dev.Status(r.Context())
	if err != nil {
		return err
	}
	out := PendingList{Changes: []PendingChange{}, Total: st.PendingUploads}
	for _, p := range list {
		out.Changes = append(out.Changes, PendingChange{Seq: p.Seq, Table: p.Table, ID: p.ID, Op: p.Op, Columns: p.Columns, Time: p.Time})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *Agent) syncErrors(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	list, err := dev.LocalErrors(r.Context())
	if err != nil {
		return err
	}
	out := SyncErrorList{Errors: []SyncErrorItem{}}
	for _, e := range list {
		out.Errors = append(out.Errors, SyncErrorItem{ID: e.SyncErrorID, Table: e.Table, RowID: e.ID, Op: e.Op, Type: errorType(e.Type),
			Message: e.Message, Time: e.Time, Resolved: e.Resolved})
	}
	return writeJSON(w, http.StatusOK, out)
}

func errorType(t int) string {
	if s, ok := map[int]string{0: "Conflict", 1: "Record not found", 2: "Record already exists"}[t]; ok {
		return s
	}
	return "Other"
}

// resolve retries or discards a Sync Error on the server (it needs the
// connection), then syncs so the device downloads the outcome.
func (a *Agent) resolve(retry bool) func(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	return func(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
		id := r.PathValue("id")
		var err error
		if retry {
			_, err = dev.RetryError(r.Context(), id)
		} else {
			_, err = dev.DiscardError(r.Context(), id)
		}
		if err != nil {
			return err
		}
		dev.SyncNow()
		return a.syncErrors(w, r, dev)
	}
}

func (a *Agent) syncNow(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	var in SyncRequest
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if in.Full {
		// Refresh runs beside the scheduler; the library runs one sync at
		// a time. It ends with the app (closing the app cancels it and
		// waits for it before the store closes).
		a.mu.Lock()
		if a.dev != dev {
			a.mu.Unlock()
			return outpost.Conflictf("the app was closed").WithTarget("app")
		}
		ctx := a.run
		a.bg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.bg.Done()
			if _, err := dev.Sync(ctx, client.SyncOptions{Full: true}); err != nil && ctx.Err() == nil {
				a.logger.Warn("refresh failed", "err", err)
			}
		}()
	} else {
		dev.SyncNow()
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// checkUpdates reloads the app's definition from the server and syncs,
// which picks up a republished profile.
func (a *Agent) checkUpdates(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	a.mu.Lock()
	id, cfg := a.app.ID, a.cfg
	a.mu.Unlock()
	app, err := a.fetchApp(r.Context(), cfg, id, dev)
	if err != nil {
		return err
	}
	a.mu.Lock()
	if a.dev == dev {
		a.app = app
	}
	a.mu.Unlock()
	dev.SyncNow()
	return writeJSON(w, http.StatusOK, a.withCanvasURL(app))
}
