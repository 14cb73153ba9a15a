package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/store"
)

// Default per-file size limits of Options.
const (
	DefaultMaxFileBytes  = 32 << 20
	DefaultMaxImageBytes = 10 << 20
)

// maxFileName is the longest file name accepted, in characters.
const maxFileName = 255

// ErrNoFile is the cause (errors.Is) of the not-found error for a file or
// image column that holds no file.
var ErrNoFile = errors.New("no file in the column")

// FileInfo describes a stored file: the row and column it belongs to. A
// file id names immutable content: replacing a file stores a new id.
type FileInfo struct {
	ID       string
	Table    string
	RowID    string
	Column   string
	Name     string
	MimeType string
	Size     int64
	// Version is the version of the write that stored the file (the row's
	// version at that moment).
	Version int64
}

// File is a stored file with its content.
type File struct {
	FileInfo
	Content []byte
}

// FileInput is the content to put into a file or image column.
type FileInput struct {
	// Name is the file's name; a path is cut to its last element. Empty
	// means the column's name.
	Name string
	// MimeType is the declared type; empty means sniffed from the content
	// (net/http.DetectContentType). Images always get the sniffed type,
	// which must be an image type.
	MimeType string
	Content  []byte
	// ID is the new file's id; empty makes one. Devices choose it, so the
	// content they hold already needs no download after the upload.
	ID string
}

// MaxFileBytes returns the size limit of one file of a column of type typ
// (file or image).
func (p *Platform) MaxFileBytes(typ schema.Type) int64 {
	if typ == schema.Image {
		return p.maxImage
	}
	return p.maxFile
}

// fileColumn resolves table and column, which must be a file or image column.
func (p *Platform) fileColumn(table, column string) (*schema.Table, *schema.Column, error) {
	t, err := p.Schema().LookupTable(table)
	if err != nil {
		return nil, nil, err
	}
	c, ok := t.Column(column)
	if !ok {
		return nil, nil, outpost.NotFoundf("table %q has no column %q", t.Name, column).WithTarget("column")
	}
	if c.Type != schema.File && c.Type != schema.Image {
		return nil, nil, outpost.Invalidf("column %q of table %q is a %s column, not a file or image column", c.Name, t.Name, c.Type).WithTarget("column")
	}
	return t, c, nil
}

// checkFile validates in for column c of t and returns the name and MIME
// type to store.
func (p *Platform) checkFile(t *schema.Table, c *schema.Column, in FileInput) (name, mimeType string, err error) {
	if limit := p.MaxFileBytes(c.Type); int64(len(in.Content)) > limit {
		return "", "", outpost.Errorf(outpost.CodeTooLarge, "%s column %q of table %q takes at most %d bytes, got %d", c.Type, c.Name, t.Name, limit, len(in.Content)).WithTarget("content")
	}
	name = in.Name
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = c.Name
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", "", outpost.Invalidf("the file name must be UTF-8 text without control characters").WithTarget("name")
	}
	if n := utf8.RuneCountInString(name); n > maxFileName {
		return "", "", outpost.Invalidf("the file name takes at most %d characters, got %d", maxFileName, n).WithTarget("name")
	}
	declared := ""
	if in.MimeType != "" {
		mt, params, err := mime.ParseMediaType(in.MimeType)
		if err != nil {
			return "", "", outpost.Invalidf("%q is not a MIME type such as application/pdf", in.MimeType).WithTarget("mimeType")
		}
		declared = mime.FormatMediaType(mt, params)
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(in.Content))
	if c.Type == schema.Image {
		if declared != "" && !strings.HasPrefix(declared, "image/") {
			return "", "", outpost.Invalidf("image column %q of table %q takes an image type such as image/png or image/jpeg, got %q", c.Name, t.Name, in.MimeType).WithTarget("mimeType")
		}
		if !strings.HasPrefix(sniffed, "image/") {
			return "", "", outpost.Invalidf("image column %q of table %q takes PNG, JPEG, GIF, WebP, BMP or ICO images; the content is %s", c.Name, t.Name, sniffed).WithTarget("content")
		}
		return name, sniffed, nil
	}
	if declared == "" || declared == "application/octet-stream" {
		declared = sniffed
	}
	return name, declared, nil
}

// PutFile stores in as the file of column of row id of table, replacing
// (and deleting) the file it held. by needs the Write privilege on the row.
// The row gets w's version, so deltas carry the new file id.
func (w *Writer) PutFile(ctx context.Context, by *security.Principal, table, id, column string, in FileInput) (*FileInfo, error) {
	t, c, err := w.p.fileColumn(table, column)
	if err != nil {
		return nil, err
	}
	row, err := w.getAllowed(ctx, by, t, id, security.Write)
	if err != nil {
		return nil, err
	}
	name, mimeType, err := w.p.checkFile(t, c, in)
	if err != nil {
		return nil, err
	}
	fid := strings.ToLower(in.ID)
	if fid == "" {
		fid = outpost.NewID()
	} else if !outpost.ValidID(fid) {
		return nil, outpost.Invalidf("file id %q is not a UUID", in.ID).WithTarget("fileId")
	}
	id = strings.ToLower(id)
	info := &FileInfo{ID: fid, Table: t.Name, RowID: id, Column: c.Name, Name: name, MimeType: mimeType, Size: int64(len(in.Content)), Version: w.version}
	content := in.Content
	if content == nil {
		content = []byte{}
	}
	if err := w.insertFile(ctx, info, content); err != nil {
		if w.p.db.IsUnique(err) {
			return nil, outpost.Conflictf("a file with id %s exists already", fid).WithTarget("fileId")
		}
		return nil, fmt.Errorf("store file of %s %s %s: %w", t.Name, id, c.Name, err)
	}
	if old, _ := row[c.Name].(string); old != "" {
		if err := w.deleteFileContent(ctx, old); err != nil {
			return nil, err
		}
	}
	if err := w.p.updateRow(ctx, w.tx, t, id, outpost.Row{c.Name: fid}, w.version, by.UserID, w.now); err != nil {
		return nil, err
	}
	w.touch(t)
	return info, nil
}

