package profile_test

import (
	"context"
	"testing"

	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/sqlgen"
)

// BenchmarkPlan measures building a plan and reading a technician's whole
// download set of the demo profile through it, next to plain SELECTs of
// the same tables (every row) in the same run:
//
//	go test ./profile -run '^$' -bench Plan -benchtime 20x
func BenchmarkPlan(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			p, err := platform.Open(ctx, e.Open(b), platform.Options{})
			if err != nil {
				b.Fatal(err)
			}
			env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 200})
			if err != nil {
				b.Fatal(err)
			}
			s := profile.New(p)
			nora, err := p.Principal(ctx, env.Technicians[0].ID)
			if err != nil {
				b.Fatal(err)
			}
			count := func(query string, args ...any) int {
				rows, err := p.DB().Read.QueryContext(ctx, query, args...)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				rows.Close()
				return n
			}
			b.Run("plan+read", func(b *testing.B) {
				rows := 0
				for b.Loop() {
					plan, err := s.Plan(ctx, nora, env.ProfileID)
					if err != nil {
						b.Fatal(err)
					}
					rows = 0
					for _, it := range plan.Items {
						q := sqlgen.NewBuilder(p.DB().Dialect)
						q.SQL("SELECT t0.").Ident(it.Table + "id").SQL(" FROM ").Ident(it.Table).SQL(" AS t0 WHERE ")
						if err := q.Expr(p.Schema(), it.Table, "t0", it.Filter, nora.Env()); err != nil {
							b.Fatal(err)
						}
						sqlText, args := q.Build()
						rows += count(sqlText, args...)
					}
				}
				b.ReportMetric(float64(rows), "rows")
			})
			b.Run("plain-select-all", func(b *testing.B) {
				rows := 0
				for b.Loop() {
					rows = 0
					for _, t := range []string{"workorder", "account", "contact", "product"} {
						rows += count("SELECT " + t + "id FROM " + t)
					}
				}
				b.ReportMetric(float64(rows), "rows")
			})
		})
	}
}
