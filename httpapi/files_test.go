package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/fakes3"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/wire"
)

// pngBytes returns n bytes that sniff as a PNG image.
func pngBytes(n int) []byte {
	b := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, max(n-8, 0))...)
	return b[:n]
}

type fileFixture struct {
	srv         *httptest.Server
	p           *platform.Platform
	admin, user string // tokens: an administrator, a user who may only read
	row         string
}

// newFileFixture serves a table "job" with an image column "photo" and a
// file column "report", with small limits: images 512 bytes, files 1 KiB,
// other bodies 256 bytes.
func newFileFixture(t *testing.T, e testenv.Engine) *fileFixture {
	t.Helper()
	return newFileFixtureIn(t, e, nil)
}

// newFileFixtureIn is newFileFixture keeping content in files (nil: the
// database).
func newFileFixtureIn(t *testing.T, e testenv.Engine, files filestore.Store) *fileFixture {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{MaxFileBytes: 1024, MaxImageBytes: 512, Files: files})
	testenv.Must(t, err)
	f := &fileFixture{p: p, srv: httptest.NewServer(httpapi.New(p, httpapi.Options{MaxBodyBytes: 256}))}
	t.Cleanup(f.srv.Close)
	sys := platform.System()
	_, err = p.CreateTable(ctx, sys, platform.TableInput{Name: "job", Ownership: schema.OwnedByUser, Columns: []schema.Column{
		{Name: "name", Type: schema.Text, MaxLength: 100}, {Name: "photo", Type: schema.Image}, {Name: "report", Type: schema.File}}})
	testenv.Must(t, err)
	admin, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "Admin", DomainName: "admin"})
	testenv.Must(t, err)
	testenv.Must(t, p.AssignUserRole(ctx, sys, admin, security.RoleSystemAdministrator))
	user, err := p.CreateUser(ctx, sys, platform.UserInput{FullName: "Reader", DomainName: "reader"})
	testenv.Must(t, err)
	role, err := p.CreateRole(ctx, sys, "Job reader", []security.Grant{{Table: "job", Privilege: security.Read, Depth: security.Organization}})
	testenv.Must(t, err)
	testenv.Must(t, p.AssignUserRole(ctx, sys, user, role))
	f.admin, err = p.IssueToken(ctx, sys, admin, "test")
	testenv.Must(t, err)
	f.user, err = p.IssueToken(ctx, sys, user, "test")
	testenv.Must(t, err)
	row, err := p.Create(ctx, sys, "job", map[string]any{"name": "Job", "ownerid": admin})
	testenv.Must(t, err)
	f.row = row["jobid"].(string)
	return f
}

// send makes a request with a raw body and returns the status, headers and body.
func (f *fileFixture) send(t *testing.T, method, path, token string, body []byte, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	testenv.Must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	testenv.Must(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	testenv.Must(t, err)
	return res.StatusCode, res.Header, data
}

func (f *fileFixture) fileCount(t *testing.T) int {
	t.Helper()
	var n int
	testenv.Must(t, f.p.DB().Read.QueryRow(`SELECT count(*) FROM outpost_file`).Scan(&n))
	return n
}

// fileStores are the places file content may live: the database, a
// directory and an S3-compatible server on loopback.
func fileStores(t *testing.T) map[string]func() filestore.Store {
	return map[string]func() filestore.Store{
		"db": func() filestore.Store { return nil },
		"dir": func() filestore.Store {
			d, err := filestore.NewDir(t.TempDir())
			testenv.Must(t, err)
			return d
		},
		"s3": func() filestore.Store { return fakes3.Store(t) },
	}
}

func TestFilesOverHTTP(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		for kind, open := range fileStores(t) {
			t.Run(e.Name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				testFilesOverHTTP(t, newFileFixtureIn(t, e, open()))
			})
		}
	}
}

