package apps

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// stmt starts a statement in the server's dialect.
func (s *Service) stmt(query string) *sqlgen.Builder {
	return sqlgen.NewBuilder(s.p.DB().Dialect).SQL(query)
}

// execEach runs each of stmts, whose text ends where its one argument
// goes, with arg.
func (s *Service) execEach(ctx context.Context, q store.Querier, arg any, stmts ...string) error {
	for _, st := range stmts {
		if _, err := s.stmt(st).Arg(arg).Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// nameTaken reports whether an app of kind is already named name,
// compared without case.
func (s *Service) nameTaken(ctx context.Context, q store.Querier, kind, name string) (bool, error) {
	var n int
	if err := s.stmt(`SELECT count(*) FROM `+appTable(kind)+` WHERE lower(name) = lower(`).Arg(name).SQL(`)`).QueryRow(ctx, q).Scan(&n); err != nil {
		return false, fmt.Errorf("check app name: %w", err)
	}
	return n > 0, nil
}

// boundProfile returns the offline profile app id of kind is bound to, or
// "" when none.
func (s *Service) boundProfile(ctx context.Context, q store.Querier, kind, id string) (string, error) {
	t := appTable(kind)
	var bound sql.NullString
	if err := s.stmt(`SELECT mobileofflineprofileid FROM `+t+` WHERE `+t+`id = `).Arg(id).QueryRow(ctx, q).Scan(&bound); err != nil {
		return "", fmt.Errorf("load app %s: %w", id, err)
	}
	return bound.String, nil
}

// insertDefinition stores the definition of a new app.
func (s *Service) insertDefinition(ctx context.Context, q store.Querier, id, kind, def string) error {
	_, err := s.stmt(`INSERT INTO outpost_app (appid, kind, definition) VALUES (`).Args(id, kind, def).SQL(`)`).Exec(ctx, q)
	return err
}

// setDefinition replaces the definition of app id.
func (s *Service) setDefinition(ctx context.Context, q store.Querier, id, def string) error {
	_, err := s.stmt(`UPDATE outpost_app SET definition = `).Arg(def).SQL(` WHERE appid = `).Arg(id).Exec(ctx, q)
	return err
}

// timeArg is a timestamp bound in the dialect's form.
func (s *Service) timeArg(t time.Time) any { return s.p.DB().Dialect.TimeArg(t) }

// jsonString encodes v, a definition to store, as JSON text.
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode definition: %w", err)
	}
	return string(b), nil
}
