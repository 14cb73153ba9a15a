// Package bundle reads a canvas app's web bundle: a zip of static files
// (HTML, JavaScript, CSS, images) with index.html at its root. The server
// checks a bundle when a maker uploads it and the device agent when it
// downloads one, with the same limits and messages.
package bundle

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"strings"

	"github.com/outposthq/outpost"
)

// Limits of a canvas app's bundle.
const (
	MaxBytes    = 2 << 20 // the zip as uploaded
	MaxUnpacked = 8 << 20 // its files, unpacked
	MaxFiles    = 200
)

// Check reads zip b as a bundle and returns its file names. It
// refuses what is not a zip, a path that leaves the bundle, more files or
// bytes than the limits, and a bundle without index.html at its root.
func Check(b []byte) ([]string, error) {
	if len(b) > MaxBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle is %d bytes: a canvas app's bundle may be at most %d bytes zipped", len(b), MaxBytes).WithTarget("bundle")
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
		if len(names) == MaxFiles {
			return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle holds more than %d files", MaxFiles).WithTarget("bundle")
		}
		rc, err := f.Open()
		if err != nil {
			return nil, outpost.Invalidf("the bundle's file %q cannot be read: %v", f.Name, err).WithTarget("bundle")
		}
		// Count the bytes really unpacked: a zip's sizes may lie.
		n, err := io.Copy(io.Discard, io.LimitReader(rc, MaxUnpacked-total+1))
		rc.Close()
		if err != nil {
			return nil, outpost.Invalidf("the bundle's file %q cannot be read: %v", f.Name, err).WithTarget("bundle")
		}
		if total += n; total > MaxUnpacked {
			return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle's files unpack to more than %d bytes", MaxUnpacked).WithTarget("bundle")
		}
		index = index || f.Name == "index.html"
		names = append(names, f.Name)
	}
	if !index {
		return nil, outpost.Invalidf("the bundle has no index.html at its root: the player opens index.html").WithTarget("bundle")
	}
	return names, nil
}
