package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/wire"
)

// snapshotBytes is what a full re-sync of table costs on the wire: the
// bytes of its snapshot stream for the device, request included, in the
// encoding devices ask for (compact pages).
func snapshotBytes(ctx context.Context, e *env, token, deviceID, table string) (int64, error) {
	body, _ := json.Marshal(wire.SnapshotRequest{DeviceID: deviceID, Table: table, PageSize: 2000})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+wire.Prefix+"/snapshot", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", wire.PagesContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("snapshot of %s: %s: %s", table, resp.Status, b)
	}
	n, err := io.Copy(io.Discard, bufio.NewReader(resp.Body))
	return n + int64(len(body)), err
}

// traffic returns the device's bytes sent plus received.
func traffic(c *client.Client) int64 {
	s, r := c.Traffic()
	return s + r
}

// syncBytes runs one sync and returns its bytes on the wire.
func syncBytes(ctx context.Context, c *client.Client) (int64, *client.SyncResult, error) {
	before := traffic(c)
	res, err := c.Sync(ctx, client.SyncOptions{})
	return traffic(c) - before, res, err
}

// moves reassigns one work order away, then removes the user from the team
// owning a tenth of the scope, then adds them back, comparing each sync's
// bytes with a full re-sync of the same tables.
func moves(ctx context.Context, r *recorder, e *env, c *client.Client) error {
	sys := platform.System()
	full := map[string]int64{}
	var all int64
	for _, t := range []string{"workorder", "account", "contact"} {
		n, err := snapshotBytes(ctx, e, e.token, c.DeviceID(), t)
		if err != nil {
			return err
		}
		full[t], all = n, all+n
	}
	if _, err := e.p.Assign(ctx, sys, "workorder", e.own[len(e.own)-1], e.other); err != nil {
		return err
	}
	n, res, err := syncBytes(ctx, c)
	if err != nil {
		return err
	}
	if res.Removed != 1 {
		r.logf("warning: move-out of one row removed %d rows", res.Removed)
	}
	r.add("move", "one row reassigned away", float64(n), "B", float64(full["workorder"]), "full re-sync of workorder", "<=", 0.01*float64(full["workorder"]))
	if err := e.p.RemoveTeamMember(ctx, sys, e.team, e.user); err != nil {
		return err
	}
	n, res, err = syncBytes(ctx, c)
	if err != nil {
		return err
	}
	r.logf("team removal: %d rows removed, %d upserted, reconciled %v", res.Removed, res.Upserted, res.Reconciled)
	r.add("move", "team removal (10% of scope leaves)", float64(n), "B", float64(all), "full re-sync of the 3 tables", "<=", 0.01*float64(all))
	if err := e.p.AddTeamMember(ctx, sys, e.team, e.user); err != nil {
		return err
	}
	n, res, err = syncBytes(ctx, c)
	if err != nil {
		return err
	}
	r.logf("team re-added: %d rows upserted", res.Upserted)
	r.add("move", "team re-added (10% of scope enters)", float64(n), "B", float64(all), "full re-sync of the 3 tables", "", 0)
	return nil
}
