package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// The bulk actions of Dataverse on a table, under their qualified names
// (POST /api/data/{table}/Microsoft.Dynamics.CRM.CreateMultiple) and the
// short ones.
const bulkNamespace = "Microsoft.Dynamics.CRM."

var bulkActions = map[string]bool{"CreateMultiple": true, "UpdateMultiple": true, "UpsertMultiple": true}

// bulkAction returns the bulk action a collection path's action names.
func bulkAction(action string) (string, bool) {
	name := strings.TrimPrefix(action, bulkNamespace)
	return name, bulkActions[name]
}

// bulkRequest is the body of a bulk action: the rows, each a JSON object
// of column values (an "@odata.type" annotation is checked and dropped).
type bulkRequest struct {
	Targets []map[string]any `json:"Targets"`
}

// bulkReply answers a bulk action: the ids in input order ("" for a row
// refused under continue-on-error), which rows an upsert created, and the
// refused rows.
type bulkReply struct {
	Ids     []string       `json:"Ids"`
	Created []bool         `json:"Created,omitempty"`
	Errors  []bulkRowError `json:"Errors,omitempty"`
}

type bulkRowError struct {
	Index int              `json:"index"`
	Error wire.ErrorDetail `json:"error"`
}

// continueOnError reports whether the request asks to go on past refused
// rows (Prefer: odata.continue-on-error).
func continueOnError(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Prefer"), ",") {
		if p := strings.TrimSpace(part); p == "odata.continue-on-error" || p == "odata.continue-on-error=true" {
			return true
		}
	}
	return false
}

// bulk runs CreateMultiple, UpdateMultiple or UpsertMultiple on table in
// one transaction: all rows or none, or, with continue-on-error, every row
// that passes its checks.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, table, action string) error {
	var in bulkRequest
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if in.Targets == nil {
		return outpost.Invalidf("the body must be {\"Targets\": [rows]}, each row a JSON object of column values").WithTarget("Targets")
	}
	for i, row := range in.Targets {
		if typ, ok := row["@odata.type"]; ok {
			if name, _ := typ.(string); name != bulkNamespace+table && name != table {
				return outpost.Invalidf("row %d is of type %v, not %s%s", i, typ, bulkNamespace, table).WithTarget(fmt.Sprintf("Targets[%d].@odata.type", i))
			}
			delete(row, "@odata.type")
		}
	}
	by := principalOf(r)
	opt := platform.BulkOptions{ContinueOnError: continueOnError(r)}
	var res *platform.BulkResult
	err := s.p.Write(r.Context(), func(wr *platform.Writer) error {
		var err error
		switch action {
		case "CreateMultiple":
			res, err = wr.CreateMany(r.Context(), by, table, in.Targets, opt)
		case "UpdateMultiple":
			res, err = wr.UpdateMany(r.Context(), by, table, in.Targets, opt)
		default:
			res, err = wr.UpsertMany(r.Context(), by, table, in.Targets, opt)
		}
		return err
	})
	if err != nil {
		return err
	}
	reply := bulkReply{Ids: res.IDs, Created: res.Created}
	for _, e := range res.Errors {
		reply.Errors = append(reply.Errors, bulkRowError{Index: e.Index, Error: wire.ErrorDetail{
			Code: string(outpost.ErrorCode(e.Err)), Message: outpost.ErrorMessage(e.Err), Target: outpost.ErrorTarget(e.Err)}})
	}
	if action == "UpdateMultiple" && len(reply.Errors) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return writeJSON(w, http.StatusOK, reply)
}

// maxBatchRequests bounds the requests of one $batch.
const maxBatchRequests = 1000

// batchRequest is an OData JSON batch (OData 4.01 JSON Format, section 19):
// requests run in order; consecutive requests of one atomicityGroup form a
// change set that commits or fails as one.
type batchRequest struct {
	Requests []batchItem `json:"requests"`
}

type batchItem struct {
	ID             string            `json:"id"`
	Method         string            `json:"method"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers,omitempty"`
	Body           json.RawMessage   `json:"body,omitempty"`
	AtomicityGroup string            `json:"atomicityGroup,omitempty"`
	DependsOn      []string          `json:"dependsOn,omitempty"`
}

type batchReply struct {
	Responses []batchResponse `json:"responses"`
}

