package apps

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/outposthq/outpost/sqlgen"

	"github.com/outposthq/outpost/bundle"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
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
	files, err := bundle.Check(b)
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
		return s.storeBundle(ctx, w, id, b, hash)
	})
	if err != nil {
		return nil, err
	}
	return &Bundle{AppID: id, Size: int64(len(b)), SHA256: hash, Files: files, ModifiedOn: now.UTC()}, nil
}

// storeBundle stores checked zip b, of SHA-256 hash, as app id's bundle
// in w, replacing any earlier one.
func (s *Service) storeBundle(ctx context.Context, w *platform.Writer, id string, b []byte, hash string) error {
	if _, err := s.stmt(`DELETE FROM outpost_canvasbundle WHERE appid = `).Arg(id).Exec(ctx, w.Tx()); err != nil {
		return fmt.Errorf("replace the bundle of app %s: %w", id, err)
	}
	_, err := s.stmt(`INSERT INTO outpost_canvasbundle (appid, content, size, sha256, modifiedon) VALUES (`).
		Args(id, b, int64(len(b)), hash, s.timeArg(w.Now())).SQL(`)`).Exec(ctx, w.Tx())
	if err != nil {
		return fmt.Errorf("store the bundle of app %s: %w", id, err)
	}
	return nil
}

// bundleInfo describes app id's bundle, nil when it has none.
func (s *Service) bundleInfo(ctx context.Context, id string) (*BundleInfo, error) {
	var b BundleInfo
	var on any
	err := s.stmt(`SELECT size, sha256, modifiedon FROM outpost_canvasbundle WHERE appid = `).Arg(id).QueryRow(ctx, s.p.DB().Read).Scan(&b.Size, &b.SHA256, &on)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the bundle of app %s: %w", id, err)
	}
	b.ModifiedOn = sqlgen.TimeValue(on).UTC()
	return &b, nil
}

// GetBundle returns canvas app id's bundle (the zip as uploaded) and its
// SHA-256, for anyone who may read the app.
func (s *Service) GetBundle(ctx context.Context, by *security.Principal, id string) ([]byte, string, error) {
	if _, err := s.GetApp(ctx, by, id); err != nil {
		return nil, "", err
	}
	var b []byte
	var hash string
	err := s.stmt(`SELECT content, sha256 FROM outpost_canvasbundle WHERE appid = `).Arg(id).QueryRow(ctx, s.p.DB().Read).Scan(&b, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", outpost.NotFoundf("canvas app %s has no bundle yet: a maker uploads one with PUT /api/offline/apps/%s/bundle", id, id).WithTarget("bundle")
	}
	if err != nil {
		return nil, "", fmt.Errorf("load the bundle of app %s: %w", id, err)
	}
	return b, hash, nil
}
