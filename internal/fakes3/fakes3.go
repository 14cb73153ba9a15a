// Package fakes3 runs an S3-compatible server (gofakes3, in memory) on
// loopback for tests, and opens the file store of one of its buckets
// through the real S3 client (filestore.S3, minio-go). The server stops
// when the test ends.
package fakes3

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/outposthq/outpost/filestore"
)

// Server is a running fake S3 server with one bucket.
type Server struct {
	// URL is the --files value of the bucket (s3://files/outpost?...).
	URL string
	// Env holds the credentials the client reads from the environment.
	Env map[string]string
}

// Getenv reads Env.
func (s *Server) Getenv(k string) string { return s.Env[k] }

// Start starts a server with bucket "files"; keys go under prefix "outpost".
func Start(t testing.TB) *Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("files"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return &Server{
		URL: "s3://files/outpost?lookup=path&region=us-east-1&endpoint=" + url.QueryEscape(srv.URL),
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test-secret"},
	}
}

// Store starts a server and opens its file store.
func Store(t testing.TB) *filestore.S3 {
	t.Helper()
	s := Start(t)
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	st, err := filestore.OpenS3(context.Background(), u, s.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