// DeleteFile removes the file of column of row id of table and clears the
// column. by needs the Write privilege on the row. A column without a file
// gives a not-found error whose cause is ErrNoFile.
func (w *Writer) DeleteFile(ctx context.Context, by *security.Principal, table, id, column string) error {
	t, c, err := w.p.fileColumn(table, column)
	if err != nil {
		return err
	}
	row, err := w.getAllowed(ctx, by, t, id, security.Write)
	if err != nil {
		return err
	}
	old, _ := row[c.Name].(string)
	if old == "" {
		return noFile(t, c, id)
	}
	if err := w.deleteFileContent(ctx, old); err != nil {
		return err
	}
	if err := w.p.updateRow(ctx, w.tx, t, id, outpost.Row{c.Name: nil}, w.version, by.UserID, w.now); err != nil {
		return err
	}
	w.touch(t)
	return nil
}

func noFile(t *schema.Table, c *schema.Column, id string) error {
	return &outpost.Error{Code: outpost.CodeNotFound, Message: fmt.Sprintf("column %q of row %s of table %q holds no file", c.Name, id, t.Name), Target: "column", Err: ErrNoFile}
}

// PutFile stores a file in its own transaction; see Writer.PutFile.
func (p *Platform) PutFile(ctx context.Context, by *security.Principal, table, id, column string, in FileInput) (info *FileInfo, err error) {
	err = p.Write(ctx, func(w *Writer) error {
		info, err = w.PutFile(ctx, by, table, id, column, in)
		return err
	})
	return info, err
}

// DeleteFile removes a file in its own transaction; see Writer.DeleteFile.
func (p *Platform) DeleteFile(ctx context.Context, by *security.Principal, table, id, column string) error {
	return p.Write(ctx, func(w *Writer) error { return w.DeleteFile(ctx, by, table, id, column) })
}

// GetFile returns the file of column of row id of table, with its content
// when content is set. by needs the Read privilege on the row.
func (p *Platform) GetFile(ctx context.Context, by *security.Principal, table, id, column string, content bool) (*File, error) {
	t, c, err := p.fileColumn(table, column)
	if err != nil {
		return nil, err
	}
	if !outpost.ValidID(id) {
		return nil, outpost.Invalidf("%q is not a row id: use a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301", id).WithTarget("id")
	}
	id = strings.ToLower(id)
	var f *File
	err = p.db.ReadTx(ctx, func(tx *sql.Tx) error {
		row, err := p.readableRow(ctx, tx, by, t, id)
		if err != nil {
			return err
		}
		fid, _ := row[c.Name].(string)
		if fid == "" {
			return noFile(t, c, id)
		}
		f, err = p.readFile(ctx, tx, fid, content)
		if f == nil && err == nil {
			return noFile(t, c, id)
		}
		return err
	})
	return f, err
}

// FileByID returns file fileID, with its content when content is set, if
// it is still the file of its row's column and by may read the row.
func (p *Platform) FileByID(ctx context.Context, by *security.Principal, fileID string, content bool) (*File, error) {
	notFound := outpost.NotFoundf("no file has id %s", fileID).WithTarget("fileId")
	if !outpost.ValidID(fileID) {
		return nil, outpost.Invalidf("file id %q is not a UUID", fileID).WithTarget("fileId")
	}
	var f *File
	err := p.db.ReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		if f, err = p.readFile(ctx, tx, strings.ToLower(fileID), content); err != nil {
			return err
		}
		if f == nil {
			return notFound
		}
		t, ok := p.Schema().Table(f.Table)
		if !ok {
			return notFound
		}
		row, err := p.readableRow(ctx, tx, by, t, f.RowID)
		if outpost.ErrorCode(err) == outpost.CodeNotFound {
			return notFound
		}
		if err != nil {
			return err
		}
		if cur, _ := row[f.Column].(string); cur != f.ID {
			return notFound
		}
		return nil
	})
	return f, err
}

// readableRow reads row id of t if by may read it; otherwise not found.
func (p *Platform) readableRow(ctx context.Context, q store.Querier, by *security.Principal, t *schema.Table, id string) (outpost.Row, error) {
	notFound := outpost.NotFoundf("no row of table %q has id %s", t.Name, id).WithTarget("id")
	row, err := p.getRow(ctx, q, t, id)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, notFound
	}
	ok, err := p.matches(ctx, q, by, t, id, by.Filter(t, security.Read))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound
	}
	return row, nil
}
