package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

func (s *Server) dataRoutes() {
	s.Handle("GET /api/data/{path...}", s.dataGet)
	s.handleWrites("POST /api/data/{path...}", s.dataPost)
	s.handleWrites("PATCH /api/data/{path...}", s.dataPatch)
	s.handleWrites("DELETE /api/data/{path...}", s.dataDelete)
	s.Handle("GET /api/changes/{table}", s.changes)
}

// handleWrites registers a data write route: a request that writes one
// row (oneRowWrite) has its principal checked in the write's transaction,
// sparing it a read of the security log; any other is authenticated as
// Handle does.
func (s *Server) handleWrites(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, s.authedWith(func(r *http.Request) authMode {
		if oneRowWrite(r) {
			return checkedInWrite
		}
		return checked
	}, h))
}

// oneRowWrite reports whether r creates, updates or deletes one row: a
// POST to a table, a PATCH or DELETE of a row, without an action. Their
// handlers write through writeAs and use no principal outside it.
func oneRowWrite(r *http.Request) bool {
	path := r.PathValue("path")
	if path == "$batch" {
		return false
	}
	dp, err := parseDataPath(path)
	if err != nil || dp.action != "" {
		return false
	}
	switch r.Method {
	case http.MethodPost:
		return dp.id == ""
	case http.MethodPatch, http.MethodDelete:
		return dp.id != ""
	}
	return false
}

// dataPath is a parsed /api/data path: "table", "table(id)" or
// "table(id)/action".
type dataPath struct {
	table, id, action string
}

func parseDataPath(p string) (dataPath, error) {
	var dp dataPath
	seg, action, _ := strings.Cut(p, "/")
	dp.action = action
	if open := strings.IndexByte(seg, '('); open >= 0 {
		if !strings.HasSuffix(seg, ")") {
			return dp, outpost.Invalidf("path %q: a row is addressed as table(id)", p).WithTarget("path")
		}
		dp.table, dp.id = seg[:open], strings.ToLower(seg[open+1:len(seg)-1])
		if !outpost.ValidID(dp.id) {
			return dp, outpost.Invalidf("%q is not a row id: use a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301", dp.id).WithTarget("id")
		}
	} else {
		dp.table = seg
	}
	if dp.table == "" {
		return dp, outpost.Invalidf("name a table: /api/data/{table}").WithTarget("path")
	}
	if _, bulk := bulkAction(dp.action); dp.action != "" && dp.id == "" && !bulk {
		return dp, outpost.NotFoundf("no route /api/data/%s: a table's actions are CreateMultiple, UpdateMultiple and UpsertMultiple", p).WithTarget("path")
	}
	return dp, nil
}

func (s *Server) dataGet(w http.ResponseWriter, r *http.Request) error {
	dp, err := parseDataPath(r.PathValue("path"))
	if err != nil {
		return err
	}
	if dp.action != "" {
		return outpost.NotFoundf("no route GET /api/data/%s", r.PathValue("path")).WithTarget("path")
	}
	by := principalOf(r)
	if dp.id != "" {
		sel, err := parseSelect(r.URL.Query())
		if err != nil {
			return err
		}
		row, err := s.p.Get(r.Context(), by, dp.table, dp.id, sel)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, rowJSON(row))
	}
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	page, err := s.p.List(r.Context(), by, dp.table, q)
	if err != nil {
		return err
	}
	body := map[string]any{"@odata.context": "/api/data/$metadata#" + dp.table}
	if page.Count != nil {
		body["@odata.count"] = *page.Count
	}
	rows := make([]map[string]any, len(page.Rows))
	for i, row := range page.Rows {
		rows[i] = rowJSON(row)
	}
	body["value"] = rows
	if page.More {
		next := *r.URL
		v := next.Query()
		tok := strconv.Itoa(page.NextSkip)
		if page.NextAfter != "" {
			tok += "." + page.NextAfter // keyset: resume after this id
		}
		v.Set("$skiptoken", tok)
		next.RawQuery = v.Encode()
		body["@odata.nextLink"] = next.RequestURI()
	}
	return writeJSON(w, http.StatusOK, body)
}

