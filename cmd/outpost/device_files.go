package main

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/outposthq/outpost/client"
)

// putFile queues the file at path for column of row id of table.
func (d *deviceCmd) putFile(ctx context.Context, c *client.Client, args []string) error {
	if len(args) != 4 {
		return errors.New("usage: outpost device put-file TABLE ID COLUMN PATH")
	}
	content, err := os.ReadFile(args[3])
	if err != nil {
		return err
	}
	name := filepath.Base(args[3])
	fid, err := c.PutFile(ctx, args[0], args[1], args[2], name, mime.TypeByExtension(filepath.Ext(name)), content)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Stored %s (%d bytes) as file %s of %s %s %s (queued for upload)\n", name, len(content), fid, args[0], args[1], args[2])
	return nil
}

// getFile writes the device's copy of a file to path ("-": stdout).
func (d *deviceCmd) getFile(ctx context.Context, c *client.Client, args []string) error {
	if len(args) != 4 {
		return errors.New("usage: outpost device get-file TABLE ID COLUMN PATH")
	}
	f, err := c.GetFile(ctx, args[0], args[1], args[2])
	if err != nil {
		return err
	}
	if args[3] == "-" {
		_, err := d.stdout.Write(f.Content)
		return err
	}
	if err := os.WriteFile(args[3], f.Content, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Wrote %s (%s, %d bytes) to %s\n", f.Name, f.MimeType, f.Size, args[3])
	return nil
}

// filesLine is the status page's files and images line.
func filesLine(st *client.Status) string {
	s := fmt.Sprintf("%d stored (%.1f MB), %d to download, %d queued for upload", st.Files.Stored, float64(st.Files.StoredBytes)/1e6, st.Files.Missing, st.Files.Pending)
	if p := st.Progress; st.Syncing && p.Phase == "files" {
		s += fmt.Sprintf("; downloading %d/%d files, %.1f/%.1f MB", p.Files, p.FilesTotal, float64(p.FileBytes)/1e6, float64(p.FileBytesTotal)/1e6)
	}
	return s
}

func filesBar(p client.Progress) string {
	const width = 30
	frac := min(float64(p.FileBytes)/float64(max(p.FileBytesTotal, 1)), 1)
	n := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%%  %d/%d files  %.1f/%.1f MB  %-20s", strings.Repeat("#", n), strings.Repeat(".", width-n),
		frac*100, p.Files, p.FilesTotal, float64(p.FileBytes)/1e6, float64(p.FileBytesTotal)/1e6, p.Table)
}
