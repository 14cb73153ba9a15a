package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/outposthq/outpost/internal/testenv"
)

// startServer runs "outpost serve" on a fresh data directory with an
// administrator's token and returns the address, the token and the data
// directory; the server stops when the test ends.
func startServer(t *testing.T, args ...string) (addr, token string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "--data", dir, "user", "create", "--name", "Ops", "--domain", "ops@example.com", "--role", "System Administrator"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "--data", dir, "token", "create", "--user", "ops@example.com"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(out.String())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, args...), noEnv, io.Discard, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	re := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
	testenv.WaitFor(t, 30*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, logs.String())
		default:
		}
		m := re.FindStringSubmatch(logs.String())
		if m == nil {
			return io.EOF
		}
		addr = m[1]
		return nil
	})
	return addr, token
}

func get(t *testing.T, c *http.Client, url, token string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "outpost test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	addr, token := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	res := get(t, c, "https://"+addr+"/api/whoami", token)
	if res.StatusCode != 200 || res.ProtoMajor != 2 || res.TLS == nil {
		t.Fatalf("whoami over TLS: %d %s (TLS %v), want 200 over HTTP/2", res.StatusCode, res.Proto, res.TLS != nil)
	}
	// Plain HTTP on the TLS port is answered with a 400, not served.
	if res := get(t, http.DefaultClient, "http://"+addr+"/healthz", ""); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the TLS port: %d, want 400", res.StatusCode)
	}
}

func TestServeTLSFlagsChecked(t *testing.T) {
	certFile, _, _ := selfSigned(t, t.TempDir())
	for _, args := range [][]string{
		{"--tls-cert", certFile},
		{"--tls-cert", certFile, "--tls-key", certFile},
		{"--acme-domain", "outpost.example.com"},
		{"--acme-domain", "outpost.example.com", "--acme-cache", t.TempDir(), "--tls-cert", certFile, "--tls-key", certFile},
		{"--origins", "*"},
	} {
		err := run(context.Background(), append([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, args...), noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("serve %v: %v, want an error naming the flag", args, err)
		}
	}
}

func TestServeCORS(t *testing.T) {
	addr, token := startServer(t, "--origins", "https://app.example.com, https://admin.example.com")
	base := "http://" + addr
	res := get(t, http.DefaultClient, base+"/api/whoami", token, "Origin", "https://app.example.com")
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin: %d, Access-Control-Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Fatalf("exposed headers %q lack X-Request-Id", res.Header.Get("Access-Control-Expose-Headers"))
	}
	res = get(t, http.DefaultClient, base+"/api/whoami", token, "Origin", "https://evil.example.net")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("refused origin got Access-Control-Allow-Origin %q", got)
	}
	req, _ := http.NewRequest(http.MethodOptions, base+"/api/data/account", nil)
	req.Header.Set("Origin", "https://admin.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "https://admin.example.com" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	req.Header.Set("Origin", "https://evil.example.net")
	pre, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if got := pre.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("preflight from a refused origin got Access-Control-Allow-Origin %q", got)
	}
	// Without --origins no origin is allowed.
	addr2, token2 := startServer(t)
	res = get(t, http.DefaultClient, "http://"+addr2+"/api/whoami", token2, "Origin", "https://app.example.com")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("default server allowed origin %q", got)
	}
}

func TestServeCompression(t *testing.T) {
	addr, token := startServer(t)
	url := "http://" + addr + "/api/metadata/tables"
	// A transport that leaves Content-Encoding to the test.
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	plain := get(t, c, url, token, "Accept-Encoding", "identity")
	want, err := io.ReadAll(plain.Body)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Header.Get("Content-Encoding") != "" || !json.Valid(want) || len(want) < 1024 {
		t.Fatalf("identity: encoding %q, %d bytes", plain.Header.Get("Content-Encoding"), len(want))
	}
	for _, enc := range []string{"gzip", "zstd"} {
		res := get(t, c, url, token, "Accept-Encoding", enc)
		if res.Header.Get("Content-Encoding") != enc || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s: Content-Encoding %q, Vary %q", enc, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
		var r io.Reader
		if enc == "gzip" {
			r, err = gzip.NewReader(res.Body)
		} else {
			var zr *zstd.Decoder
			zr, err = zstd.NewReader(res.Body)
			r = zr
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s body differs from the identity body", enc)
		}
		t.Logf("%s: %d bytes for %d", enc, res.ContentLength, len(want))
	}
	if res := get(t, c, url, token, "Accept-Encoding", "br"); res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("unsupported encoding answered with %q", res.Header.Get("Content-Encoding"))
	}
}

func TestServeBodyLimitFlag(t *testing.T) {
	addr, token := startServer(t, "--max-body-mib", "1")
	body := `{"name":"` + strings.Repeat("x", 3<<19) + `"}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/data/account", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("1.5 MiB body with --max-body-mib 1: %d %s, want 413", res.StatusCode, msg)
	}
}
