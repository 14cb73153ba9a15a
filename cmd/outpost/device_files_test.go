package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outposthq/outpost/platform"
)

// TestDeviceFileCLI: put-file queues an image offline, sync uploads it,
// and get-file writes the device's copy; status counts it.
func TestDeviceFileCLI(t *testing.T) {
	ctx := context.Background()
	fx := newDeviceFixture(t, 2)
	p, env, srv, tok, dev := fx.p, fx.env, fx.srv, fx.tok, fx.dev
	dev("login", "--server", srv.URL, "--token", tok)
	dev("open", env.ModelDrivenApp)
	dev("sync")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(dev("query", "workorder", "--select", "workorderid", "--top", "1")), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("query a work order: %v %v", err, rows)
	}
	id := rows[0]["workorderid"].(string)
	img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 500)...)
	src := filepath.Join(t.TempDir(), "pump.png")
	if err := os.WriteFile(src, img, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := dev("put-file", "workorder", id, "photo", src); !strings.Contains(out, "queued for upload") {
		t.Fatalf("put-file output:\n%s", out)
	}
	if out := dev("sync"); !strings.Contains(out, "1 change uploaded, 0 rejected") {
		t.Fatalf("sync after put-file:\n%s", out)
	}
	if out := dev("status"); !strings.Contains(out, "Files and images: 1 stored") {
		t.Fatalf("status after the upload:\n%s", out)
	}
	dst := filepath.Join(t.TempDir(), "copy.png")
	if out := dev("get-file", "workorder", id, "photo", dst); !strings.Contains(out, "pump.png (image/png, 508 bytes)") {
		t.Fatalf("get-file output:\n%s", out)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("get-file wrote %d bytes (%v), want the %d put", len(got), err, len(img))
	}
	f, err := p.GetFile(ctx, platform.System(), "workorder", id, "photo", true)
	if err != nil || !bytes.Equal(f.Content, img) {
		t.Fatalf("the server's copy: %v", err)
	}
}
