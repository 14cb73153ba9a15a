package mobile

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

// TestStartServesThePlayer: the facade starts an agent whose link opens
// the embedded player and whose API answers with the session cookie.
func TestStartServesThePlayer(t *testing.T) {
	m, err := Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `<div id="root">`) {
		t.Fatalf("the link did not open the player: %d %s", resp.StatusCode, page)
	}
	base := strings.Split(m.URL(), "/?")[0]
	resp, err = hc.Get(base + "/api/session")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"signedIn":false`) {
		t.Fatalf("session: %d %s", resp.StatusCode, body)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := Start("", 0); err == nil {
		t.Fatal("Start without a directory succeeded")
	}
}