func rowJSON(r outpost.Row) map[string]any {
	m := platform.JSONRow(r)
	if v, ok := r["versionnumber"]; ok {
		m["@odata.etag"] = "W/\"" + strconv.FormatInt(v.(int64), 10) + "\""
	}
	return m
}

func parseSelect(v url.Values) ([]string, error) {
	sel := strings.TrimSpace(v.Get("$select"))
	if sel == "" {
		return nil, nil
	}
	var out []string
	for _, c := range strings.Split(sel, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, outpost.Invalidf("$select: empty column name in %q", sel).WithTarget("$select")
		}
		out = append(out, c)
	}
	return out, nil
}

var knownOptions = map[string]bool{"$filter": true, "$select": true, "$orderby": true, "$top": true, "$count": true, "$skiptoken": true}

func parseQuery(r *http.Request) (platform.Query, error) {
	v := r.URL.Query()
	var q platform.Query
	for k := range v {
		if strings.HasPrefix(k, "$") && !knownOptions[k] {
			return q, outpost.Invalidf("query option %q is not supported: use $filter, $select, $orderby, $top, $count or $skiptoken", k).WithTarget(k)
		}
	}
	q.Filter = v.Get("$filter")
	var err error
	if q.Select, err = parseSelect(v); err != nil {
		return q, err
	}
	if ob := strings.TrimSpace(v.Get("$orderby")); ob != "" {
		for _, term := range strings.Split(ob, ",") {
			f := strings.Fields(term)
			if len(f) == 0 || len(f) > 2 {
				return q, outpost.Invalidf("$orderby: %q is not \"column [asc|desc]\"", strings.TrimSpace(term)).WithTarget("$orderby")
			}
			o := platform.Order{Column: f[0]}
			if len(f) == 2 {
				switch strings.ToLower(f[1]) {
				case "asc":
				case "desc":
					o.Desc = true
				default:
					return q, outpost.Invalidf("$orderby: direction %q is not asc or desc", f[1]).WithTarget("$orderby")
				}
			}
			q.OrderBy = append(q.OrderBy, o)
		}
	}
	if t := v.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return q, outpost.Invalidf("$top must be a whole number of 0 or more, got %q", t).WithTarget("$top")
		}
		q.Top = n
		if n == 0 {
			q.Top = -1
		}
	}
	switch c := v.Get("$count"); c {
	case "", "false":
	case "true":
		q.Count = true
	default:
		return q, outpost.Invalidf("$count must be true or false, got %q", c).WithTarget("$count")
	}
	if st := v.Get("$skiptoken"); st != "" {
		skip, after, _ := strings.Cut(st, ".")
		q.After = after
		n, err := strconv.Atoi(skip)
		if err != nil || n < 0 {
			return q, outpost.Invalidf("$skiptoken %q is not one this server issued: follow @odata.nextLink as given", st).WithTarget("$skiptoken")
		}
		q.Skip = n
	}
	if pref := r.Header.Get("Prefer"); pref != "" {
		for _, part := range strings.Split(pref, ",") {
			if n, ok := strings.CutPrefix(strings.TrimSpace(part), "odata.maxpagesize="); ok {
				size, err := strconv.Atoi(n)
				if err != nil || size < 1 {
					return q, outpost.Invalidf("Prefer odata.maxpagesize must be a whole number of 1 or more, got %q", n).WithTarget("Prefer")
				}
				q.PageSize = size
			}
		}
	}
	return q, nil
}

