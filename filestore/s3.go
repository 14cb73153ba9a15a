package filestore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 keeps objects in a bucket of an S3-compatible object store (AWS S3,
// MinIO, Ceph, R2...), through minio-go, under an optional key prefix.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	desc   string
}

// OpenS3 connects to the bucket of u (s3://BUCKET[/PREFIX]?endpoint=URL&
// region=R&lookup=path|dns) and checks that it exists. endpoint defaults
// to https://s3.amazonaws.com; an http:// endpoint is used without TLS.
func OpenS3(ctx context.Context, u *url.URL, getenv func(string) string) (*S3, error) {
	q := u.Query()
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	eu, err := url.Parse(endpoint)
	if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
		return nil, fmt.Errorf("file store %s: endpoint %q is not an http:// or https:// URL", u.Redacted(), endpoint)
	}
	lookup := minio.BucketLookupAuto
	switch q.Get("lookup") {
	case "", "auto":
	case "path":
		lookup = minio.BucketLookupPath
	case "dns":
		lookup = minio.BucketLookupDNS
	default:
		return nil, fmt.Errorf("file store %s: lookup takes path, dns or auto, got %q", u.Redacted(), q.Get("lookup"))
	}
	creds := credentials.NewStatic(firstOf(getenv, "AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY"), firstOf(getenv, "AWS_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY"), getenv("AWS_SESSION_TOKEN"), credentials.SignatureV4)
	c, err := minio.New(eu.Host, &minio.Options{Creds: creds, Secure: eu.Scheme == "https", Region: q.Get("region"), BucketLookup: lookup})
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", u.Redacted(), err)
	}
	s := &S3{client: c, bucket: u.Host, prefix: strings.Trim(u.Path, "/"), desc: "s3://" + u.Host + u.Path + " at " + eu.Scheme + "://" + eu.Host}
	if s.prefix != "" {
		s.prefix += "/"
	}
	ok, err := c.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", s.desc, err)
	}
	if !ok {
		return nil, fmt.Errorf("file store %s: bucket %q does not exist: create it first", s.desc, s.bucket)
	}
	return s, nil
}

func firstOf(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// Kind returns "s3".
func (s *S3) Kind() string { return "s3" }

func (s *S3) String() string { return s.desc }

// Put uploads content under key.
func (s *S3) Put(ctx context.Context, key string, content []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(content), int64(len(content)), minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("file store %s: put %s: %w", s.desc, key, err)
	}
	return nil
}

// Get downloads the content under key.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("file store %s: get %s: %w", s.desc, key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, fmt.Errorf("file store %s: %s: %w", s.desc, key, ErrNotExist)
		}
		return nil, fmt.Errorf("file store %s: get %s: %w", s.desc, key, err)
	}
	return b, nil
}

// Delete removes key (S3 deletes of missing keys succeed).
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("file store %s: delete %s: %w", s.desc, key, err)
	}
	return nil
}
