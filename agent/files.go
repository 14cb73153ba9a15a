package agent

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
)

// The files and images of a row's file and image columns, as the device
// holds them. A file taken in a form is stored in the device's store at
// once and queued; the library uploads it with the next sync like any
// other change. Images are served inline with their sniffed image type;
// anything else is served as an attachment of type
// application/octet-stream, and every file response carries a sandbox
// Content-Security-Policy, so a file can never run as a page of the
// agent's origin.

// fileGet answers the content of a row's file or image column.
func (a *Agent) fileGet(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	f, err := dev.GetFile(r.Context(), r.PathValue("table"), r.PathValue("id"), r.PathValue("column"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'")
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	h.Set("X-Outpost-File-Id", f.ID)
	// The file's own name and the type it was stored with, for the
	// canvas host API (the name percent-encoded: headers are ASCII).
	h.Set("X-Outpost-File-Name", url.PathEscape(f.Name))
	if f.MimeType != "" {
		h.Set("X-Outpost-File-Type", f.MimeType)
	}
	disposition := "attachment"
	if ct := http.DetectContentType(f.Content); strings.HasPrefix(ct, "image/") {
		h.Set("Content-Type", ct)
		disposition = "inline"
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(f.Content)
	return err
}

// filePut stores the request body as the file of a row's column: the
// file's name is the name query parameter, its type the Content-Type
// header (sniffed when absent). It answers the row as stored.
func (a *Agent) filePut(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	table, id, column := r.PathValue("table"), r.PathValue("id"), r.PathValue("column")
	limit, err := dev.MaxBytes(table, column)
	if err != nil {
		return err
	}
	if r.ContentLength > limit {
		return tooLarge(column, limit, r.ContentLength)
	}
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return tooLarge(column, limit, -1)
	}
	if err != nil {
		return outpost.Invalidf("the file's content was cut: %v", err).WithTarget("content")
	}
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" {
		name = column
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	} else {
		ct = ""
	}
	if _, err := dev.PutFile(r.Context(), table, id, column, name, ct, content); err != nil {
		return err
	}
	return a.row(w, r, dev)
}

// fileDelete clears a row's file or image column.
func (a *Agent) fileDelete(w http.ResponseWriter, r *http.Request, dev *client.Client) error {
	if err := dev.RemoveFile(r.Context(), r.PathValue("table"), r.PathValue("id"), r.PathValue("column")); err != nil {
		return err
	}
	return a.row(w, r, dev)
}

func tooLarge(column string, limit, size int64) error {
	msg := fmt.Sprintf("column %q takes files of at most %d MiB", column, limit>>20)
	if size > 0 {
		msg += fmt.Sprintf("; this one has %.1f MiB", float64(size)/(1<<20))
	}
	return outpost.Errorf(outpost.CodeTooLarge, "%s", msg).WithTarget(column)
}
