package syncsrv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// Files and images travel beside the rows. Downloads: a row's file or
// image column holds a file id; after its rows apply, the device asks
// Files for the ids it lacks (learning names, types and sizes for its
// progress) and fetches each with File. Uploads: the device stages the
// content with StageFile, keyed by a file id it chose, then uploads a
// queued wire.OpFile change setting the column to that id; the change is
// applied through the platform in the upload's transaction, in order with
// the rest of the queue and exactly once, like any change.

// selectedFileColumns returns, per table of the session's plan, the file
// and image columns the profile selects.
func (s *session) selectedFileColumns() map[string][]string {
	out := map[string][]string{}
	for name, it := range s.items {
		t := s.sch.MustTable(name)
		for _, c := range s.cols(it) {
			col, _ := t.Column(c)
			if col.Type == schema.File || col.Type == schema.Image {
				out[name] = append(out[name], c)
			}
		}
	}
	return out
}

// fileFor returns file id (with content when asked) for the device's user
// if the device's profile selects its column.
func (e *Engine) fileFor(ctx context.Context, pr *security.Principal, selected map[string][]string, id string, content bool) (*platform.File, error) {
	f, err := e.p.FileByID(ctx, pr, id, content)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(selected[f.Table], f.Column) {
		return nil, outpost.NotFoundf("file %s is not in a column of the device's offline profile", id).WithTarget("fileId")
	}
	return f, nil
}

func (e *Engine) fileSession(ctx context.Context, by *security.Principal, deviceID string) (*security.Principal, map[string][]string, error) {
	var pr *security.Principal
	var selected map[string][]string
	err := e.read(ctx, by, deviceID, func(s *session) error {
		pr, selected = s.pr, s.selectedFileColumns()
		return nil
	})
	return pr, selected, err
}

// Files describes the files of req.IDs that the device may download: ids
// of files in the columns its profile selects, of rows its user may read.
// The others are listed as missing.
func (e *Engine) Files(ctx context.Context, by *security.Principal, req wire.FilesRequest) (*wire.FilesResponse, error) {
	if len(req.IDs) > wire.MaxFilesRequest {
		return nil, outpost.Invalidf("a files request carries at most %d ids, got %d", wire.MaxFilesRequest, len(req.IDs)).WithTarget("ids")
	}
	pr, selected, err := e.fileSession(ctx, by, req.DeviceID)
	if err != nil {
		return nil, err
	}
	out := &wire.FilesResponse{Files: []wire.FileInfo{}}
	for _, id := range req.IDs {
		f, err := e.fileFor(ctx, pr, selected, id, false)
		switch outpost.ErrorCode(err) {
		case "":
			out.Files = append(out.Files, wire.FileInfo(f.FileInfo))
		case outpost.CodeNotFound, outpost.CodeInvalid:
			out.Missing = append(out.Missing, id)
		default:
			return nil, err
		}
	}
	return out, nil
}

// File returns file id with its content for the device.
func (e *Engine) File(ctx context.Context, by *security.Principal, deviceID, id string) (*platform.File, error) {
	pr, selected, err := e.fileSession(ctx, by, deviceID)
	if err != nil {
		return nil, err
	}
	return e.fileFor(ctx, pr, selected, id, true)
}

// MaxStagedBytes is the most content StageFile accepts: the larger of the
// platform's file and image limits. The column's own limit is checked when
// the change applies.
func (e *Engine) MaxStagedBytes() int64 {
	return max(e.p.MaxFileBytes(schema.File), e.p.MaxFileBytes(schema.Image))
}

