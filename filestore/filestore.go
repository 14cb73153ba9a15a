// Package filestore keeps the content of files and images outside the
// database: in a directory on disk (Dir) or in an S3-compatible bucket
// (S3), behind one interface. The database keeps each file's metadata, its
// size and SHA-256 and the key of its object; the platform checks the
// checksum on every read, so damaged content is an error, never wrong
// bytes.
//
// Invariants: a key names immutable content (the platform never writes a
// key twice: each stored file gets a fresh key), keys are made of lower-case
// letters, digits, '-' and '.', and a Delete of a missing key succeeds.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// ErrNotExist is the cause (errors.Is) of Get's error for a key the store
// does not hold.
var ErrNotExist = errors.New("no such object in the file store")

// Store keeps file content by key.
type Store interface {
	// Kind names the kind of store ("dir" or "s3"); the database records it
	// with each file.
	Kind() string
	// Put stores content under key. The platform keeps empty files in the
	// database and never puts an empty object.
	Put(ctx context.Context, key string, content []byte) error
	// Get returns the content under key; ErrNotExist when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String describes the store for logs (no secrets).
	String() string
}

// CheckKey reports whether key may name an object.
func CheckKey(key string) error {
	if len(key) < 3 || len(key) > 200 || strings.Trim(key, "0123456789abcdefghijklmnopqrstuvwxyz-.") != "" || strings.HasPrefix(key, ".") {
		return fmt.Errorf("file store key %q: use lower-case letters, digits, '-' and '.'", key)
	}
	return nil
}

// Spec is a parsed --files value.
type Spec struct {
	// Kind is "db" (content in the database), "dir" or "s3".
	Kind string
	// Path is the directory of a dir store.
	Path string
	// URL is the s3:// URL of an S3 store.
	URL *url.URL
}

// ParseSpec parses a file store setting:
//
//	db                           content in the database (as before)
//	dir:PATH                     a directory on disk
//	s3://BUCKET[/PREFIX]?endpoint=URL&region=R&lookup=path|dns
//
// S3 credentials come from the environment (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or MINIO_ACCESS_KEY and MINIO_SECRET_KEY).
func ParseSpec(s string) (Spec, error) {
	switch {
	case s == "db":
		return Spec{Kind: "db"}, nil
	case strings.HasPrefix(s, "dir:"):
		p := strings.TrimPrefix(s, "dir:")
		if p == "" {
			return Spec{}, errors.New("file store dir: needs a path, e.g. dir:/var/lib/outpost/files")
		}
		return Spec{Kind: "dir", Path: filepath.Clean(p)}, nil
	case strings.HasPrefix(s, "s3://"):
		u, err := url.Parse(s)
		if err != nil {
			return Spec{}, fmt.Errorf("file store %q: %w", s, err)
		}
		if u.Host == "" {
			return Spec{}, fmt.Errorf("file store %q: name the bucket, e.g. s3://outpost-files?region=eu-west-1", s)
		}
		for k := range u.Query() {
			if k != "endpoint" && k != "region" && k != "lookup" {
				return Spec{}, fmt.Errorf("file store %q: unknown parameter %q (accepted: endpoint, region, lookup)", s, k)
			}
		}
		return Spec{Kind: "s3", URL: u}, nil
	}
	return Spec{}, fmt.Errorf("file store %q: use db, dir:PATH or s3://BUCKET[/PREFIX]?endpoint=URL", s)
}

// Open opens the store of spec; nil (and no error) for "db".
func Open(ctx context.Context, spec Spec, getenv func(string) string) (Store, error) {
	switch spec.Kind {
	case "dir":
		return NewDir(spec.Path)
	case "s3":
		return OpenS3(ctx, spec.URL, getenv)
	}
	return nil, nil
}
