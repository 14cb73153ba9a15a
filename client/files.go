package client

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// Files and images. A row's file or image column holds a file id; the
// content lives in outpost_filedata, keyed by that id (a file id names
// immutable content). After the rows of a sync apply, the device fetches
// the content of every id its rows hold and it lacks; content no row and
// no queued change refers to any more (a removed row, a replaced file) is
// dropped. PutFile stores the content locally under a new id, points the
// row at it and queues a wire.OpFile change; the upload stages the content
// first (PUT /files/{id}, idempotent), then sends the change in order with
// the rest of the queue.
var fileDDL = []string{
	// staged: the content was sent to the server ahead of its change.
	`CREATE TABLE IF NOT EXISTS outpost_filedata (fileid TEXT PRIMARY KEY, tablename TEXT NOT NULL, rowid TEXT NOT NULL,
		columnname TEXT NOT NULL, name TEXT NOT NULL, mimetype TEXT NOT NULL, size INTEGER NOT NULL, version INTEGER NOT NULL,
		content BLOB NOT NULL, staged INTEGER NOT NULL DEFAULT 0)`,
	// The bytes of a download cut half way, resumed with a Range request.
	`CREATE TABLE IF NOT EXISTS outpost_filepart (fileid TEXT PRIMARY KEY, content BLOB NOT NULL)`,
}

// The largest image and file the device takes, the server's default
// limits: a server set to smaller ones refuses the upload, which becomes a
// Sync Error.
const (
	MaxImageBytes = 10 << 20
	MaxFileBytes  = 32 << 20
)

// MaxBytes returns the size limit of a file of column of table (an image
// or a file column).
func (c *Client) MaxBytes(table, column string) (int64, error) {
	lt, err := c.fileColumn(table, column)
	if err != nil {
		return 0, err
	}
	return maxBytes(lt.types[column]), nil
}

func maxBytes(t schema.Type) int64 {
	if t == schema.Image {
		return MaxImageBytes
	}
	return MaxFileBytes
}

// File is a file or image held on the device.
type File struct {
	ID, Table, RowID, Column string
	Name, MimeType           string
	Size, Version            int64
	Content                  []byte
}

// FileStatus is the files and images part of the device status.
type FileStatus struct {
	Stored      int   // files and images held on the device
	StoredBytes int64 // their size
	Missing     int   // referred to by rows but not downloaded yet
	Pending     int   // queued for upload
}

// fileColumns returns the file and image columns of lt.
func fileColumns(lt *localTable) []string {
	var out []string
	for _, c := range lt.def.Columns {
		if t := schema.Type(c.Type); t == schema.File || t == schema.Image {
			out = append(out, c.Name)
		}
	}
	return out
}

func (c *Client) fileColumn(table, column string) (*localTable, error) {
	lt, err := c.table(table)
	if err != nil {
		return nil, err
	}
	typ, ok := lt.types[column]
	if !ok {
		return nil, outpost.NotFoundf("table %q has no column %q on this device", table, column).WithTarget("column")
	}
	if typ != schema.File && typ != schema.Image {
		return nil, outpost.Invalidf("column %q of table %q is a %s column, not a file or image column", column, table, typ).WithTarget("column")
	}
	return lt, nil
}

// PutFile stores content as the file of column of row id of table on the
// device and queues it for upload; it returns the new file id. The server
// re-checks privileges, the size limit and (for images) the type when the
// change arrives; a rejection becomes a Sync Error and the row reverts.
func (c *Client) PutFile(ctx context.Context, table, id, column, name, mimeType string, content []byte) (string, error) {
	lt, err := c.fileColumn(table, column)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(name) == "" {
		return "", outpost.Invalidf("name the file").WithTarget("name")
	}
	if limit := maxBytes(lt.types[column]); int64(len(content)) > limit {
		return "", outpost.Errorf(outpost.CodeTooLarge, "column %q of table %q takes files of at most %d MiB; this one has %.1f MiB", column, table, limit>>20, float64(len(content))/(1<<20)).WithTarget("content")
	}
	if len(content) == 0 {
		return "", outpost.Invalidf("the file for column %q of table %q is empty", column, table).WithTarget("content")
	}
	if mimeType == "" {
		mimeType = http.DetectContentType(content)
	}
	if lt.types[column] == schema.Image && !strings.HasPrefix(http.DetectContentType(content), "image/") {
		return "", outpost.Invalidf("image column %q of table %q takes PNG, JPEG, GIF, WebP, BMP or ICO images", column, table).WithTarget("content")
	}
	fid := outpost.NewID()
	err = c.changeLocal(ctx, lt, id, wire.OpFile, map[string]any{column: fid}, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_filedata (fileid, tablename, rowid, columnname, name, mimetype, size, version, content) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
			fid, table, id, column, name, mimeType, len(content), nonNilBytes(content)); err != nil {
			return fmt.Errorf("store file: %w", err)
		}
		return updateLocal(ctx, tx, lt, id, map[string]any{column: fid})
	})
	if err != nil {
		return "", err
	}
	return fid, nil
}

// RemoveFile clears the file of column of row id of table on the device
// and queues the removal.
func (c *Client) RemoveFile(ctx context.Context, table, id, column string) error {
	lt, err := c.fileColumn(table, column)
	if err != nil {
		return err
	}
	return c.changeLocal(ctx, lt, id, wire.OpFile, map[string]any{column: nil}, func(tx *sql.Tx) error {
		return updateLocal(ctx, tx, lt, id, map[string]any{column: nil})
	})
}

