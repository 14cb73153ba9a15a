package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/rs/cors"
	"golang.org/x/crypto/acme/autocert"

	"github.com/outposthq/outpost/httpapi"
)

// webFlags say how the server meets the open internet: TLS (a certificate
// and key, or certificates from an ACME CA such as Let's Encrypt), the
// browser origins allowed to call the API, and response compression.
type webFlags struct {
	tlsCert, tlsKey string
	acmeDomains     string
	acmeCache       string
	origins         string
	compress        bool
}

func (f *webFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS (HTTP/2) with it and --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.StringVar(&f.acmeDomains, "acme-domain", "", "comma-separated domain names to get certificates for from Let's Encrypt (TLS-ALPN-01 on the listening port, which must be reachable as :443)")
	fs.StringVar(&f.acmeCache, "acme-cache", "", "directory keeping the ACME account and certificates (kept across restarts; required with --acme-domain)")
	fs.StringVar(&f.origins, "origins", "", "comma-separated browser origins allowed to call the API (CORS), e.g. https://app.example.com; default none")
	fs.BoolVar(&f.compress, "compress", true, "compress JSON and snapshot responses with zstd or gzip, as the caller's Accept-Encoding allows")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// wrap adds CORS and compression around h.
func (f *webFlags) wrap(h http.Handler) (http.Handler, error) {
	if f.compress {
		var err error
		if h, err = httpapi.Compress(h); err != nil {
			return nil, err
		}
	}
	if origins := splitList(f.origins); len(origins) > 0 {
		for _, o := range origins {
			if o == "*" || !strings.Contains(o, "://") {
				return nil, fmt.Errorf("--origins %q: name each origin as scheme://host[:port], e.g. https://app.example.com", o)
			}
		}
		h = cors.New(cors.Options{
			AllowedOrigins: origins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowedHeaders: []string{"Authorization", "Content-Type", "If-Match", "If-None-Match", "Prefer", "X-Request-Id"},
			ExposedHeaders: []string{"X-Request-Id", "ETag", "Location"},
			MaxAge:         600,
		}).Handler(h)
	}
	return h, nil
}

// serve serves srv on ln, over TLS when a certificate or ACME domains are
// configured. net/http negotiates HTTP/2 over TLS by itself.
func (f *webFlags) serve(srv *http.Server, ln net.Listener) error {
	domains := splitList(f.acmeDomains)
	switch {
	case len(domains) > 0 && (f.tlsCert != "" || f.tlsKey != ""):
		return errors.New("--acme-domain and --tls-cert/--tls-key exclude each other: choose one source of certificates")
	case len(domains) > 0:
		if f.acmeCache == "" {
			return errors.New("--acme-domain needs --acme-cache DIR: a directory that keeps the account and certificates across restarts")
		}
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, HostPolicy: autocert.HostWhitelist(domains...), Cache: autocert.DirCache(f.acmeCache)}
		srv.TLSConfig = m.TLSConfig()
		return srv.ServeTLS(ln, "", "")
	case f.tlsCert != "" || f.tlsKey != "":
		if f.tlsCert == "" || f.tlsKey == "" {
			return errors.New("--tls-cert and --tls-key go together: name both files")
		}
		if _, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return srv.ServeTLS(ln, f.tlsCert, f.tlsKey)
	}
	return srv.Serve(ln)
}