// StageFile stores the content of file id, which a queued change of the
// device will set into a file or image column. Staging is idempotent: a
// repeated send replaces the staged content, and content of a file that
// was applied already is ignored. Content over MaxStagedBytes is refused
// with a too-large error, and the refusal is kept, so the change becomes a
// Sync Error that says why. A staged id belongs to its user: another
// user's staging of it is refused (conflict). The content staged and not
// yet attached is bounded per device and per user (StagedBytesPerDevice,
// StagedBytesPerUser; CodeTooMany past them), and content older than
// StagedFileMaxAge is removed.
func (e *Engine) StageFile(ctx context.Context, by *security.Principal, deviceID, id, name, mimeType string, body io.Reader) error {
	dev, err := e.loadDevice(ctx, e.p.DB().Read, by, deviceID)
	if err != nil {
		return err
	}
	if err := e.checkAccess(ctx, by, dev.ID); err != nil {
		return err
	}
	if !outpost.ValidID(id) {
		return outpost.Invalidf("file id %q is not a UUID", id).WithTarget("fileId")
	}
	id = strings.ToLower(id)
	limit := e.MaxStagedBytes()
	content, err := io.ReadAll(io.LimitReader(body, limit+1))
	refused := ""
	var tooLarge *outpost.Error
	if err != nil {
		return fmt.Errorf("read content of file %s: %w", id, err)
	}
	if int64(len(content)) > limit {
		tooLarge = outpost.Errorf(outpost.CodeTooLarge, "the file %q is over the server's limit of %d bytes", name, limit).WithTarget("content")
		refused, content = tooLarge.Message, []byte{}
	}
	d := e.p.DB().Dialect
	err = e.p.DB().Tx(ctx, func(tx *sql.Tx) error {
		var n int
		query, args := sqlgen.NewBuilder(d).SQL(`SELECT count(*) FROM outpost_file WHERE fileid = `).Arg(id).Build()
		if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil // applied already: a late duplicate
		}
		now := e.now()
		query, args = sqlgen.NewBuilder(d).
			SQL(`DELETE FROM outpost_fileupload WHERE createdon < `).Arg(d.TimeArg(now.Add(-e.opts.StagedFileMaxAge))).Build()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		var owner string
		query, args = sqlgen.NewBuilder(d).SQL(`SELECT userid FROM outpost_fileupload WHERE fileid = `).Arg(id).Build()
		err := tx.QueryRowContext(ctx, query, args...).Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && owner != dev.UserID {
			return outpost.Conflictf("file id %s is taken: stage the content under a new id", id).WithTarget("fileId")
		}
		if err := e.stagedQuota(ctx, tx, dev, id, int64(len(content))); err != nil {
			return err
		}
		query, args = sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_fileupload WHERE fileid = `).Arg(id).Build()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		query, args = sqlgen.NewBuilder(d).SQL(`INSERT INTO outpost_fileupload (fileid, deviceid, userid, filename, mimetype, size, content, refused, createdon) VALUES (`).
			Args(id, dev.ID, dev.UserID, name, mimeType, int64(len(content)), content, refused, d.TimeArg(now)).SQL(")").Build()
		_, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil && outpost.ErrorCode(err) != outpost.CodeInternal {
		return err
	}
	if err != nil {
		return fmt.Errorf("stage file %s: %w", id, err)
	}
	if tooLarge != nil {
		return tooLarge
	}
	return nil
}

// stagedQuota fails when staging size more bytes as file id would take
// the device's or its user's staged content over its limit (the content
// staged under id itself, which staging replaces, does not count).
func (e *Engine) stagedQuota(ctx context.Context, tx *sql.Tx, dev device, id string, size int64) error {
	d := e.p.DB().Dialect
	for _, q := range []struct {
		column, key, whose string
		limit              int64
	}{
		{"deviceid", dev.ID, "this device", e.opts.StagedBytesPerDevice},
		{"userid", dev.UserID, "this user", e.opts.StagedBytesPerUser},
	} {
		var staged sql.NullInt64
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT sum(size) FROM outpost_fileupload WHERE `).SQL(q.column).SQL(` = `).Arg(q.key).
			SQL(` AND fileid <> `).Arg(id).Build()
		err := tx.QueryRowContext(ctx, query, args...).Scan(&staged)
		if err != nil {
			return fmt.Errorf("read staged bytes: %w", err)
		}
		if staged.Int64+size > q.limit {
			return outpost.Errorf(outpost.CodeTooMany, "%s has %d bytes of staged files waiting for their changes; %d more would pass the limit of %d bytes: upload the changes that use them first", q.whose, staged.Int64, size, q.limit).WithTarget("content")
		}
	}
	return nil
}

// pruneStaged removes staged content older than StagedFileMaxAge.
func (e *Engine) pruneStaged(ctx context.Context) (int64, error) {
	d := e.p.DB().Dialect
	var n int64
	err := e.p.DB().Tx(ctx, func(tx *sql.Tx) error {
		query, args := sqlgen.NewBuilder(d).
			SQL(`DELETE FROM outpost_fileupload WHERE createdon < `).Arg(d.TimeArg(e.now().Add(-e.opts.StagedFileMaxAge))).Build()
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune staged files: %w", err)
	}
	return n, nil
}

// applyFile applies a queued file change: its one column is set to the
// staged file (or its file removed when null), through the platform with
// by's privileges.
func (e *Engine) applyFile(ctx context.Context, w *platform.Writer, by *security.Principal, t *schema.Table, ch wire.Change) error {
	if len(ch.Columns) != 1 {
		return outpost.Invalidf("change %d: a file change sets exactly one file or image column, got %d columns", ch.Seq, len(ch.Columns)).WithTarget("columns")
	}
	for column, v := range ch.Columns {
		if v == nil {
			err := w.DeleteFile(ctx, by, t.Name, ch.ID, column)
			if errors.Is(err, platform.ErrNoFile) {
				return nil // nothing to remove: the end state is already right
			}
			return err
		}
		fid, ok := v.(string)
		if !ok || !outpost.ValidID(fid) {
			return outpost.Invalidf("change %d: column %q takes a file id, got %v", ch.Seq, column, v).WithTarget(column)
		}
		fid = strings.ToLower(fid)
		d := e.p.DB().Dialect
		var owner, name, mimeType, refused string
		var content []byte
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT userid, filename, mimetype, refused, content FROM outpost_fileupload WHERE fileid = `).Arg(fid).Build()
		err := w.Tx().QueryRowContext(ctx, query, args...).
			Scan(&owner, &name, &mimeType, &refused, &content)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != by.UserID) {
			return outpost.Invalidf("the content of file %s was not uploaded before its change", fid).WithTarget(column)
		}
		if err != nil {
			return fmt.Errorf("read staged file %s: %w", fid, err)
		}
		if refused != "" {
			return outpost.Errorf(outpost.CodeTooLarge, "%s", refused).WithTarget(column)
		}
		if _, err := w.PutFile(ctx, by, t.Name, ch.ID, column, platform.FileInput{ID: fid, Name: name, MimeType: mimeType, Content: content}); err != nil {
			return err
		}
		query, args = sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_fileupload WHERE fileid = `).Arg(fid).Build()
		if _, err := w.Tx().ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("drop staged file %s: %w", fid, err)
		}
	}
	return nil
}
