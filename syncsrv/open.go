package syncsrv

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/wire"
)

// Open registers device req.DeviceID of by for the offline app req.AppID
// and returns its profile, tables and row counts. It fails with CodeTooLarge
// when the download would exceed the per-device row cap, CodeNotFound when
// the app is not an offline app by may open, and CodeForbidden when the
// device id belongs to another user.
func (e *Engine) Open(ctx context.Context, by *security.Principal, req wire.OpenRequest) (*wire.OpenResponse, error) {
	if !outpost.ValidID(req.DeviceID) {
		return nil, outpost.Invalidf("deviceId %q is not a UUID", req.DeviceID).WithTarget("deviceId")
	}
	if by.UserID == "" {
		return nil, outpost.Forbiddenf("devices sync as a user: use a user's token")
	}
	profileID, kind, err := e.planner.AppProfile(ctx, by, req.AppID)
	if err != nil {
		return nil, err
	}
	db := e.p.DB()
	d := db.Dialect
	now := e.now()
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var owner string
		query, args := sqlgen.NewBuilder(d).SQL(`SELECT userid FROM outpost_device WHERE deviceid = `).Arg(req.DeviceID).Build()
		err := tx.QueryRowContext(ctx, query, args...).Scan(&owner)
		switch {
		case err == sql.ErrNoRows:
			query, args := sqlgen.NewBuilder(d).SQL(`INSERT INTO outpost_device (deviceid, userid, appid, profileid, kind, createdon, lastseen, lastseq) VALUES (`).
				Args(req.DeviceID, by.UserID, req.AppID, profileID, kind, d.TimeArg(now), d.TimeArg(now), int64(0)).SQL(")").Build()
			_, err = tx.ExecContext(ctx, query, args...)
			return err
		case err != nil:
			return err
		case owner != by.UserID:
			return outpost.Forbiddenf("device %s belongs to another user", req.DeviceID).WithTarget("deviceId")
		}
		query, args = sqlgen.NewBuilder(d).
			SQL(`UPDATE outpost_device SET appid = `).Arg(req.AppID).SQL(`, profileid = `).Arg(profileID).
			SQL(`, kind = `).Arg(kind).SQL(`, lastseen = `).Arg(d.TimeArg(now)).SQL(` WHERE deviceid = `).Arg(req.DeviceID).Build()
		_, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register device %s: %w", req.DeviceID, err)
	}
	out := &wire.OpenResponse{DeviceID: req.DeviceID, UserID: by.UserID, AppID: req.AppID, ProfileID: profileID, Kind: kind, MaxRows: e.opts.MaxRows}
	err = e.read(ctx, by, req.DeviceID, func(s *session) error {
		out.ProfileVersion = s.plan.Version
		out.Tables = s.tables()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := e.countTables(ctx, by, req.DeviceID, out.Tables); err != nil {
		return nil, err
	}
	for _, t := range out.Tables {
		out.TotalRows += t.Rows
	}
	if out.TotalRows > e.opts.MaxRows {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "this device would hold %d rows, over the limit of %d rows per device: narrow the offline profile's filters", out.TotalRows, e.opts.MaxRows)
	}
	return out, nil
}

// openCounters bounds the tables counted at once by one Open.
const openCounters = 4

// countTables sets the Rows of each table: the rows of the device's scope.
// Each count is its own read, and up to openCounters run at once: counting
// a related-rows scope evaluates its links, and counting the tables one
// after the other was a tenth of a first sync (docs/benchmarks.md). The
// counts serve the per-device cap and progress, so they need not come from
// one snapshot.
func (e *Engine) countTables(ctx context.Context, by *security.Principal, deviceID string, tables []wire.Table) error {
	errs := make([]error, len(tables))
	sem := make(chan struct{}, openCounters)
	var wg sync.WaitGroup
	for i := range tables {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = e.read(ctx, by, deviceID, func(s *session) error {
				it, _, err := s.item(tables[i].Name)
				if err != nil {
					return err
				}
				tables[i].Rows, err = s.count(ctx, it)
				return err
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// tables describes the plan's tables for the device.
func (s *session) tables() []wire.Table {
	out := make([]wire.Table, 0, len(s.plan.Items))
	for i := range s.plan.Items {
		it := &s.plan.Items[i]
		t := s.sch.MustTable(it.Table)
		wt := wire.Table{Name: t.Name, PrimaryKey: t.PrimaryKey(), IntervalMinutes: it.IntervalMinutes}
		for _, name := range s.cols(it) {
			c, _ := t.Column(name)
			wc := wire.Column{Name: c.Name, Type: string(c.Type), Target: c.Target, Required: c.Required && !c.System}
			if c.Type == schema.Text || c.Type == schema.Memo {
				wc.MaxLength = c.Limit()
			}
			for _, o := range c.Options {
				wc.Options = append(wc.Options, wire.Option{Value: o.Value, Label: o.Label})
			}
			wt.Columns = append(wt.Columns, wc)
		}
		out = append(out, wt)
	}
	return out
}