func testFilesOverHTTP(t *testing.T, f *fileFixture) {
	{
		{
			ctx := context.Background()
			photo := "/api/files/job(" + f.row + ")/photo"
			report := "/api/files/job(" + f.row + ")/report"

			// An image, larger than MaxBodyBytes but within its own limit.
			img := pngBytes(400)
			code, _, body := f.send(t, http.MethodPut, photo, f.admin, img, map[string]string{"X-File-Name": "front%20door.png", "Content-Type": "image/png"})
			if code != http.StatusOK {
				t.Fatalf("PUT image: %d %s", code, body)
			}
			var info map[string]any
			testenv.Must(t, json.Unmarshal(body, &info))
			row, err := f.p.Get(ctx, platform.System(), "job", f.row, nil)
			testenv.Must(t, err)
			if row["photo"] != info["fileId"] || row["versionnumber"].(int64) != int64(info["version"].(float64)) {
				t.Fatalf("row after PUT = photo %v version %v, want the file %v at version %v", row["photo"], row["versionnumber"], info["fileId"], info["version"])
			}
			code, h, body := f.send(t, http.MethodGet, photo, f.user, nil, nil)
			got := map[string]string{"type": h.Get("Content-Type"), "length": h.Get("Content-Length"), "disposition": h.Get("Content-Disposition")}
			want := map[string]string{"type": "image/png", "length": "400", "disposition": `inline; filename="front door.png"`}
			if diff := cmp.Diff(want, got); code != http.StatusOK || diff != "" || !bytes.Equal(body, img) {
				t.Fatalf("GET image: %d, headers (-want +got):\n%s", code, diff)
			}

			// A file, named by the query, typed by the client.
			doc := []byte("%PDF-1.7 a report")
			if code, _, body := f.send(t, http.MethodPut, report+"?name=r%C3%A9sum%C3%A9.pdf", f.admin, doc, map[string]string{"Content-Type": "application/pdf"}); code != http.StatusOK {
				t.Fatalf("PUT file: %d %s", code, body)
			}
			code, h, body = f.send(t, http.MethodGet, report, f.admin, nil, nil)
			if code != http.StatusOK || h.Get("Content-Type") != "application/pdf" || h.Get("Content-Disposition") != `attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf` || string(body) != string(doc) {
				t.Fatalf("GET file: %d %q %q %q", code, h.Get("Content-Type"), h.Get("Content-Disposition"), body)
			}

			// Replacing deletes the old content; deleting clears the column.
			if code, _, body := f.send(t, http.MethodPut, photo, f.admin, []byte("GIF89a......"), nil); code != http.StatusOK {
				t.Fatalf("replace image: %d %s", code, body)
			}
			if n := f.fileCount(t); n != 2 {
				t.Fatalf("after replacing, %d files are stored, want 2", n)
			}
			if code, h, _ := f.send(t, http.MethodGet, photo, f.admin, nil, nil); code != http.StatusOK || h.Get("Content-Type") != "image/gif" {
				t.Fatalf("GET replaced image: %d %s", code, h.Get("Content-Type"))
			}
			if code, _, body := f.send(t, http.MethodDelete, photo, f.admin, nil, nil); code != http.StatusNoContent {
				t.Fatalf("DELETE image: %d %s", code, body)
			}
			if code, _, _ := f.send(t, http.MethodGet, photo, f.admin, nil, nil); code != http.StatusNotFound {
				t.Fatalf("GET deleted image: %d, want 404", code)
			}
			if n := f.fileCount(t); n != 1 {
				t.Fatalf("after deleting, %d files are stored, want 1", n)
			}

			// Deleting the row deletes its files.
			testenv.Must(t, f.p.Delete(ctx, platform.System(), "job", f.row))
			if n := f.fileCount(t); n != 0 {
				t.Fatalf("after deleting the row, %d files are stored, want 0", n)
			}
		}
	}
}

