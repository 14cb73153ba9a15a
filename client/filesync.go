package client

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/wire"
)

func decodeJSONBody(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(v)
}

// syncFiles downloads the content of every file the local rows hold and
// the device lacks, one file per local transaction, then drops content
// nothing refers to any more. A cut download keeps the bytes it got and
// resumes with a Range request; files already stored are not fetched
// again. Progress reports files and bytes.
func (c *Client) syncFiles(ctx context.Context, opts SyncOptions, res *SyncResult) error {
	missing, err := c.missingFiles(ctx)
	if err != nil {
		return err
	}
	var infos []wire.FileInfo
	for len(missing) > 0 {
		n := min(len(missing), wire.MaxFilesRequest)
		var resp wire.FilesResponse
		if err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/files", wire.FilesRequest{DeviceID: c.DeviceID(), IDs: missing[:n]}, &resp); err != nil {
			return err
		}
		infos = append(infos, resp.Files...)
		missing = missing[n:]
	}
	p := Progress{Phase: "files", FilesTotal: len(infos)}
	for _, f := range infos {
		p.FileBytesTotal += f.Size
	}
	report := func() {
		_, p.Bytes = c.Traffic()
		c.setProgress(p)
		if opts.OnProgress != nil {
			opts.OnProgress(p)
		}
	}
	if len(infos) > 0 {
		report()
	}
	for _, f := range infos {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if err := c.fetchFile(ctx, f); err != nil {
			return err
		}
		p.Table = f.Table
		p.Files++
		p.FileBytes += f.Size
		res.Files++
		res.FileBytes += f.Size
		report()
	}
	return c.dropUnusedFiles(ctx)
}

// fetchFile downloads one file and stores it. A file the server no longer
// has for the device (replaced meanwhile) is skipped: the next delta
// brings its row's new value.
func (c *Client) fetchFile(ctx context.Context, f wire.FileInfo) error {
	var have []byte
	err := c.db.QueryRowContext(ctx, `SELECT content FROM outpost_filepart WHERE fileid = ?`, f.ID).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read partial file %s: %w", f.ID, err)
	}
	header := map[string]string{}
	if len(have) > 0 && int64(len(have)) < f.Size {
		header["Range"] = fmt.Sprintf("bytes=%d-", len(have))
	}
	path := wire.Prefix + "/files/" + f.ID + "?deviceId=" + url.QueryEscape(c.DeviceID())
	resp, err := c.r.send(ctx, http.MethodGet, path, nil, header)
	if outpost.ErrorCode(err) == outpost.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := &bytes.Buffer{}
	if resp.StatusCode == http.StatusPartialContent {
		buf.Write(have)
	}
	if _, err := io.Copy(buf, io.LimitReader(resp.Body, f.Size+1-int64(buf.Len()))); err != nil {
		if buf.Len() > 0 {
			if _, serr := c.db.ExecContext(context.WithoutCancel(ctx), `INSERT OR REPLACE INTO outpost_filepart (fileid, content) VALUES (?, ?)`, f.ID, buf.Bytes()); serr != nil {
				return errors.Join(err, serr)
			}
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("download file %s: %w: %w", f.ID, ErrUnreachable, err)
	}
	if int64(buf.Len()) != f.Size {
		_, _ = c.db.ExecContext(ctx, `DELETE FROM outpost_filepart WHERE fileid = ?`, f.ID)
		return fmt.Errorf("download file %s: got %d bytes, want %d", f.ID, buf.Len(), f.Size)
	}
	return inTx(ctx, c.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO outpost_filedata (fileid, tablename, rowid, columnname, name, mimetype, size, version, content, staged)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`, f.ID, f.Table, f.RowID, f.Column, f.Name, f.MimeType, f.Size, f.Version, buf.Bytes()); err != nil {
			return fmt.Errorf("store file %s: %w", f.ID, err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM outpost_filepart WHERE fileid = ?`, f.ID)
		return err
	})
}