func (s *Server) dataPost(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("path") == "$batch" { // requests inside a batch never name $batch (batchPath)
		return s.batch(w, r)
	}
	dp, err := parseDataPath(r.PathValue("path"))
	if err != nil {
		return err
	}
	if action, ok := bulkAction(dp.action); ok && dp.id == "" {
		return s.bulk(w, r, dp.table, action)
	}
	switch {
	case dp.id == "":
		var in map[string]any
		if err := decodeBody(r, &in, false); err != nil {
			return err
		}
		if in == nil {
			return outpost.Invalidf("the request body must be a JSON object of column values").WithTarget("body")
		}
		var row outpost.Row
		var err error
		if c, ok := r.Context().Value(uncheckedKey{}).(uncheckedCaller); ok {
			row, err = s.p.CreateAs(r.Context(), c.pr, c.version, dp.table, in)
		} else {
			err = s.writeAs(r, func(w *platform.Writer, by *security.Principal) (err error) {
				// The create is all the transaction writes (WriteLast).
				row, err = w.Create(platform.WriteLast(r.Context()), by, dp.table, in)
				return err
			})
		}
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/data/"+dp.table+"("+row[dp.table+"id"].(string)+")")
		return writeJSON(w, http.StatusCreated, rowJSON(row))
	case dp.action == "assign":
		var in struct {
			OwnerID string `json:"ownerid"`
		}
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
		row, err := s.p.Assign(r.Context(), principalOf(r), dp.table, dp.id, in.OwnerID)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, rowJSON(row))
	case dp.action == "share" || dp.action == "unshare":
		var in struct {
			PrincipalID string `json:"principalid"`
			Rights      *int64 `json:"rights"`
		}
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
		rights := int64(platform.ShareRead)
		if in.Rights != nil {
			rights = *in.Rights
		}
		if dp.action == "unshare" {
			rights = 0
		}
		if err := s.p.Share(r.Context(), principalOf(r), dp.table, dp.id, in.PrincipalID, rights); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return outpost.NotFoundf("no action %q on rows: use assign, share or unshare", dp.action).WithTarget("path")
}

func (s *Server) dataPatch(w http.ResponseWriter, r *http.Request) error {
	dp, err := parseDataPath(r.PathValue("path"))
	if err != nil {
		return err
	}
	if dp.id == "" || dp.action != "" {
		return outpost.Invalidf("PATCH a row: /api/data/{table}({id})").WithTarget("path")
	}
	var in map[string]any
	if err := decodeBody(r, &in, false); err != nil {
		return err
	}
	if in == nil {
		return outpost.Invalidf("the request body must be a JSON object of column values").WithTarget("body")
	}
	var row outpost.Row
	err = s.writeAs(r, func(w *platform.Writer, by *security.Principal) (err error) {
		row, err = w.Update(r.Context(), by, dp.table, dp.id, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rowJSON(row))
}

func (s *Server) dataDelete(w http.ResponseWriter, r *http.Request) error {
	dp, err := parseDataPath(r.PathValue("path"))
	if err != nil {
		return err
	}
	if dp.id == "" || dp.action != "" {
		return outpost.Invalidf("DELETE a row: /api/data/{table}({id})").WithTarget("path")
	}
	if err := s.writeAs(r, func(w *platform.Writer, by *security.Principal) error {
		return w.Delete(r.Context(), by, dp.table, dp.id)
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changes serves the change-tracking API to administrators.
func (s *Server) changes(w http.ResponseWriter, r *http.Request) error {
	if !principalOf(r).Admin {
		return outpost.Forbiddenf("the change-tracking API is for administrators")
	}
	since, limit := int64(0), 0
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return outpost.Invalidf("since must be a version number of 0 or more, got %q", v).WithTarget("since")
		}
		since = n
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return outpost.Invalidf("limit must be between 1 and 100000, got %q", v).WithTarget("limit")
		}
		limit = n
	}
	ch, err := s.p.ChangesSince(r.Context(), r.PathValue("table"), since, limit)
	if err != nil {
		return err
	}
	rows := make([]map[string]any, len(ch.Rows))
	for i, row := range ch.Rows {
		rows[i] = platform.JSONRow(row)
	}
	deleted := ch.Deleted
	if deleted == nil {
		deleted = []platform.Tombstone{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"token": ch.Token, "more": ch.More, "next": ch.Next, "rows": rows, "deleted": deleted})
}
