package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir keeps each object in a file under its root: ROOT/ab/KEY, where ab
// are the key's first two characters (so no directory grows too large).
// Files are written to a temporary name, synced and renamed, so a crash
// never leaves half an object under its key. Files are mode 0600.
type Dir struct {
	root string
}

// NewDir opens (creating it when missing) the directory store at root.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("file store directory %s: %w", root, err)
	}
	return &Dir{root: root}, nil
}

// Kind returns "dir".
func (d *Dir) Kind() string { return "dir" }

// Root returns the directory.
func (d *Dir) Root() string { return d.root }

func (d *Dir) String() string { return "dir:" + d.root }

// Path returns the file of key, relative to the root.
func Path(key string) string {
	return filepath.Join(key[:2], key)
}

// Put writes content under key.
func (d *Dir) Put(_ context.Context, key string, content []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	dst := filepath.Join(d.root, Path(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	return writeFile(dst, content)
}

// writeFile writes content to dst through a synced temporary file.
func writeFile(dst string, content []byte) error {
	f, err := os.CreateTemp(filepath.Dir(dst), ".put-*")
	if err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("file store: write %s: %w", dst, err)
	}
	return nil
}

// Get reads the content under key.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(d.root, Path(key)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file store %s: %s: %w", d, key, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	return b, nil
}

// Delete removes key.
func (d *Dir) Delete(_ context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(d.root, Path(key)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

// CopyObject copies the object key from the directory store at src to the
// one at dst (a real copy, never a link: a backup must not share the
// disk blocks of what it backs up). An object already at dst is kept
// (objects are immutable).
func CopyObject(src, dst, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	from, to := filepath.Join(src, Path(key)), filepath.Join(dst, Path(key))
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(to); err == nil {
		return nil
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return writeFile(to, b)
}

// Keys returns the keys of the objects in the store (temporary files of
// puts in progress left out).
func (d *Dir) Keys() ([]string, error) {
	var keys []string
	err := filepath.WalkDir(d.root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && CheckKey(e.Name()) == nil && filepath.Join(d.root, Path(e.Name())) == path {
			keys = append(keys, e.Name())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list file store %s: %w", d, err)
	}
	return keys, nil
}
