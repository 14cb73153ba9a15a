package httpapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/wire"
)

// fileRoutes registers /api/files/{table}({id})/{column} and, with sync,
// the device's file routes under /api/sync/v1/files.
func (s *Server) fileRoutes() {
	s.Handle("PUT /api/files/{path...}", s.filePut)
	s.Handle("GET /api/files/{path...}", s.fileGet)
	s.Handle("DELETE /api/files/{path...}", s.fileDelete)
	if s.sync != nil {
		s.Handle("POST "+wire.Prefix+"/files", s.syncFiles)
		s.Handle("GET "+wire.Prefix+"/files/{id}", s.syncFileGet)
		s.Handle("PUT "+wire.Prefix+"/files/{id}", s.syncFilePut)
	}
}

// bodyLimit is the request body limit of r: file uploads may be as large
// as the largest file the platform accepts (one byte more, so the handler
// can tell "too large" itself), everything else MaxBodyBytes.
func (s *Server) bodyLimit(r *http.Request) int64 {
	if r.Method != http.MethodPut {
		return s.maxBody
	}
	if strings.HasPrefix(r.URL.Path, "/api/files/") || strings.HasPrefix(r.URL.Path, wire.Prefix+"/files/") {
		return max(s.maxBody, s.p.MaxFileBytes(schema.File)+1, s.p.MaxFileBytes(schema.Image)+1)
	}
	return s.maxBody
}

// filePath is a parsed /api/files path: "table(id)/column".
func filePath(r *http.Request) (table, id, column string, err error) {
	p := r.PathValue("path")
	dp, err := parseDataPath(p)
	if err == nil && (dp.id == "" || dp.action == "" || strings.Contains(dp.action, "/")) {
		err = outpost.NotFoundf("no route %s /api/files/%s: a file is addressed as /api/files/{table}({id})/{column}", r.Method, p).WithTarget("path")
	}
	return dp.table, dp.id, dp.action, err
}

// fileName returns the upload's file name: the X-File-Name header
// (percent-encoded UTF-8 accepted) or the name query parameter.
func fileName(r *http.Request) string {
	name := r.Header.Get(wire.HeaderFileName)
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	if name == "" {
		name = r.URL.Query().Get("name")
	}
	return name
}

func (s *Server) filePut(w http.ResponseWriter, r *http.Request) error {
	table, id, column, err := filePath(r)
	if err != nil {
		return err
	}
	limit := s.p.MaxFileBytes(schema.File)
	if t, err := s.p.Schema().LookupTable(table); err == nil {
		if c, ok := t.Column(column); ok {
			limit = s.p.MaxFileBytes(c.Type)
		}
	}
	if r.ContentLength > limit {
		return outpost.Errorf(outpost.CodeTooLarge, "column %q of table %q takes files of at most %d bytes, got %d", column, table, limit, r.ContentLength).WithTarget("content")
	}
	content, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return err
	}
	if int64(len(content)) > limit {
		return outpost.Errorf(outpost.CodeTooLarge, "column %q of table %q takes files of at most %d bytes", column, table, limit).WithTarget("content")
	}
	info, err := s.p.PutFile(r.Context(), principalOf(r), table, id, column,
		platform.FileInput{Name: fileName(r), MimeType: r.Header.Get("Content-Type"), Content: content})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wire.FileInfo(*info))
}

func (s *Server) fileGet(w http.ResponseWriter, r *http.Request) error {
	table, id, column, err := filePath(r)
	if err != nil {
		return err
	}
	f, err := s.p.GetFile(r.Context(), principalOf(r), table, id, column, true)
	if err != nil {
		return err
	}
	serveFile(w, r, f)
	return nil
}

func (s *Server) fileDelete(w http.ResponseWriter, r *http.Request) error {
	table, id, column, err := filePath(r)
	if err != nil {
		return err
	}
	if err := s.p.DeleteFile(r.Context(), principalOf(r), table, id, column); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveFile writes f's content with its type, length and name; ranges
// and conditional requests (the ETag is the immutable file id) work
// through http.ServeContent. Images show inline, files download.
func serveFile(w http.ResponseWriter, r *http.Request, f *platform.File) {
	h := w.Header()
	h.Set("Content-Type", f.MimeType)
	h.Set("X-Content-Type-Options", "nosniff")
	disposition := "attachment"
	if strings.HasPrefix(f.MimeType, "image/") {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	h.Set("ETag", `"`+f.ID+`"`)
	h.Set(wire.HeaderFileID, f.ID)
	h.Set(wire.HeaderFileVersion, strconv.FormatInt(f.Version, 10))
	h.Set(wire.HeaderFileName, url.PathEscape(f.Name))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Content))
}

func (s *Server) syncFiles(w http.ResponseWriter, r *http.Request) error {
	var req wire.FilesRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	out, err := s.sync.Files(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) syncFileGet(w http.ResponseWriter, r *http.Request) error {
	f, err := s.sync.File(r.Context(), principalOf(r), r.URL.Query().Get("deviceId"), r.PathValue("id"))
	if err != nil {
		return err
	}
	serveFile(w, r, f)
	return nil
}

func (s *Server) syncFilePut(w http.ResponseWriter, r *http.Request) error {
	err := s.sync.StageFile(r.Context(), principalOf(r), r.URL.Query().Get("deviceId"), r.PathValue("id"), fileName(r), r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