// GetFile returns the file of column of row id of table as the device
// holds it. A file not downloaded yet is a not-found error.
func (c *Client) GetFile(ctx context.Context, table, id, column string) (*File, error) {
	lt, err := c.fileColumn(table, column)
	if err != nil {
		return nil, err
	}
	d := sqlgen.SQLite
	var fid sql.NullString
	err = c.db.QueryRowContext(ctx, `SELECT `+d.Quote(column)+` FROM `+d.Quote(lt.def.Name)+` WHERE `+d.Quote(lt.pk())+` = ?`, id).Scan(&fid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outpost.NotFoundf("no row of table %q has id %s on this device", table, id).WithTarget("id")
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", table, id, err)
	}
	if !fid.Valid || fid.String == "" {
		return nil, outpost.NotFoundf("column %q of row %s of table %q holds no file", column, id, table).WithTarget("column")
	}
	f := &File{ID: fid.String}
	err = c.db.QueryRowContext(ctx, `SELECT tablename, rowid, columnname, name, mimetype, size, version, content FROM outpost_filedata WHERE fileid = ?`, fid.String).
		Scan(&f.Table, &f.RowID, &f.Column, &f.Name, &f.MimeType, &f.Size, &f.Version, &f.Content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outpost.NotFoundf("file %s of row %s is not downloaded yet: sync", fid.String, id).WithTarget("column")
	}
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", fid.String, err)
	}
	return f, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// stageFiles sends the content of the batch's file changes that the server
// does not have yet. A refusal for size is kept by the server, which then
// rejects the change with that reason, so it counts as staged too.
func (c *Client) stageFiles(ctx context.Context, batch []wire.Change) error {
	for _, ch := range batch {
		for _, fid := range fileIDs(ch) {
			var name, mimeType string
			var content []byte
			var staged bool
			err := c.db.QueryRowContext(ctx, `SELECT name, mimetype, content, staged FROM outpost_filedata WHERE fileid = ?`, fid).Scan(&name, &mimeType, &content, &staged)
			if errors.Is(err, sql.ErrNoRows) || staged {
				continue // no content: the server rejects the change and says so
			}
			if err != nil {
				return fmt.Errorf("read file %s: %w", fid, err)
			}
			path := wire.Prefix + "/files/" + fid + "?deviceId=" + url.QueryEscape(c.DeviceID())
			resp, err := c.r.send(ctx, http.MethodPut, path, content, map[string]string{"Content-Type": mimeType, wire.HeaderFileName: url.PathEscape(name)})
			if err != nil && outpost.ErrorCode(err) != outpost.CodeTooLarge {
				return err
			}
			if resp != nil {
				resp.Body.Close()
			}
			if _, err := c.db.ExecContext(ctx, `UPDATE outpost_filedata SET staged = 1 WHERE fileid = ?`, fid); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileRefs returns, per local table with file or image columns, those
// columns, in table order.
func (c *Client) fileRefs() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for name, lt := range c.tables {
		if cols := fileColumns(lt); len(cols) > 0 {
			out[name] = cols
		}
	}
	return out
}

// referenced returns a SQL query of every file id the local rows hold.
func referenced(refs map[string][]string) string {
	d := sqlgen.SQLite
	var parts []string
	for table, cols := range refs {
		for _, col := range cols {
			parts = append(parts, `SELECT `+d.Quote(col)+` AS fid FROM `+d.Quote(table)+` WHERE `+d.Quote(col)+` IS NOT NULL`)
		}
	}
	if len(parts) == 0 {
		return `SELECT NULL AS fid WHERE 0`
	}
	sort.Strings(parts)
	return strings.Join(parts, " UNION ")
}

// missingFiles returns the ids the local rows hold without content.
func (c *Client) missingFiles(ctx context.Context) ([]string, error) {
	refs := c.fileRefs()
	if len(refs) == 0 {
		return nil, nil
	}
	rows, err := c.db.QueryContext(ctx, `SELECT r.fid FROM (`+referenced(refs)+`) AS r
		WHERE NOT EXISTS (SELECT 1 FROM outpost_filedata f WHERE f.fileid = r.fid) ORDER BY r.fid`)
	if err != nil {
		return nil, fmt.Errorf("find missing files: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// dropUnusedFiles deletes content that no local row and no queued change
// refers to: removed rows, replaced files, rejected uploads.
func (c *Client) dropUnusedFiles(ctx context.Context) error {
	ref := referenced(c.fileRefs())
	_, err := c.db.ExecContext(ctx, `DELETE FROM outpost_filedata WHERE fileid NOT IN (`+ref+`)
		AND NOT EXISTS (SELECT 1 FROM outpost_queue q WHERE q.op = ? AND instr(q.data, outpost_filedata.fileid) > 0)`, wire.OpFile)
	if err != nil {
		return fmt.Errorf("drop unused files: %w", err)
	}
	if _, err := c.db.ExecContext(ctx, `DELETE FROM outpost_filepart WHERE fileid NOT IN (`+ref+`)`); err != nil {
		return fmt.Errorf("drop unused partial files: %w", err)
	}
	return nil
}

// fileStatus counts the files for the status page.
func (c *Client) fileStatus(ctx context.Context) (FileStatus, error) {
	var fs FileStatus
	if err := c.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM outpost_filedata`).Scan(&fs.Stored, &fs.StoredBytes); err != nil {
		return fs, fmt.Errorf("count files: %w", err)
	}
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM outpost_queue WHERE op = ?`, wire.OpFile).Scan(&fs.Pending); err != nil {
		return fs, fmt.Errorf("count queued files: %w", err)
	}
	missing, err := c.missingFiles(ctx)
	fs.Missing = len(missing)
	return fs, err
}
