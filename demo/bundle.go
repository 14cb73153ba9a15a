package demo

import (
	"archive/zip"
	"bytes"
	"embed"
	"io/fs"
	"path"
)

// canvasFiles is the web bundle of the canvas app "Field Inspections".
//
//go:embed canvas
var canvasFiles embed.FS

// FieldInspectionsBundle zips the bundle of "Field Inspections" (index.html
// at its root), as a maker would upload it.
func FieldInspectionsBundle() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := fs.WalkDir(canvasFiles, "canvas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := canvasFiles.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(path.Clean(p[len("canvas/"):]))
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
