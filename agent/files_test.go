package agent_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/outposthq/outpost/agent"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestAgentFiles: a work order's photo taken in the player is stored on
// the device at once (served back with its image type), queued, and
// uploaded by the sync byte for byte; content that is no image, an empty
// body and an image over the limit are refused with their reason.
func TestAgentFiles(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		ctx := context.Background()
		p0, env, srv := demoServer(t, e, platform.Options{}, nil)
		tok, err := p0.IssueToken(ctx, platform.System(), env.Technicians[0].ID, "player")
		if err != nil {
			t.Fatal(err)
		}
		_, p := startAgent(t, t.TempDir())
		if code := p.do("POST", "/api/signin", agent.SignInRequest{Server: srv.URL, Token: tok}, nil); code != 200 {
			t.Fatalf("sign-in: %d", code)
		}
		if code := p.do("POST", "/api/apps/"+env.ModelDrivenApp+"/open", nil, nil); code != 200 {
			t.Fatalf("open: %d", code)
		}
		var st agent.DeviceStatus
		waitUntil(t, func() bool { p.do("GET", "/api/status", nil, &st); return st.Ready && st.State == "Connected" })
		var page agent.RowPage
		p.do("GET", "/api/tables/workorder/rows?top=1", nil, &page)
		id := page.Rows[0]["workorderid"].(string)
		path := "/api/tables/workorder/rows/" + id + "/files/photo"

		if code, _, body := p.raw("GET", path, "", nil); code != 404 {
			t.Fatalf("photo before one is taken: %d %s", code, body)
		}
		img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 5000)...)
		code, _, body := p.raw("PUT", path+"?name=site.png", "image/png", img)
		if code != 200 || !bytes.Contains(body, []byte(`"photo":"`)) {
			t.Fatalf("put photo: %d %s", code, body)
		}
		code, hdr, got := p.raw("GET", path, "", nil)
		if code != 200 || hdr.Get("Content-Type") != "image/png" || !bytes.Equal(got, img) || hdr.Get("Content-Security-Policy") == "" {
			t.Fatalf("get photo: %d %v, %d bytes", code, hdr, len(got))
		}
		refusals := []struct {
			name   string
			body   []byte
			status int
		}{
			{"text for an image", []byte("not a picture"), 400},
			{"empty", nil, 400},
			{"over the limit", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, client.MaxImageBytes)...), 413},
		}
		for _, r := range refusals {
			if code, _, body := p.raw("PUT", path+"?name=x.png", "image/png", r.body); code != r.status || !bytes.Contains(body, []byte("photo")) {
				t.Errorf("%s: %d %s, want %d naming the column", r.name, code, body, r.status)
			}
		}
		waitUntil(t, func() bool {
			p.do("GET", "/api/status", nil, &st)
			return st.PendingUploads == 0 && st.State == "Connected"
		})
		f, err := p0.GetFile(ctx, platform.System(), "workorder", id, "photo", true)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != "site.png" || !bytes.Equal(f.Content, img) {
			t.Fatalf("server holds %s with %d bytes, want site.png with the %d bytes taken", f.Name, len(f.Content), len(img))
		}
		if code, _, body := p.raw("DELETE", path, "", nil); code != 200 || !bytes.Contains(body, []byte(`"photo":null`)) {
			t.Fatalf("remove photo: %d %s", code, body)
		}
	})
}

// raw sends body with contentType and returns the status, headers and body.
func (p *player) raw(method, path, contentType string, body []byte) (int, http.Header, []byte) {
	p.t.Helper()
	req, _ := http.NewRequest(method, p.base+path, bytes.NewReader(body))
	if method != http.MethodGet {
		req.Header.Set(agent.CSRFHeader, p.csrf())
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
