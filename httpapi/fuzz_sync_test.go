package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// syncFixture is a seeded server with two technicians in different
// business units; nora has a registered device with tokens.
type syncFixture struct {
	h           http.Handler
	p           *platform.Platform
	nora, sam   string // tokens
	noraDevice  string
	samDevice   string
	forbidden   map[string]bool // ids of rows nora may not read
	tokens      []string        // nora's sync tokens of her device
	appID       string
	noraRowIDs  []string
	outsideRows []string
	// sent are ids nora sent in any request: a reply may echo them (an
	// upload replayed by sequence number answers with the first reply).
	sent map[string]bool
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func newSyncFixture(t testing.TB, e testenv.Engine) *syncFixture {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 2})
	if err != nil {
		t.Fatal(err)
	}
	profiles := apps.New(p)
	eng := syncsrv.New(p, profiles, syncsrv.Options{})
	f := &syncFixture{p: p, h: httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng, MaxBodyBytes: 256 << 10}), appID: env.ModelDrivenApp, forbidden: map[string]bool{}, sent: map[string]bool{}}
	nora, sam := env.Technicians[0], env.Technicians[2]
	sys := platform.System()
	if f.nora, err = p.IssueToken(ctx, sys, nora.ID, "fuzz"); err != nil {
		t.Fatal(err)
	}
	if f.sam, err = p.IssueToken(ctx, sys, sam.ID, "fuzz"); err != nil {
		t.Fatal(err)
	}
	f.noraDevice, f.samDevice = outpost.NewID(), outpost.NewID()
	for _, d := range []struct{ tok, id string }{{f.nora, f.noraDevice}, {f.sam, f.samDevice}} {
		if code, body := f.call(t, "POST", wire.Prefix+"/open", d.tok, `{"deviceId":"`+d.id+`","appId":"`+f.appID+`"}`); code != 200 {
			t.Fatalf("open: %d %s", code, body)
		}
	}
	pr, err := p.Principal(ctx, nora.ID)
	if err != nil {
		t.Fatal(err)
	}
	readable, err := eng.Expected(ctx, pr, f.noraDevice)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"workorder", "account", "contact"} {
		rows, err := p.DB().Read.QueryContext(ctx, `SELECT `+table+`id FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			if _, ok := readable[table][id]; ok {
				f.noraRowIDs = append(f.noraRowIDs, id)
			} else {
				f.forbidden[id] = true
				f.outsideRows = append(f.outsideRows, id)
			}
		}
		rows.Close()
		_, body := f.call(t, "POST", wire.Prefix+"/snapshot", f.nora, `{"deviceId":"`+f.noraDevice+`","table":"`+table+`","maxPages":1}`)
		var page wire.SnapshotPage
		_ = json.Unmarshal([]byte(strings.SplitN(body, "\n", 2)[0]), &page)
		f.tokens = append(f.tokens, page.Token)
	}
	if len(f.forbidden) == 0 || len(f.noraRowIDs) == 0 {
		t.Fatalf("fixture: %d forbidden rows, %d readable", len(f.forbidden), len(f.noraRowIDs))
	}
	return f
}

func (f *syncFixture) call(t testing.TB, method, path, token, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// FuzzSyncAPI sends malformed, huge, truncated and wrong-typed bodies to
// the sync endpoints, with forged device ids and tokens and other users'
// row ids: the server never answers 500, nora never receives a row id she
// may not read (ids she sent herself aside), the rows she may not read
// never change, and her own change only through a write (an upload, a
// Sync Error retried) that answered 2xx.
func FuzzSyncAPI(f *testing.F) {
	fx := newSyncFixture(f, fuzzEngine(f))
	paths := []string{"/open", "/snapshot", "/delta", "/reconcile", "/upload", "/errors", "/settings", "/errors/x/retry", "/errors/x/resolve"}
	dev := fx.noraDevice
	seeds := []struct {
		path   int
		body   string
		device int
	}{
		{1, `{"deviceId":"$DEV","table":"workorder","pageSize":3}`, 0},
		{1, `{"deviceId":"$DEV","table":"account","after":"$OUT","pageSize":100000}`, 1},
		{2, `{"deviceId":"$DEV","profileVersion":1,"tables":[{"table":"workorder","token":"$TOK"}]}`, 0},
		{2, `{"deviceId":"$DEV","tables":[{"table":"workorder","token":"garbage"}],"full":true,"limit":-5}`, 2},
		{3, `{"deviceId":"$DEV","table":"workorder","buckets":4,"diff":[0,1,2,3,99,-1],"have":[{"i":"$OUT","v":1}]}`, 0},
		{3, `{"deviceId":"$DEV","table":"workorder","buckets":0,"diff":[0]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":1,"mutationId":"m","table":"workorder","op":"update","id":"$OUT","columns":{"name":"x"}}]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":1,"mutationId":"m","table":"workorder","op":"create","id":"$OUT","columns":{"name":"x","ownerid":"$OUT"}}]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":-1,"table":"systemuser","op":"delete","id":"$MINE"}]}`, 1},
		{4, `{"deviceId":"$DEV","changes":[{"seq":2,"table":"workorder","op":"update","id":"$MINE","columns":{"priority":"high","scheduledstart":12}}]}`, 0},
		{0, `{"deviceId":"$DEV","appId":"$OUT"}`, 1},
		{2, `{"deviceId":"$DEV","tables":[{"table":"workorder","token":"$TOK"`, 0},
		{6, `{"conflictDetection":"yes"}`, 0},
		{2, `[1,2,3]`, 2},
		{4, `{"deviceId":"$DEV","changes":null}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":3,"table":"workorder","op":"","id":"$MINE","columns":{"name":"x"}}]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":4,"table":"work\u0000order","op":"update\u0000","id":"$MINE\u0000","mutationId":"\u0000","columns":{"na\u0000me":"\u0000"}}]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":5,"table":"outpost_setting","op":"create","id":"$MINE","baseVersion":-9,"columns":{"":1}}]}`, 0},
		{0, `{"deviceId":"$DEV\u0000","appId":"\u0000"}`, 0},
		{1, `{"deviceId":"$DEV","table":"workorder\u0000","after":"\u0000"}`, 0},
		// Valid uploads of nora's work orders (when $MINE names one for the
		// body's length): writes that change her rows.
		{4, `{"deviceId":"$DEV","changes":[{"seq":6,"mutationId":"m6","table":"workorder","op":"update","id":"$MINE","columns":{"description":"fuzzed"}}]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":7,"mutationId":"m7","table":"workorder","op":"update","id":"$MINE","columns":{"description":"fuzzed again"}}]}`, 0},
		{4, `{"deviceId":"$DEV","changes":[{"seq":8,"mutationId":"m8","table":"workorder","op":"update","id":"$MINE","columns":{"description":"fuzzed twice more"}}]}`, 0},
	}
	for _, s := range seeds {
		f.Add(s.path, s.body, s.device, uint8(0))
	}
	mine, outside := map[string]bool{}, map[string]bool{}
	for _, id := range fx.noraRowIDs {
		mine[id] = true
	}
	for _, id := range fx.outsideRows {
		outside[id] = true
	}
	seedTables := []string{"workorder", "account", "contact"}
	f.Fuzz(func(t *testing.T, path int, body string, device int, tokenKind uint8) {
		if path < 0 {
			path = -path
		}
		if device < 0 {
			device = -device
		}
		dev = []string{fx.noraDevice, fx.samDevice, outpost.NewID(), "not-a-uuid"}[device%4]
		r := strings.NewReplacer("$DEV", dev, "$TOK", fx.tokens[len(body)%len(fx.tokens)], "$OUT", fx.outsideRows[len(body)%len(fx.outsideRows)],
			"$MINE", fx.noraRowIDs[len(body)%len(fx.noraRowIDs)])
		body = r.Replace(body)
		token := []string{fx.nora, fx.nora, "opt_forged", ""}[tokenKind%4]
		p := paths[path%len(paths)]
		method := "POST"
		if p == "/errors" || (p == "/settings" && len(body) == 0) {
			method = "GET"
		} else if p == "/settings" {
			method = "PUT"
		}
		if token == fx.nora {
			for _, id := range uuidRE.FindAllString(body, -1) {
				fx.sent[id] = true
			}
		}
		before := rowSums(t, fx.p, seedTables, outside, mine)
		code, resp := fx.call(t, method, wire.Prefix+p, token, body)
		if code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, p, body, code, resp)
		}
		after := rowSums(t, fx.p, seedTables, outside, mine)
		if after[0] != before[0] {
			t.Fatalf("%s %s %q answered %d and changed or lost rows nora may not read", method, p, body, code)
		}
		write := token == fx.nora && code < 300 && (p == "/upload" || strings.HasSuffix(p, "/retry"))
		if !write && after[1] != before[1] {
			t.Fatalf("%s %s %q answered %d but changed or lost nora's rows", method, p, body, code)
		}
		if token != fx.nora {
			if code < 400 {
				t.Fatalf("%s %s with token %q answered %d", method, p, token, code)
			}
			return
		}
		for _, id := range uuidRE.FindAllString(resp, -1) {
			if fx.forbidden[id] && !fx.sent[id] {
				t.Fatalf("%s %s %q leaked row %s of another user: %.300s", method, p, body, id, resp)
			}
		}
	})
}