type batchResponse struct {
	ID             string            `json:"id"`
	Status         int               `json:"status"`
	Headers        map[string]string `json:"headers,omitempty"`
	Body           json.RawMessage   `json:"body,omitempty"`
	AtomicityGroup string            `json:"atomicityGroup,omitempty"`
}

// batch answers POST /api/data/$batch. Each request is one of the data
// routes (GET, POST, PATCH, DELETE under /api/data), run as the caller,
// with the checks and errors of the route itself; a change set's writes
// share one transaction, and when one of them fails the others answer 424
// Failed Dependency and nothing of the set is written.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return outpost.Errorf(outpost.CodeUnsupported, "$batch takes the OData JSON batch format (Content-Type: application/json), not %q", ct).WithTarget("Content-Type")
	}
	var in batchRequest
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if err := checkBatch(in.Requests); err != nil {
		return err
	}
	out := batchReply{Responses: make([]batchResponse, 0, len(in.Requests))}
	done := map[string]batchResponse{}
	for i := 0; i < len(in.Requests); {
		j := i + 1
		if g := in.Requests[i].AtomicityGroup; g != "" {
			for j < len(in.Requests) && in.Requests[j].AtomicityGroup == g {
				j++
			}
		}
		var got []batchResponse
		if in.Requests[i].AtomicityGroup == "" {
			got = []batchResponse{s.batchOne(r.Context(), r, in.Requests[i], done)}
		} else {
			got = s.changeSet(r, in.Requests[i:j], done)
		}
		for _, resp := range got {
			done[resp.ID] = resp
		}
		out.Responses = append(out.Responses, got...)
		i = j
	}
	return writeJSON(w, http.StatusOK, out)
}

// checkBatch refuses a batch whose shape is wrong before anything runs.
func checkBatch(reqs []batchItem) error {
	if len(reqs) == 0 {
		return outpost.Invalidf("the body must be {\"requests\": [...]} with at least one request").WithTarget("requests")
	}
	if len(reqs) > maxBatchRequests {
		return outpost.Errorf(outpost.CodeTooLarge, "a $batch takes at most %d requests, got %d", maxBatchRequests, len(reqs)).WithTarget("requests")
	}
	seen := map[string]bool{}
	closed := map[string]bool{}
	for i, q := range reqs {
		at := fmt.Sprintf("requests[%d]", i)
		if q.ID == "" || seen[q.ID] {
			return outpost.Invalidf("request %d needs an id of its own (ids are unique in a batch)", i).WithTarget(at + ".id")
		}
		seen[q.ID] = true
		switch q.Method {
		case "GET", "POST", "PATCH", "DELETE":
		default:
			return outpost.Invalidf("request %s: method %q is not GET, POST, PATCH or DELETE", q.ID, q.Method).WithTarget(at + ".method")
		}
		if q.AtomicityGroup != "" {
			if q.Method == "GET" {
				return outpost.Invalidf("request %s: a change set (atomicityGroup) holds writes only, not GET", q.ID).WithTarget(at + ".method")
			}
			if closed[q.AtomicityGroup] {
				return outpost.Invalidf("request %s: the requests of atomicityGroup %q must be adjacent", q.ID, q.AtomicityGroup).WithTarget(at + ".atomicityGroup")
			}
		}
		if i > 0 && reqs[i-1].AtomicityGroup != "" && reqs[i-1].AtomicityGroup != q.AtomicityGroup {
			closed[reqs[i-1].AtomicityGroup] = true
		}
		for _, d := range q.DependsOn {
			if !seen[d] || d == q.ID {
				return outpost.Invalidf("request %s depends on %q, which is not an earlier request of the batch", q.ID, d).WithTarget(at + ".dependsOn")
			}
		}
	}
	return nil
}

