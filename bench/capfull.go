package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/outposthq/outpost/platform"
)

// capRows is the per-device row cap the issue names; capfull fills a
// device up to it (scaled).
const capRows = 3_000_000

// capFull builds a server whose device user's download set is exactly the
// cap (scaled): work orders, their accounts and contacts, all the user's.
// A device syncs all of it (rows/s, peak memory); then one more work order
// for the user makes the set one account, contact and work order over the
// cap, and a new device is refused when it opens the app. It is opt-in
// (--scenarios capfull): at scale 1 it imports 3,000,000 rows.
func capFull(ctx context.Context, r *recorder, opts Options, cfg *config, dir string) (err error) {
	limit := cfg.n(capRows, 4000)
	e, err := newShapedEnv(ctx, r, opts.Open, "cap", limit/2, 0, int64(limit), true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, e.close()) }()
	if e.deviceRows != limit {
		r.logf("capfull: the device set is %d rows, the cap %d", e.deviceRows, limit)
	}
	res, err := child(ctx, opts, "firstsync", "--server", e.url, "--token", e.token, "--app", e.appID, "--dir", filepath.Join(dir, "capfull"))
	if err != nil {
		return err
	}
	if res.Error != "" {
		return fmt.Errorf("first sync of a device at the cap: %s", res.Error)
	}
	r.add("capfull", "rows at the cap", float64(res.Rows), "rows", float64(limit), "cap", "", 0)
	r.add("capfull", "first sync throughput", float64(res.Rows)/res.Seconds, "rows/s", 0, "", "", 0)
	r.add("capfull", "first sync time", res.Seconds, "s", 0, "", "", 0)
	r.add("capfull", "device peak RSS", float64(res.PeakRSS)/(1<<20), "MB", 0, "", "<=", 100)

	sys := platform.System()
	acct, err := e.p.Create(ctx, sys, "account", map[string]any{"name": "One more", "ownerid": e.user})
	if err != nil {
		return err
	}
	if _, err := e.p.Create(ctx, sys, "workorder", map[string]any{"name": "One more", "customerid": acct["accountid"], "ownerid": e.user}); err != nil {
		return err
	}
	over, err := child(ctx, opts, "firstsync", "--server", e.url, "--token", e.token, "--app", e.appID, "--dir", filepath.Join(dir, "capover"))
	if err != nil {
		return err
	}
	if !strings.Contains(over.Error, "over the limit") {
		return fmt.Errorf("a device over the %d-row cap was not refused: %+v", limit, over)
	}
	r.logf("capfull: over the cap, refused with %q", over.Error)
	r.add("capfull", "refusal over the cap", over.Seconds*1000, "ms", 0, "", "", 0)
	return nil
}
