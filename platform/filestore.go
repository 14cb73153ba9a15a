package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filestore"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

// Where file content lives. outpost_file keeps every file's metadata and
// the SHA-256 of its content; the content itself is in the database
// (contentstore "", the content column) or in the platform's file store
// (contentstore its kind, contentkey the object's key, content empty).
// Empty files always stay in the database.
//
// Objects and transactions: an object is put before the row that names it
// is inserted, under a fresh key (file id and a random suffix), so no
// object is ever overwritten; when the transaction (or the savepoint
// around it) rolls back, the object is removed again. An object whose row
// is deleted is removed only once the delete commits, so a rolled-back
// delete never loses content. A crash between the two leaves at most an
// orphan object, never a row without its content.

// objectLog is a transaction's file store objects.
type objectLog struct {
	put, dropped []string
}

// mark returns the log's position, for a savepoint.
func (l *objectLog) mark() [2]int { return [2]int{len(l.put), len(l.dropped)} }

// rollBackObjects removes the objects put since m and forgets the drops
// since m (a savepoint rolled back).
func (w *Writer) rollBackObjects(ctx context.Context, m [2]int) {
	w.removeObjects(ctx, w.objects.put[m[0]:])
	w.objects.put, w.objects.dropped = w.objects.put[:m[0]], w.objects.dropped[:m[1]]
}

// settleObjects ends the transaction's object log: the dropped objects are
// removed when it committed, the put ones when it did not.
func (w *Writer) settleObjects(ctx context.Context, committed bool) {
	if committed {
		w.removeObjects(ctx, w.objects.dropped)
	} else {
		w.removeObjects(ctx, w.objects.put)
	}
	w.objects = objectLog{}
}

func (w *Writer) removeObjects(ctx context.Context, keys []string) {
	if w.p.files == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		if err := w.p.files.Delete(ctx, k); err != nil {
			w.p.logger.Warn("file store object left behind", "store", w.p.files.String(), "key", k, "err", err)
		}
	}
}

// insertFile records info with content: in the file store when there is
// one and content is not empty, else in the database.
func (w *Writer) insertFile(ctx context.Context, info *FileInfo, content []byte) error {
	sum := sha256.Sum256(content)
	kind, key := "", ""
	if w.p.files != nil && len(content) > 0 {
		kind, key = w.p.files.Kind(), info.ID+"."+randomSuffix()
		if err := w.p.files.Put(ctx, key, content); err != nil {
			return err
		}
		w.objects.put = append(w.objects.put, key)
		content = []byte{}
	}
	d := w.p.db.Dialect
	_, err := w.tx.ExecContext(ctx, `INSERT INTO outpost_file (fileid, tablename, objectid, columnname, filename, mimetype, size, content, version, contentstore, contentkey, sha256) VALUES (`+placeholders(d, 1, 12)+`)`,
		info.ID, info.Table, info.RowID, info.Column, info.Name, info.MimeType, info.Size, content, info.Version, kind, key, hex.EncodeToString(sum[:]))
	if err != nil && key != "" {
		// The caller may go on with the transaction: the object goes now.
		w.objects.put = w.objects.put[:len(w.objects.put)-1]
		w.removeObjects(ctx, []string{key})
	}
	return err
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deleteFileContent deletes file fileID; its object goes once w commits.
func (w *Writer) deleteFileContent(ctx context.Context, fileID string) error {
	return w.deleteFilesWhere(ctx, "fileid = "+w.p.db.Dialect.Placeholder(1), fileID)
}

// deleteFilesOf deletes the files of rows ids of t (the rows are being
// deleted).
func (w *Writer) deleteFilesOf(ctx context.Context, t *schema.Table, ids []string) error {
	has := false
	for _, c := range t.Columns {
		has = has || c.Type == schema.File || c.Type == schema.Image
	}
	if !has {
		return nil
	}
	b := sqlgen.NewBuilder(w.p.db.Dialect)
	b.SQL("tablename = ").Arg(t.Name).SQL(" AND objectid IN (").StringsArgs(ids).SQL(")")
	where, args := b.Build()
	return w.deleteFilesWhere(ctx, where, args...)
}

func (w *Writer) deleteFilesWhere(ctx context.Context, where string, args ...any) error {
	rows, err := w.tx.QueryContext(ctx, `SELECT contentkey FROM outpost_file WHERE contentkey <> '' AND `+where, args...)
	if err != nil {
		return fmt.Errorf("find file objects: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return fmt.Errorf("find file objects: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("find file objects: %w", err)
	}
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM outpost_file WHERE `+where, args...); err != nil {
		return fmt.Errorf("delete files: %w", err)
	}
	w.objects.dropped = append(w.objects.dropped, keys...)
	return nil
}

// readFile reads file fid, or returns nil when there is none. With
// content, the content is read from where it lives and checked against the
// recorded size and SHA-256: damaged or missing content is an error that
// says so, never wrong bytes.
func (p *Platform) readFile(ctx context.Context, q querier, fid string, content bool) (*File, error) {
	f := &File{}
	var kind, key, sum string
	cols := "fileid, tablename, objectid, columnname, filename, mimetype, size, version, contentstore, contentkey, sha256"
	dst := []any{&f.ID, &f.Table, &f.RowID, &f.Column, &f.Name, &f.MimeType, &f.Size, &f.Version, &kind, &key, &sum}
	if content {
		cols += ", content"
		dst = append(dst, &f.Content)
	}
	err := q.QueryRowContext(ctx, `SELECT `+cols+` FROM outpost_file WHERE fileid = `+p.db.Dialect.Placeholder(1), fid).Scan(dst...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", fid, err)
	}
	if !content {
		return f, nil
	}
	if kind != "" {
		if f.Content, err = p.readObject(ctx, fid, kind, key); err != nil {
			return nil, err
		}
	}
	if f.Content == nil {
		f.Content = []byte{}
	}
	if err := checkContent(f, kind, sum); err != nil {
		return nil, err
	}
	return f, nil
}

// readObject reads the content of file fid from the file store.
func (p *Platform) readObject(ctx context.Context, fid, kind, key string) ([]byte, error) {
	if p.files == nil || p.files.Kind() != kind {
		where := "no file store"
		if p.files != nil {
			where = "the file store " + p.files.String()
		}
		return nil, &outpost.Error{Code: outpost.CodeInternal, Message: fmt.Sprintf("the content of file %s is in a %s file store, but this server uses %s: start it with the file store that holds it (--files)", fid, kind, where)}
	}
	b, err := p.files.Get(ctx, key)
	if errors.Is(err, filestore.ErrNotExist) {
		return nil, &outpost.Error{Code: outpost.CodeInternal, Message: fmt.Sprintf("the content of file %s is missing from the file store (object %s): restore it from a backup", fid, key), Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", fid, err)
	}
	return b, nil
}

// checkContent fails when f's content does not match the size and SHA-256
// recorded for it (sum "" for files recorded before checksums were kept).
func checkContent(f *File, kind, sum string) error {
	got := sha256.Sum256(f.Content)
	if int64(len(f.Content)) == f.Size && (sum == "" || sum == hex.EncodeToString(got[:])) {
		return nil
	}
	where := "the database"
	if kind != "" {
		where = "the " + kind + " file store"
	}
	return &outpost.Error{Code: outpost.CodeInternal, Message: fmt.Sprintf("the content of file %s in %s is damaged: it has %d bytes with SHA-256 %x, but %d bytes with SHA-256 %s were stored: restore it from a backup", f.ID, where, len(f.Content), got, f.Size, sum)}
}
