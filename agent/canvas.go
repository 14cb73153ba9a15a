package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/outposthq/outpost/bundle"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
)

// A canvas app's bundle is served under /canvas/{key}/: key is a keyed
// hash of the app's id with this start's secret, so the address works only
// while this agent runs and only for the open app. The frame that shows it
// is sandboxed without same-origin (the bundle's scripts run in an opaque
// origin, carry no cookie and cannot call /api/); it talks to the player
// by postMessage through the host script the agent adds to index.html.
const (
	canvasPrefix = "/canvas/"
	hostScript   = "/canvas-host.js"
	// canvasCSP sandboxes the bundle even when opened outside the frame,
	// and lets it load only its own files: no fetch, no other site.
	canvasCSP = "sandbox allow-scripts allow-forms; default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)

func (a *Agent) bundlePath(id string) string {
	return filepath.Join(a.appsDir(), "bundle-"+safeName(id)+".zip")
}

// canvasKey is the path key of app id's bundle for this start.
func (a *Agent) canvasKey(id string) string {
	m := hmac.New(sha256.New, []byte(a.secret))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// fetchBundle downloads canvas app id's bundle from the server and keeps
// it on the device; it reports whether the app has one.
func (a *Agent) fetchBundle(ctx context.Context, cfg config, id string) (bool, error) {
	resp, err := a.send(ctx, cfg, http.MethodGet, "/api/offline/apps/"+url.PathEscape(id)+"/bundle", nil, "")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		_ = os.Remove(a.bundlePath(id))
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("download the bundle of canvas app %s: the server answered %s", id, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, bundle.MaxBytes+1))
	if err != nil {
		return false, fmt.Errorf("%w: %v", client.ErrUnreachable, err)
	}
	if _, err := bundle.Check(b); err != nil {
		return false, fmt.Errorf("the bundle of canvas app %s from the server is not usable: %w", id, err)
	}
	tmp := a.bundlePath(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return false, fmt.Errorf("keep the bundle of canvas app %s: %w", id, err)
	}
	return true, os.Rename(tmp, a.bundlePath(id))
}

// withCanvasURL returns app with its canvas address for this start.
func (a *Agent) withCanvasURL(app *AppDefinition) *AppDefinition {
	if app == nil || app.Canvas == nil {
		return app
	}
	c := *app
	info := *app.Canvas
	if info.Bundle {
		info.URL = canvasPrefix + a.canvasKey(app.ID) + "/index.html"
	}
	c.Canvas = &info
	return &c
}

// canvasFile serves a file of the open canvas app's bundle. index.html
// gets the host script added at the start of its head.
func (a *Agent) canvasFile(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	app := a.app
	a.mu.Unlock()
	if app == nil || app.Canvas == nil || !app.Canvas.Bundle || !equal(r.PathValue("key"), a.canvasKey(app.ID)) {
		writeError(w, http.StatusNotFound, "path", "no canvas app is open at this address: open the app in the player again")
		return
	}
	name := r.PathValue("path")
	if name == "" {
		name = "index.html"
	}
	zr, err := zip.OpenReader(a.bundlePath(app.ID))
	if err != nil {
		a.fail(w, r, fmt.Errorf("open the bundle of canvas app %s: %w", app.ID, err))
		return
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		writeError(w, http.StatusNotFound, "path", fmt.Sprintf("the bundle of canvas app %q has no file %q", app.Name, name))
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, bundle.MaxUnpacked))
	f.Close()
	if err != nil {
		a.fail(w, r, outpost.Invalidf("read %q from the bundle: %v", name, err))
		return
	}
	if name == "index.html" {
		b = withHostScript(b)
	}
	h := w.Header()
	h.Set("Content-Security-Policy", canvasCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// withHostScript adds the host script to an HTML page: after <head ...>,
// or at the very start when the page has no head.
func withHostScript(page []byte) []byte {
	tag := []byte(`<script src="` + hostScript + `"></script>`)
	lower := strings.ToLower(string(page))
	at := 0
	if i := strings.Index(lower, "<head"); i >= 0 {
		if j := strings.IndexByte(lower[i:], '>'); j >= 0 {
			at = i + j + 1
		}
	}
	out := append([]byte{}, page[:at]...)
	out = append(out, tag...)
	return append(out, page[at:]...)
}
