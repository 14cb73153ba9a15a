//go:build no_ui

package ui

import "io/fs"

// Player is nil when the binary is built without the UI.
var Player fs.FS

// Portal is nil when the binary is built without the UI.
var Portal fs.FS
