package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/outposthq/outpost/wire"
)

// LocalError is a rejected change as the device recorded it.
type LocalError struct {
	Seq         int64
	SyncErrorID string
	Table, ID   string
	Op          string
	Type        int
	Code        string
	Message     string
	Time        string
	Resolved    bool
}

// LocalErrors returns the rejected changes the device knows of, newest
// first; it works offline.
func (c *Client) LocalErrors(ctx context.Context) ([]LocalError, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT seq, syncerrorid, tablename, rowid, op, type, code, message, time, resolved FROM outpost_error ORDER BY seq DESC`)
	if err != nil {
		return nil, fmt.Errorf("read sync errors: %w", err)
	}
	defer rows.Close()
	var out []LocalError
	for rows.Next() {
		var e LocalError
		if err := rows.Scan(&e.Seq, &e.SyncErrorID, &e.Table, &e.ID, &e.Op, &e.Type, &e.Code, &e.Message, &e.Time, &e.Resolved); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ServerErrors lists the user's Sync Errors on the server (with all, an
// administrator's view of everyone's).
func (c *Client) ServerErrors(ctx context.Context, all bool) ([]wire.SyncError, error) {
	q := url.Values{}
	if all {
		q.Set("all", "true")
	}
	var resp wire.ErrorsResponse
	if err := c.r.call(ctx, http.MethodGet, wire.Prefix+"/errors?"+q.Encode(), nil, &resp); err != nil {
		return nil, err
	}
	return resp.Errors, nil
}

// RetryError asks the server to apply Sync Error id's change again; the
// next sync downloads the result.
func (c *Client) RetryError(ctx context.Context, id string) (wire.SyncError, error) {
	var se wire.SyncError
	err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/errors/"+url.PathEscape(id)+"/retry", nil, &se)
	if err == nil {
		err = c.markResolved(ctx, id)
	}
	return se, err
}

// DiscardError resolves Sync Error id without applying its change.
func (c *Client) DiscardError(ctx context.Context, id string) (wire.SyncError, error) {
	var se wire.SyncError
	err := c.r.call(ctx, http.MethodPost, wire.Prefix+"/errors/"+url.PathEscape(id)+"/resolve", nil, &se)
	if err == nil {
		err = c.markResolved(ctx, id)
	}
	return se, err
}

func (c *Client) markResolved(ctx context.Context, id string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE outpost_error SET resolved = 1 WHERE syncerrorid = ?`, id)
	return err
}
