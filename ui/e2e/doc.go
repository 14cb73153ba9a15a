// Package e2e drives the player in Debian's Chromium against the real
// outpost binary: a demo server, a device agent and, between them, a
// proxy that cuts the agent's link to the server (the browser's own
// offline switch would also cut its link to the agent).
//
// OUTPOST_SCREENSHOTS=docs/screenshots (relative to the repository root)
// writes the screenshots the README links; otherwise they go to a
// temporary directory.
package e2e