// changeSet runs the requests of one atomicity group in one transaction.
func (s *Server) changeSet(r *http.Request, reqs []batchItem, done map[string]batchResponse) []batchResponse {
	out := make([]batchResponse, len(reqs))
	failed := -1
	errFailed := errors.New("change set failed")
	err := s.p.Write(r.Context(), func(wr *platform.Writer) error {
		ctx := platform.Join(r.Context(), wr)
		for k, q := range reqs {
			// Later requests of the set may name this one ($id, dependsOn);
			// the caller records the set's final answers over these.
			resp := s.batchOne(ctx, r, q, done)
			out[k], done[q.ID] = resp, resp
			if resp.Status >= 400 {
				failed = k
				return errFailed
			}
		}
		return nil
	})
	if err != nil && failed < 0 {
		// The commit itself failed: every request of the set answers it.
		resp := errorResponse(err)
		for k, q := range reqs {
			out[k] = withID(resp, q)
		}
		return out
	}
	if failed >= 0 {
		for k, q := range reqs {
			if k != failed {
				out[k] = withID(errorResponse(outpost.Errorf(outpost.CodeFailedDependency,
					"not written: request %s of change set %q failed, and a change set is written whole or not at all", reqs[failed].ID, q.AtomicityGroup)), q)
			}
		}
	}
	for k := range out {
		out[k].AtomicityGroup = reqs[k].AtomicityGroup
	}
	return out
}

func withID(resp batchResponse, q batchItem) batchResponse {
	resp.ID = q.ID
	return resp
}

// batchOne runs one request of a batch through the data route it names,
// as the batch's caller.
func (s *Server) batchOne(ctx context.Context, outer *http.Request, q batchItem, done map[string]batchResponse) batchResponse {
	for _, d := range q.DependsOn {
		if prev, ok := done[d]; ok && prev.Status >= 400 {
			return withID(errorResponse(outpost.Errorf(outpost.CodeFailedDependency, "not run: request %s, which it depends on, failed", d)), q)
		}
	}
	path, err := batchPath(q.URL, done)
	if err != nil {
		return withID(errorResponse(err), q)
	}
	sub, err := http.NewRequestWithContext(ctx, q.Method, "/api/data/"+path, bytes.NewReader(q.Body))
	if err != nil {
		return withID(errorResponse(outpost.Invalidf("request %s: url %q: %v", q.ID, q.URL, err).WithTarget("url")), q)
	}
	for k, v := range q.Headers {
		sub.Header.Set(k, v)
	}
	sub.Header.Set("Content-Type", "application/json")
	sub.Host = outer.Host
	sub.SetPathValue("path", strings.SplitN(path, "?", 2)[0])
	var h func(http.ResponseWriter, *http.Request) error
	switch q.Method {
	case "GET":
		h = s.dataGet
	case "POST":
		h = s.dataPost
	case "PATCH":
		h = s.dataPatch
	default:
		h = s.dataDelete
	}
	rec := httptest.NewRecorder()
	s.handle(h).ServeHTTP(rec, sub)
	resp := batchResponse{ID: q.ID, Status: rec.Code}
	for _, k := range []string{"Location", "Retry-After", "Content-Type"} {
		if v := rec.Header().Get(k); v != "" {
			if resp.Headers == nil {
				resp.Headers = map[string]string{}
			}
			resp.Headers[strings.ToLower(k)] = v
		}
	}
	if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
		resp.Body = json.RawMessage(b)
	}
	return resp
}

// batchPath resolves a request's url to a path under /api/data: relative
// ("account(…)"), absolute ("/api/data/account"), or starting with "$id",
// the row an earlier request of the batch created (its Location).
func batchPath(u string, done map[string]batchResponse) (string, error) {
	if ref, ok := strings.CutPrefix(u, "$"); ok {
		id, rest, _ := strings.Cut(ref, "/")
		prev, ok := done[id]
		loc := prev.Headers["location"]
		if !ok || loc == "" {
			return "", outpost.Invalidf("url %q refers to request %q, which created no row before it", u, id).WithTarget("url")
		}
		u = loc
		if rest != "" {
			u += "/" + rest
		}
	}
	u = strings.TrimPrefix(u, "/api/data/")
	if strings.HasPrefix(u, "/") || strings.Contains(u, "://") || strings.HasPrefix(u, "$batch") || u == "" {
		return "", outpost.Invalidf("url %q is not a data path such as \"account\" or \"account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)\"", u).WithTarget("url")
	}
	return u, nil
}

// errorResponse is the answer of a request inside a $batch that failed
// with err: the status and envelope a route answers with.
func errorResponse(err error) batchResponse {
	code := outpost.ErrorCode(err)
	b, _ := json.Marshal(errorEnvelope(code, outpost.ErrorMessage(err), outpost.ErrorTarget(err)))
	return batchResponse{Status: statusOf(code), Headers: map[string]string{"content-type": "application/json; charset=utf-8"}, Body: b}
}
