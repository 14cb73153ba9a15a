package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// FuzzDataAPI sends arbitrary paths, query strings and bodies to the data
// and metadata APIs as a Basic User: the server must never answer 500 or
// panic, and the seeded rows (the user's own and the administrator's) stay
// exactly as they were unless a write answered 2xx.
func FuzzDataAPI(f *testing.F) {
	seeds := []struct {
		method int
		path   string
		body   string
	}{
		{0, "/api/data/account?$filter=name eq 'x'", ""},
		{0, "/api/data/account?$filter=contains(name,'%')&$orderby=name desc&$top=2", ""},
		{0, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", ""},
		{1, "/api/data/account", `{"name":"a","revenue":1e400}`},
		{1, "/api/data/contact", `{"lastname":"x","birthdate":"2026-13-45"}`},
		{1, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)/share", `{"principalid":"x"}`},
		{2, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", `{"name":null}`},
		{3, "/api/data/account()", ""},
		{1, "/api/metadata/tables", `{"name":"zz","columns":[{"name":"a1","type":"choice","options":[]}]}`},
		{0, "/api/data/account?$filter=((((((((((", ""},
		{0, "/api/data/account?$select=,,&$skiptoken=-1", ""},
		{0, "/api/data/account?$orderby=" + strings.Repeat("name,", 2000) + "name", ""},
		{0, "/api/data/account?$select=" + strings.Repeat("name,", 600) + "name", ""},
		{0, "/api/data/account?$filter=" + strings.Repeat("name eq 'x' or ", 250) + "name eq 'x'", ""},
		{0, "/api/data/account?$filter=name eq 'a%00b'", ""},
		{1, "/api/data/account", `{"name":"a\u0000b"}`},
		{1, "/api/metadata/tables", `{"name":"outpost_setting"}`},
		{1, "/api/metadata/tables", `{"name":"sqlite_x","displayName":"\u0000"}`},
		{1, "/api/offline/profiles", `{"name":"p\u0000"}`},
		{2, "/api/data/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)", `{"\u0000":1}`},
		// The seeded rows: the user's own account ($MINE) may change, the
		// administrator's ($ADMIN) may not.
		{2, "/api/data/account($MINE)", `{"name":"renamed"}`},
		{2, "/api/data/account($ADMIN)", `{"name":"taken"}`},
		{3, "/api/data/account($ADMIN)", ""},
		{1, "/api/data/account($ADMIN)/share", `{"principalid":"$MINE","rights":7}`},
		{1, "/api/data/account/CreateMultiple", `{"Targets":[{"name":"a"},null,{"name":1}]}`},
		{1, "/api/data/account/UpsertMultiple", `{"Targets":[{"accountid":"$ADMIN","name":"taken"}]}`},
		{1, "/api/data/account/Microsoft.Dynamics.CRM.UpdateMultiple", `{"Targets":[{"accountid":"$MINE","name":"renamed"},{"accountid":"$ADMIN","name":"x"}]}`},
		{1, "/api/data/$batch", `{"requests":[{"id":"1","method":"PATCH","url":"account($ADMIN)","body":{"name":"x"},"atomicityGroup":"g"},{"id":"2","method":"DELETE","url":"$1","atomicityGroup":"g"}]}`},
		{1, "/api/data/$batch", `{"requests":[{"id":"1","method":"POST","url":"$batch"},{"id":"2","method":"GET","url":"../../api/admin/devices"}]}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	fx := newFixture(f, fuzzEngine(f))
	seeded := map[string]bool{}
	var ids []string
	for _, body := range []string{`{"name":"secret","ownerid":"` + fx.userID + `"}`, `{"name":"the administrator's"}`} {
		code, acc := fx.doTB(f, "POST", "/api/data/account", fx.admin, body)
		id, _ := acc["accountid"].(string)
		if code != http.StatusCreated || id == "" {
			f.Fatalf("seed account: %d %v", code, acc)
		}
		seeded[id] = true
		ids = append(ids, id)
	}
	seedIDs := strings.NewReplacer("$MINE", ids[0], "$ADMIN", ids[1])
	methods := []string{"GET", "POST", "PATCH", "DELETE"}
	f.Fuzz(func(t *testing.T, method int, path, body string) {
		if method < 0 {
			method = -method
		}
		if !strings.HasPrefix(path, "/api/") {
			path = "/api/data/" + path
		}
		path, body = seedIDs.Replace(path), seedIDs.Replace(body)
		req, err := http.NewRequest(methods[method%4], fx.srv.URL+path, strings.NewReader(body))
		if err != nil {
			return // not a URL at all
		}
		req.Header.Set("Authorization", "Bearer "+fx.user)
		before := rowSums(t, fx.p, []string{"account"}, seeded)
		rec := httptest.NewRecorder()
		fx.srv.Config.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", req.Method, path, body, rec.Code, rec.Body.String())
		}
		if write := req.Method != "GET" && rec.Code < 300; !write {
			if after := rowSums(t, fx.p, []string{"account"}, seeded); after[0] != before[0] {
				t.Fatalf("%s %s %q answered %d but changed or lost seeded rows", req.Method, path, body, rec.Code)
			}
		}
	})
}

// rowSums returns, for each of groups (sets of row ids), a checksum of
// every column of the rows of tables whose id is in the group, read
// directly from the store: equal sums before and after a request mean it
// changed and lost none of those rows.
func rowSums(t testing.TB, p *platform.Platform, tables []string, groups ...map[string]bool) []string {
	t.Helper()
	hs := make([]interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}, len(groups))
	for i := range hs {
		hs[i] = sha256.New()
	}
	for _, table := range tables {
		rows, err := p.DB().Read.QueryContext(context.Background(), `SELECT * FROM `+table+` ORDER BY `+table+`id`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var id string
			for i, c := range cols {
				if c == table+"id" {
					id = fmt.Sprint(vals[i])
					if b, ok := vals[i].([]byte); ok {
						id = string(b)
					}
				}
			}
			for g, ids := range groups {
				if !ids[id] {
					continue
				}
				for i, c := range cols {
					fmt.Fprintf(hs[g], "%s.%s=%v\x00", table, c, vals[i])
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// fuzzEngine is the engine the fuzz targets run on: PostgreSQL when
// OUTPOST_TEST_POSTGRES is set (it refuses more input than SQLite, such as
// NUL in text), SQLite otherwise.
func fuzzEngine(f *testing.F) testenv.Engine {
	es := testenv.Engines(f)
	return es[len(es)-1]
}
