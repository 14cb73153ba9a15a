package profile

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// Limits of a canvas app's bundle.
const (
	MaxBundleBytes    = 2 << 20 // the zip as uploaded
	MaxBundleUnpacked = 8 << 20 // its files, unpacked
	MaxBundleFiles    = 200
)

// Bundle describes a canvas app's web bundle: a zip of static files
// (HTML, JavaScript, CSS, images) with index.html at its root.
type Bundle struct {
	AppID      string    `json:"appId"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Files      []string  `json:"files"`
	ModifiedOn time.Time `json:"modifiedOn"`
}

// CheckBundle reads zip b as a bundle and returns its file names. It
// refuses what is not a zip, a path that leaves the bundle, more files or
// bytes than the limits, and a bundle without index.html at its root.
func CheckBundle(b []byte) ([]string, error) {
	if len(b) > MaxBundleBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle is %d bytes: a canvas app's bundle may be at most %d bytes zipped", len(b), MaxBundleBytes).WithTarget("bundle")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, outpost.Invalidf("the bundle is not a zip archive (%v): upload a .zip of the app's files with index.html at its root", err).WithTarget("bundle")
	}
	var names []string
	var total int64
	index := false
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry
		}
		if !fs.ValidPath(f.Name) || strings.Contains(f.Name, `\`) {
			return nil, outpost.Invalidf("the bundle holds %q: file names must be relative paths with / and without . or .. parts", f.Name).WithTarget("bundle")
		}
		if !f.Mode().IsRegular() {
			return nil, outpost.Invalidf("the bundle holds %q, which is not a regular file: only files are accepted", f.Name).WithTarget("bundle")
		}
		if len(names) == MaxBundleFiles {
			return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle holds more than %d files", MaxBundleFiles).WithTarget("bundle")
		}
		rc, err := f.Open()
		if err != nil {
			return nil, outpost.Invalidf("the bundle's file %q cannot be read: %v", f.Name, err).WithTarget("bundle")
		}
		// Count the bytes really unpacked: a zip's sizes may lie.
		n, err := io.Copy(io.Discard, io.LimitReader(rc, MaxBundleUnpacked-total+1))
		rc.Close()
		if err != nil {
			return nil, outpost.Invalidf("the bundle's file %q cannot be read: %v", f.Name, err).WithTarget("bundle")
		}
		if total += n; total > MaxBundleUnpacked {
			return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle's files unpack to more than %d bytes", MaxBundleUnpacked).WithTarget("bundle")
		}
		index = index || f.Name == "index.html"
		names = append(names, f.Name)
	}
	if !index {
		return nil, outpost.Invalidf("the bundle has no index.html at its root: the player opens index.html").WithTarget("bundle")
	}
	return names, nil
}

// PutBundle stores zip b as canvas app id's bundle, replacing any earlier
// one. It needs by's write privilege on the app.
func (s *Service) PutBundle(ctx context.Context, by *security.Principal, id string, b []byte) (*Bundle, error) {
	a, err := s.GetApp(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if a.Kind != Canvas {
		return nil, outpost.Invalidf("app %s is a model-driven app: only canvas apps have a bundle", id).WithTarget("id")
	}
	files, err := CheckBundle(b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	hash := hex.EncodeToString(sum[:])
	var now time.Time
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		// Writing the app row checks by's write privilege on it.
		if _, err := w.Update(ctx, by, "canvasapp", id, map[string]any{"name": a.Name}); err != nil {
			return err
		}
		now = w.Now()
		if _, err := w.Tx().ExecContext(ctx, `DELETE FROM outpost_canvasbundle WHERE appid = `+s.ph(1, 1), id); err != nil {
			return fmt.Errorf("replace the bundle of app %s: %w", id, err)
		}
		_, err := w.Tx().ExecContext(ctx, `INSERT INTO outpost_canvasbundle (appid, content, size, sha256, modifiedon) VALUES (`+s.ph(1, 5)+`)`,
			id, b, int64(len(b)), hash, s.timeArg(now))
		if err != nil {
			return fmt.Errorf("store the bundle of app %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Bundle{AppID: id, Size: int64(len(b)), SHA256: hash, Files: files, ModifiedOn: now.UTC()}, nil
}

// GetBundle returns canvas app id's bundle (the zip as uploaded) and its
// SHA-256, for anyone who may read the app.
func (s *Service) GetBundle(ctx context.Context, by *security.Principal, id string) ([]byte, string, error) {
	if _, err := s.GetApp(ctx, by, id); err != nil {
		return nil, "", err
	}
	var b []byte
	var hash string
	err := s.p.DB().Read.QueryRowContext(ctx, `SELECT content, sha256 FROM outpost_canvasbundle WHERE appid = `+s.ph(1, 1), id).Scan(&b, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", outpost.NotFoundf("canvas app %s has no bundle yet: a maker uploads one with PUT /api/offline/apps/%s/bundle", id, id).WithTarget("bundle")
	}
	if err != nil {
		return nil, "", fmt.Errorf("load the bundle of app %s: %w", id, err)
	}
	return b, hash, nil
}
