package sqlgen_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

func TestBuilderExpr(t *testing.T) {
	t.Parallel()
	s := schema.BuiltIn()
	noTeams := &filter.Env{UserID: "u1"}
	tests := []struct {
		name     string
		dialect  sqlgen.Dialect
		e        filter.Expr
		env      *filter.Env
		wantSQL  string
		wantArgs []any
	}{
		{"empty and", sqlgen.SQLite, &filter.And{}, nil, "1=1", nil},
		{"empty or", sqlgen.SQLite, &filter.Or{}, nil, "1=0", nil},
		{"not empty and", sqlgen.SQLite, &filter.Not{X: &filter.And{}}, nil, "1=0", nil},
		{"single element list", sqlgen.SQLite, &filter.Or{List: []filter.Expr{&filter.Cond{Column: "name", Op: filter.Eq, Values: []any{"X"}}}}, nil,
			`outpost_fold(t0."name") = ?`, []any{"x"}},
		{"postgres placeholders", sqlgen.Postgres, &filter.And{List: []filter.Expr{
			&filter.Cond{Column: "name", Op: filter.Ne, Values: []any{"Ä"}},
			&filter.Cond{Column: "statecode", Op: filter.NotIn, Values: []any{int64(0), int64(1)}}}}, nil,
			`(lower(t0."name" COLLATE "C.utf8") COLLATE "C" IS DISTINCT FROM $1 AND (t0."statecode" IS NULL OR t0."statecode" NOT IN ($2, $3)))`, []any{"ä", int64(0), int64(1)}},
		{"teams of no team", sqlgen.SQLite, &filter.Cond{Column: "ownerid", Op: filter.EqUserTeams}, noTeams, "1=0", nil},
		{"not teams of no team", sqlgen.SQLite, &filter.Not{X: &filter.Cond{Column: "ownerid", Op: filter.EqUserTeams}}, noTeams, "1=1", nil},
		{"user or teams", sqlgen.SQLite, &filter.Cond{Column: "ownerid", Op: filter.EqUserOrUserTeams}, noTeams, `t0."ownerid" = ?`, []any{"u1"}},
		{"ne-userid", sqlgen.SQLite, &filter.Cond{Column: "ownerid", Op: filter.NeUserID}, noTeams, `t0."ownerid" IS NOT ?`, []any{"u1"}},
		{"shared without principals", sqlgen.SQLite, &filter.Cond{Column: "accountid", Op: filter.EqSharedWithUser}, nil, "1=0", nil},
		{"boolean arg", sqlgen.SQLite, &filter.Cond{Column: "isdisabled", Op: filter.Eq, Values: []any{true}}, nil, `t0."isdisabled" = ?`, []any{int64(1)}},
		{"quoted identifier", sqlgen.SQLite, &filter.Cond{Column: "name", Op: filter.Null}, nil, `t0."name" IS NULL`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			table := "account"
			if tt.name == "boolean arg" {
				table = "systemuser"
			}
			b := sqlgen.NewBuilder(tt.dialect)
			if err := b.Expr(s, table, "t0", tt.e, tt.env); err != nil {
				t.Fatalf("Expr(%s): %v", filter.String(tt.e), err)
			}
			gotSQL, gotArgs := b.Build()
			if gotSQL != tt.wantSQL {
				t.Errorf("SQL for %s:\n got: %s\nwant: %s", filter.String(tt.e), gotSQL, tt.wantSQL)
			}
			if diff := cmp.Diff(tt.wantArgs, gotArgs); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuilderExprErrors(t *testing.T) {
	t.Parallel()
	s := schema.BuiltIn()
	tests := []struct {
		name, table string
		e           filter.Expr
	}{
		{"unknown table", "nope", &filter.Const{Value: true}},
		{"unknown column", "account", &filter.Cond{Column: "nope", Op: filter.Null}},
		{"unknown relationship", "account", &filter.Link{Relationship: "nope"}},
		{"missing value", "account", &filter.Cond{Column: "name", Op: filter.Eq}},
		{"empty in", "account", &filter.Cond{Column: "name", Op: filter.In}},
		{"like without text", "account", &filter.Cond{Column: "name", Op: filter.Like, Values: []any{int64(1)}}},
		{"bad date count", "account", &filter.Cond{Column: "createdon", Op: filter.LastXDays, Values: []any{"x"}}},
		{"nil", "account", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := sqlgen.NewBuilder(sqlgen.SQLite).Expr(s, tt.table, "t0", tt.e, nil); err == nil {
				t.Error("Expr succeeded, want an error")
			}
		})
	}
}