func TestFilesBadInput(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFileFixture(t, e)
		row := "job(" + f.row + ")"
		tests := []struct {
			name, method, path string
			user               bool
			body               []byte
			header             map[string]string
			wantStatus         int
			wantCode           outpost.Code
			wantMessage        string
		}{
			{"unknown table", "PUT", "/api/files/nope(" + f.row + ")/photo", false, pngBytes(20), nil, 404, outpost.CodeNotFound, "nope"},
			{"unknown column", "PUT", "/api/files/" + row + "/picture", false, pngBytes(20), nil, 404, outpost.CodeNotFound, `no column "picture"`},
			{"not a file column", "PUT", "/api/files/" + row + "/name", false, []byte("x"), nil, 400, outpost.CodeInvalid, "not a file or image column"},
			{"bad row id", "PUT", "/api/files/job(42)/photo", false, pngBytes(20), nil, 400, outpost.CodeInvalid, "not a row id"},
			{"missing row", "PUT", "/api/files/job(" + outpost.NewID() + ")/photo", false, pngBytes(20), nil, 404, outpost.CodeNotFound, "no row"},
			{"no column in path", "GET", "/api/files/" + row, false, nil, nil, 404, outpost.CodeNotFound, "{table}({id})/{column}"},
			{"image too large", "PUT", "/api/files/" + row + "/photo", false, pngBytes(513), nil, 413, outpost.CodeTooLarge, "at most 512 bytes"},
			{"file too large", "PUT", "/api/files/" + row + "/report", false, make([]byte, 1025), nil, 413, outpost.CodeTooLarge, "at most 1024 bytes"},
			{"image that is text", "PUT", "/api/files/" + row + "/photo", false, []byte("hello, world"), nil, 400, outpost.CodeInvalid, "the content is text/plain"},
			{"image declared as text", "PUT", "/api/files/" + row + "/photo", false, pngBytes(20), map[string]string{"Content-Type": "text/plain"}, 400, outpost.CodeInvalid, "takes an image type"},
			{"bad mime type", "PUT", "/api/files/" + row + "/report", false, []byte("x"), map[string]string{"Content-Type": "not a type"}, 400, outpost.CodeInvalid, "not a MIME type"},
			{"control character in name", "PUT", "/api/files/" + row + "/report", false, []byte("x"), map[string]string{"X-File-Name": "a%07b"}, 400, outpost.CodeInvalid, "control characters"},
			{"no file to get", "GET", "/api/files/" + row + "/report", false, nil, nil, 404, outpost.CodeNotFound, "holds no file"},
			{"no file to delete", "DELETE", "/api/files/" + row + "/report", false, nil, nil, 404, outpost.CodeNotFound, "holds no file"},
			{"put without write", "PUT", "/api/files/" + row + "/report", true, []byte("x"), nil, 403, outpost.CodeForbidden, "write privilege"},
			{"delete without write", "DELETE", "/api/files/" + row + "/report", true, nil, nil, 403, outpost.CodeForbidden, "write privilege"},
			{"no token", "GET", "/api/files/" + row + "/report", false, nil, map[string]string{"Authorization": ""}, 401, outpost.CodeUnauthorized, "bearer token"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				token := f.admin
				if tt.user {
					token = f.user
				}
				if _, ok := tt.header["Authorization"]; ok {
					token = ""
				}
				code, _, body := f.send(t, tt.method, tt.path, token, tt.body, tt.header)
				var eb wire.ErrorBody
				_ = json.Unmarshal(body, &eb)
				if code != tt.wantStatus || eb.Error.Code != string(tt.wantCode) || !strings.Contains(eb.Error.Message, tt.wantMessage) {
					t.Fatalf("%s %s = %d %s, want %d %s containing %q", tt.method, tt.path, code, body, tt.wantStatus, tt.wantCode, tt.wantMessage)
				}
			})
		}
		// Writing a file column through the data API points to the files route.
		code, _, body := f.send(t, "PATCH", "/api/data/"+row, f.admin, []byte(`{"photo":"`+outpost.NewID()+`"}`), nil)
		if code != 400 || !strings.Contains(string(body), "PUT /api/files/job({id})/photo") {
			t.Fatalf("PATCH a file column = %d %s", code, body)
		}
	})
}
