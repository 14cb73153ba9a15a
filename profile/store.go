package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// draftRow is a profile's row of outpost_profile.
type draftRow struct {
	items         []Item
	assignment    Assignment
	dirty         bool
	generatedFrom string
}

// version is one published version of a profile.
type version struct {
	Version int64     `json:"version"`
	Name    string    `json:"name"`
	Items   []Item    `json:"items"`
	On      time.Time `json:"-"`
}

func (s *Service) d() sqlgen.Dialect { return s.p.DB().Dialect }

// stmt starts a statement in the server's dialect.
func (s *Service) stmt(query string) *sqlgen.Builder { return sqlgen.NewBuilder(s.d()).SQL(query) }

func (s *Service) loadDraft(ctx context.Context, q store.Querier, id string) (*draftRow, error) {
	var items, assign, gen string
	var dirty int64
	query, args := sqlgen.NewBuilder(s.d()).
		SQL(`SELECT draft, assignment, dirty, generatedfrom FROM outpost_profile WHERE profileid = `).Arg(id).Build()
	err := q.QueryRowContext(ctx, query, args...).Scan(&items, &assign, &dirty, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outpost.NotFoundf("no offline profile has id %s", id).WithTarget("id")
	}
	if err != nil {
		return nil, fmt.Errorf("load profile %s: %w", id, err)
	}
	d := &draftRow{dirty: dirty != 0, generatedFrom: gen}
	if err := json.Unmarshal([]byte(items), &d.items); err != nil {
		return nil, fmt.Errorf("decode profile %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(assign), &d.assignment); err != nil {
		return nil, fmt.Errorf("decode assignment of profile %s: %w", id, err)
	}
	if d.items == nil {
		d.items = []Item{}
	}
	return d, nil
}

func (s *Service) saveDraft(ctx context.Context, q store.Querier, id string, d *draftRow, insert bool) error {
	items, err := json.Marshal(d.items)
	if err != nil {
		return fmt.Errorf("encode profile %s: %w", id, err)
	}
	assign, err := json.Marshal(d.assignment)
	if err != nil {
		return fmt.Errorf("encode assignment of profile %s: %w", id, err)
	}
	dirty := 0
	if d.dirty {
		dirty = 1
	}
	if insert {
		query, args := sqlgen.NewBuilder(s.d()).
			SQL(`INSERT INTO outpost_profile (profileid, draft, assignment, dirty, generatedfrom) VALUES (`).Args(id, string(items), string(assign), dirty, d.generatedFrom).
			SQL(`)`).Build()
		_, err = q.ExecContext(ctx, query, args...)
	} else {
		query, args := sqlgen.NewBuilder(s.d()).
			SQL(`UPDATE outpost_profile SET draft = `).Arg(string(items)).SQL(`, assignment = `).Arg(string(assign)).
			SQL(`, dirty = `).Arg(dirty).SQL(`, generatedfrom = `).Arg(d.generatedFrom).SQL(` WHERE profileid = `).Arg(id).Build()
		_, err = q.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("save profile %s: %w", id, err)
	}
	return nil
}

// latest returns the newest published version of profile id, or nil.
func (s *Service) latest(ctx context.Context, q store.Querier, id string) (*version, error) {
	return s.versionUpTo(ctx, q, id, 1<<62)
}

// versionUpTo returns the newest published version of profile id that is
// not newer than upTo, or nil.
func (s *Service) versionUpTo(ctx context.Context, q store.Querier, id string, upTo int64) (*version, error) {
	var def string
	var v int64
	var on any
	query, args := sqlgen.NewBuilder(s.d()).
		SQL(`SELECT version, definition, publishedon FROM outpost_profileversion WHERE profileid = `).Arg(id).
		SQL(` AND version <= `).Arg(upTo).SQL(` ORDER BY version DESC LIMIT 1`).Build()
	err := q.QueryRowContext(ctx, query, args...).Scan(&v, &def, &on)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load published profile %s: %w", id, err)
	}
	out := &version{}
	if err := json.Unmarshal([]byte(def), out); err != nil {
		return nil, fmt.Errorf("decode published profile %s: %w", id, err)
	}
	out.Version = v
	out.On = sqlgen.TimeValue(on)
	return out, nil
}

// timeArg is a timestamp bound in the dialect's form.
func (s *Service) timeArg(t time.Time) any { return s.d().TimeArg(t) }

// profileRow reads the platform row of profile id as by, enforcing by's
// read privilege.
func (s *Service) profileRow(ctx context.Context, by *security.Principal, id string) (outpost.Row, error) {
	row, err := s.p.Get(ctx, by, "mobileofflineprofile", id, nil)
	if outpost.ErrorCode(err) == outpost.CodeNotFound && outpost.ErrorTarget(err) == "id" {
		return nil, outpost.NotFoundf("no offline profile has id %s", id).WithTarget("id")
	}
	return row, err
}

// nameTaken reports whether another profile than id is named name
// (case-insensitively).
func (s *Service) nameTaken(ctx context.Context, q store.Querier, name, id string) error {
	var n int
	query, args := sqlgen.NewBuilder(s.d()).
		SQL(`SELECT count(*) FROM mobileofflineprofile WHERE lower(name) = lower(`).Arg(name).
		SQL(`) AND mobileofflineprofileid <> `).Arg(id).Build()
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return fmt.Errorf("check profile name: %w", err)
	}
	if n > 0 {
		return outpost.Conflictf("an offline profile named %q already exists", name).WithTarget("name")
	}
	return nil
}

// boundApps returns the names of the apps whose offline profile is id,
// canvas apps first and each kind by name: a profile an app uses is not
// deleted. Package apps writes the binding; this is the one reference
// from an app row that the profile side reads.
func (s *Service) boundApps(ctx context.Context, q store.Querier, id string) ([]string, error) {
	var out []string
	for _, t := range []string{"canvasapp", "appmodule"} {
		query, args := s.stmt(`SELECT a.name FROM ` + t + ` a JOIN outpost_app o ON o.appid = a.` + t + `id WHERE a.mobileofflineprofileid = `).Arg(id).SQL(` ORDER BY a.name`).Build()
		names, err := store.Strings(ctx, q, query, args...)
		if err != nil {
			return nil, fmt.Errorf("list apps of profile %s: %w", id, err)
		}
		out = append(out, names...)
	}
	return out, nil
}
