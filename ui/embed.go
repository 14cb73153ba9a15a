//go:build !no_ui

// Package ui holds Outpost's web front ends, built into dist/ by
// `npm run build` (sources in player/, portal/ and shared/) and embedded in the
// binary, so `go build` needs no Node. Build with the tag no_ui to leave
// them out.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Player is the field player's files (index.html at the root).
var Player fs.FS = mustSub("dist/player")

// Portal is the maker portal's files (index.html at the root), served by
// the server under /portal/.
var Portal fs.FS = mustSub("dist/portal")

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(dist, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
