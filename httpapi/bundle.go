package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/outposthq/outpost/bundle"

	"github.com/outposthq/outpost"
)

// bundleRoutes registers a canvas app's web bundle: PUT uploads a zip
// (maker, write on the app), GET downloads it (anyone who may read the app).
func (s *Server) bundleRoutes() {
	s.Handle("PUT /api/offline/apps/{id}/bundle", s.putBundle)
	s.Handle("GET /api/offline/apps/{id}/bundle", s.getBundle)
}

func (s *Server) putBundle(w http.ResponseWriter, r *http.Request) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, bundle.MaxBytes+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(b) > bundle.MaxBytes {
		return outpost.Errorf(outpost.CodeTooLarge, "a canvas app's bundle may be at most %d bytes zipped", bundle.MaxBytes).WithTarget("bundle")
	}
	if err != nil {
		return err
	}
	bd, err := s.profiles.PutBundle(r.Context(), principalOf(r), r.PathValue("id"), b)
	return reply(w, http.StatusOK, bd, err)
}

func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) error {
	b, hash, err := s.profiles.GetBundle(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("ETag", `"`+hash+`"`)
	_, err = w.Write(b)
	return err
}
