package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/internal/fakes3"
)

func TestStores(t *testing.T) {
	ctx := context.Background()
	s3 := fakes3.Store(t)
	dir, err := filestore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []filestore.Store{dir, s3} {
		t.Run(s.Kind(), func(t *testing.T) {
			key := "3f2504e0-4f89-41d3-9a0c-0305e82c3301.ab12"
			if _, err := s.Get(ctx, key); !errors.Is(err, filestore.ErrNotExist) {
				t.Fatalf("get of a missing key: %v, want ErrNotExist", err)
			}
			content := bytes.Repeat([]byte("photo "), 1000)
			if err := s.Put(ctx, key, content); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, key)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("get = %d bytes, %v; want the %d bytes put", len(got), err, len(content))
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, filestore.ErrNotExist) {
				t.Fatalf("get after delete: %v, want ErrNotExist", err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("delete of a missing key: %v", err)
			}
			if err := s.Put(ctx, "../escape", content); err == nil {
				t.Fatal("a key with a path was accepted")
			}
		})
	}
}

func TestOpenS3MissingBucket(t *testing.T) {
	srv := fakes3.Start(t)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "nobucket"
	if _, err := filestore.OpenS3(context.Background(), u, srv.Getenv); err == nil {
		t.Fatal("a missing bucket was accepted")
	}
}

func TestParseSpec(t *testing.T) {
	for _, ok := range []string{"db", "dir:/var/lib/outpost/files", "s3://b", "s3://b/p?endpoint=http://127.0.0.1:9000&lookup=path"} {
		if _, err := filestore.ParseSpec(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dir:", "/tmp/x", "s3://", "s3://b?secret=x", "ftp://x"} {
		if _, err := filestore.ParseSpec(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
