package syncsrv

import (
	"context"

	"github.com/outposthq/outpost/security"
)

// Expected returns what a device of by registered as deviceID must hold
// right now: per table of the plan, row id to the row's values by column
// name (wire values). Tests compare devices with it; it reads whole tables.
func (e *Engine) Expected(ctx context.Context, by *security.Principal, deviceID string) (map[string]map[string]map[string]any, error) {
	out := map[string]map[string]map[string]any{}
	err := e.read(ctx, by, deviceID, func(s *session) error {
		for i := range s.plan.Items {
			it := &s.plan.Items[i]
			cols := s.cols(it)
			rows := map[string]map[string]any{}
			var ids []string
			if err := s.scope(ctx, it, func(id string, _ int64) { ids = append(ids, id) }); err != nil {
				return err
			}
			vals, err := s.rowsByID(ctx, it, ids)
			if err != nil {
				return err
			}
			for _, v := range vals {
				r := make(map[string]any, len(cols))
				for j, c := range cols {
					r[c] = v[j]
				}
				rows[v[0].(string)] = r
			}
			out[it.Table] = rows
		}
		return nil
	})
	return out, err
}
