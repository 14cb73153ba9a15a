package syncsrv

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/wire"
)

// TestPreviewShowsSnapshotStatement: for the same user and item, the SQL
// and arguments the maker's preview shows are the statement the snapshot
// runs for the first page, before its order and limit.
func TestPreviewShowsSnapshotStatement(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(t), platform.Options{})
			testenv.Must(t, err)
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 2})
			testenv.Must(t, err)
			svc := profile.New(p)
			eng := New(p, apps.New(p), Options{})
			user := env.Technicians[0].ID
			pr, err := p.Principal(ctx, user)
			testenv.Must(t, err)
			dev := outpost.NewID()
			_, err = eng.Open(ctx, pr, wire.OpenRequest{DeviceID: dev, AppID: env.ModelDrivenApp})
			testenv.Must(t, err)
			pv, err := svc.Preview(ctx, platform.System(), env.ProfileID, profile.PreviewOptions{UserID: user, Published: true})
			testenv.Must(t, err)
			if len(pv.Items) == 0 {
				t.Fatal("the preview has no items")
			}
			for _, item := range pv.Items {
				var q string
				var args []any
				testenv.Must(t, eng.read(ctx, pr, dev, func(s *session) error {
					it, tbl, err := s.item(item.Table)
					if err != nil {
						return err
					}
					q, args, err = s.pageQuery(it, tbl, "", 100)
					return err
				}))
				if !strings.HasPrefix(q, item.SQL+" ORDER BY ") {
					t.Errorf("%s: the preview shows\n%s\nthe snapshot runs\n%s", item.Table, item.SQL, q)
				}
				if len(args) < len(item.Args) || !slices.EqualFunc(item.Args, args[:len(item.Args)], func(a, b any) bool { return a == b }) {
					t.Errorf("%s: preview arguments %v, snapshot arguments %v", item.Table, item.Args, args)
				}
			}
		})
	}
}
