package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/demo"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// matrix is the demo behind the real HTTP handler, with a token per user.
type matrix struct {
	h      http.Handler
	p      *platform.Platform
	env    *demo.Env
	tokens map[string]string // by login: admin, maker, manager, nora, ned, sam, sue
	ids    map[string]string
}

func newMatrix(t *testing.T, e testenv.Engine) *matrix {
	t.Helper()
	ctx := context.Background()
	p, err := platform.Open(ctx, e.Open(t), platform.Options{})
	testenv.Must(t, err)
	env, err := demo.Seed(ctx, p, demo.Options{AccountsPerTechnician: 1})
	testenv.Must(t, err)
	profiles := apps.New(p)
	eng := syncsrv.New(p, profiles, syncsrv.Options{})
	m := &matrix{h: httpapi.New(p, httpapi.Options{Profiles: profiles, Sync: eng, MaxBodyBytes: 1 << 20}), p: p, env: env,
		tokens: map[string]string{}, ids: map[string]string{}}
	for _, u := range env.Users() {
		name := strings.Split(u.DomainName, "@")[0]
		m.tokens[name], err = p.IssueToken(ctx, platform.System(), u.ID, "matrix")
		testenv.Must(t, err)
		m.ids[name] = u.ID
	}
	return m
}

// call sends a request through the handler; the reply is decoded when it
// is a JSON object.
func (m *matrix) call(t *testing.T, who, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tok := m.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" && !strings.HasPrefix(path, "/api/files/") {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code >= 500 {
		t.Fatalf("%s %s %s: %d %s", who, method, path, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

// rowOf returns the id of a row of table owned by owner.
func (m *matrix) rowOf(t *testing.T, table, owner string) string {
	t.Helper()
	var id string
	testenv.Must(t, m.p.DB().Read.QueryRow(`SELECT `+table+`id FROM `+table+` WHERE ownerid = '`+owner+`' ORDER BY `+table+`id LIMIT 1`).Scan(&id))
	return id
}

func errMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// step is one request of the matrix and the status it must get.
type step struct {
	who, method, path, body string
	want                    int
}

func (m *matrix) run(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		if got, body := m.call(t, s.who, s.method, s.path, s.body); got != s.want {
			t.Errorf("%s %s %s %s: %d %v, want %d", s.who, s.method, s.path, s.body, got, body, s.want)
		}
	}
}

// TestAuthorizationMatrix drives every family of routes (data, changes,
// files, security, metadata, offline, sync) as users of two business units,
// their manager, a maker and an administrator, checking what must be
// refused as well as what is allowed, every privilege and share right,
// and that rows a caller cannot read answer exactly as missing ones.
func TestAuthorizationMatrix(t *testing.T) {
	for _, e := range testenv.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			m := newMatrix(t, e)
			nora, sam := m.ids["nora"], m.ids["sam"]
			nWO := m.rowOf(t, "workorder", nora)
			nAcc := m.rowOf(t, "account", nora)
			sWO := m.rowOf(t, "workorder", sam)
			teamWO := m.rowOf(t, "workorder", m.env.NorthTeam)
			wo := func(id string) string { return "/api/data/workorder(" + id + ")" }
			acc := "/api/data/account(" + nAcc + ")"
			const created, ok, none, bad, forbidden, notFound, conflict = 201, 200, 204, 400, 403, 404, 409

			t.Run("rows by owner, team, unit and role", func(t *testing.T) {
				m.run(t, []step{
					{"nora", "GET", wo(nWO), "", ok},
					{"ned", "GET", wo(teamWO), "", ok}, // through the North team
					{"nora", "GET", wo(teamWO), "", ok},
					{"sam", "GET", wo(teamWO), "", notFound},
					{"ned", "GET", wo(nWO), "", notFound}, // same unit, User depth
					{"sam", "GET", wo(nWO), "", notFound},
					{"manager", "GET", wo(nWO), "", notFound}, // managing is no privilege
					{"maker", "GET", wo(nWO), "", forbidden},  // no privilege on the table at all
					{"admin", "GET", wo(nWO), "", ok},
					{"sam", "PATCH", wo(nWO), `{"description":"x"}`, notFound},
					{"sam", "DELETE", wo(nWO), "", notFound},
					{"sam", "POST", wo(nWO) + "/assign", `{"ownerid":"` + sam + `"}`, notFound},
					{"sam", "POST", wo(nWO) + "/share", `{"principalid":"` + sam + `","rights":1}`, notFound},
					{"sam", "POST", "/api/data/workorder/UpdateMultiple", `{"Targets":[{"workorderid":"` + nWO + `","description":"x"}]}`, notFound},
					{"sam", "POST", "/api/data/workorder/UpsertMultiple", `{"Targets":[{"workorderid":"` + nWO + `","description":"x"}]}`, notFound},
					{"maker", "POST", "/api/data/workorder/CreateMultiple", `{"Targets":[{"name":"x"}]}`, forbidden},
					{"sam", "GET", "/api/files/workorder(" + nWO + ")/report", "", notFound},
					{"sam", "PUT", "/api/files/workorder(" + nWO + ")/report", "x", notFound},
					{"sam", "DELETE", "/api/files/workorder(" + nWO + ")/report", "", notFound},
					{"maker", "PATCH", acc, `{"name":"x"}`, forbidden}, // reads every account, writes none
					{"maker", "GET", acc, "", ok},
					{"nora", "PATCH", wo(nWO), `{"description":"by nora"}`, ok},
					{"nora", "POST", "/api/data/workorder", `{"name":"new","ownerid":"` + sam + `"}`, forbidden}, // outside her create depth
					{"nora", "POST", "/api/data/workorder", `{"name":"new","customerid":"` + outpost.NewID() + `"}`, bad},
					{"admin", "PATCH", wo(sWO), `{"description":"by admin"}`, ok},
				})
				// Lists and change feeds hold only readable rows.
				m.run(t, []step{{"nora", "GET", "/api/changes/workorder", "", forbidden}, {"admin", "GET", "/api/changes/workorder", "", ok}})
				for _, path := range []string{"/api/data/workorder?$select=ownerid", "/api/data/account?$select=ownerid"} {
					code, body := m.call(t, "nora", "GET", path, "")
					if code != ok {
						t.Fatalf("%s: %d %v", path, code, body)
					}
					rows, _ := body["value"].([]any)
					for _, r := range rows {
						if o := r.(map[string]any)["ownerid"]; o != nora && o != m.env.NorthTeam {
							t.Errorf("%s gave nora a row owned by %v", path, o)
						}
					}
					if len(rows) == 0 {
						t.Errorf("%s gave nora no rows", path)
					}
				}
			})

			t.Run("unreadable rows answer as missing", func(t *testing.T) {
				missing := outpost.NewID()
				for _, c := range []struct{ method, path, body string }{
					{"GET", "/api/data/workorder(%s)", ""},
					{"PATCH", "/api/data/workorder(%s)", `{"description":"x"}`},
					{"DELETE", "/api/data/workorder(%s)", ""},
					{"POST", "/api/data/workorder(%s)/assign", `{"ownerid":"` + sam + `"}`},
					{"POST", "/api/data/workorder(%s)/share", `{"principalid":"` + sam + `","rights":1}`},
					{"GET", "/api/files/workorder(%s)/photo", ""},
				} {
					hidden := strings.ReplaceAll(c.path, "%s", nAcc)
					if !strings.Contains(c.path, "%s") {
						hidden = c.path
					}
					fill := func(id string) (string, string) {
						if c.method == "POST" && c.path == "/api/data/workorder" {
							return c.path, strings.ReplaceAll(c.body, "%s", id)
						}
						return strings.ReplaceAll(c.path, "%s", id), c.body
					}
					_ = hidden
					hp, hb := fill(nWO)
					if c.path == "/api/data/workorder" {
						hp, hb = fill(nAcc) // a lookup to an account sam cannot read
					}
					mp, mb := fill(missing)
					hc, hbody := m.call(t, "sam", c.method, hp, hb)
					mc, mbody := m.call(t, "sam", c.method, mp, mb)
					hm := strings.NewReplacer(nWO, missing, nAcc, missing).Replace(errMessage(hbody))
					if hc != mc || hm != errMessage(mbody) || hc < 400 {
						t.Errorf("%s %s: unreadable %d %q, missing %d %q", c.method, c.path, hc, errMessage(hbody), mc, errMessage(mbody))
					}
				}
			})

			t.Run("share rights", func(t *testing.T) {
				share := func(rights int64) step {
					return step{"nora", "POST", wo(nWO) + "/share", `{"principalid":"` + sam + `","rights":` + jsonInt(rights) + `}`, none}
				}
				sOwnAcc := m.rowOf(t, "account", sam)
				m.run(t, []step{
					share(platform.ShareRead),
					{"sam", "GET", wo(nWO), "", ok},
					{"sam", "PATCH", wo(nWO), `{"description":"x"}`, forbidden},
					{"sam", "PATCH", wo(nWO), `{"customerid":"` + sOwnAcc + `"}`, forbidden},
					{"sam", "DELETE", wo(nWO), "", forbidden},
					{"sam", "POST", wo(nWO) + "/assign", `{"ownerid":"` + sam + `"}`, forbidden},
					{"sam", "POST", wo(nWO) + "/share", `{"principalid":"` + m.ids["sue"] + `","rights":1}`, forbidden},
					{"sam", "PUT", "/api/files/workorder(" + nWO + ")/report", "x", forbidden},
					share(platform.ShareRead | platform.ShareWrite),
					{"sam", "PATCH", wo(nWO), `{"description":"by sam"}`, ok},
					{"sam", "PATCH", wo(nWO), `{"customerid":"` + sOwnAcc + `"}`, forbidden}, // needs append
					share(platform.ShareRead | platform.ShareWrite | platform.ShareAppend),
					{"sam", "PATCH", wo(nWO), `{"customerid":"` + sOwnAcc + `"}`, ok},
					// Append to: Basic User appends to every account already,
					// so the right is proven on work orders (platform tests
					// prove it on accounts): the customer of sam's work order
					// may be nora's account; sam's task may regard it.
					{"nora", "POST", acc + "/share", `{"principalid":"` + sam + `","rights":17}`, none},
					{"sam", "PATCH", wo(sWO), `{"customerid":"` + nAcc + `"}`, ok},
					{"sam", "GET", acc, "", ok},
					{"sam", "PATCH", acc, `{"name":"x"}`, forbidden},
					// Share: only what sam holds.
					share(platform.ShareRead | platform.ShareShare),
					{"sam", "POST", wo(nWO) + "/share", `{"principalid":"` + m.ids["sue"] + `","rights":3}`, forbidden},
					{"sam", "POST", wo(nWO) + "/share", `{"principalid":"` + m.ids["sue"] + `","rights":1}`, none},
					{"sue", "GET", wo(nWO), "", ok},
					// Nobody shares what they lack: the maker reads accounts only.
					{"maker", "POST", acc + "/share", `{"principalid":"` + sam + `","rights":3}`, forbidden},
					{"nora", "POST", wo(nWO) + "/share", `{"principalid":"` + sam + `","rights":8}`, bad},
					{"nora", "POST", wo(nWO) + "/share", `{"principalid":"` + sam + `","rights":2}`, bad},
					// Delete and assign.
					share(platform.ShareRead | platform.ShareAssign),
					{"sam", "DELETE", wo(nWO), "", forbidden},
					{"sam", "POST", wo(nWO) + "/assign", `{"ownerid":"` + sam + `"}`, ok},
					{"admin", "POST", wo(nWO) + "/assign", `{"ownerid":"` + nora + `"}`, ok},
					share(platform.ShareRead | platform.ShareDelete),
					{"sam", "DELETE", wo(nWO), "", none},
					{"nora", "POST", wo(nWO) + "/unshare", `{"principalid":"` + sam + `"}`, notFound},
				})
			})

			t.Run("security management", func(t *testing.T) {
				admin, field, north := security.RoleSystemAdministrator, m.env.FieldRole, m.env.NorthTeam
				m.run(t, []step{
					{"nora", "PUT", "/api/security/users/" + nora + "/roles/" + admin, "", forbidden},
					{"manager", "PUT", "/api/security/users/" + nora + "/roles/" + admin, "", forbidden},
					{"maker", "PUT", "/api/security/users/" + m.ids["maker"] + "/roles/" + admin, "", forbidden},
					{"nora", "PUT", "/api/security/users/" + sam + "/roles/" + field, "", forbidden},
					{"nora", "DELETE", "/api/security/users/" + sam + "/roles/" + field, "", forbidden},
					{"nora", "PUT", "/api/security/users/" + nora + "/roles/" + field, "", forbidden}, // held already: the same answer
					{"nora", "DELETE", "/api/security/users/" + sam + "/roles/" + admin, "", forbidden},
					{"sam", "PUT", "/api/security/teams/" + north + "/members/" + sam, "", forbidden},
					{"nora", "PUT", "/api/security/teams/" + north + "/roles/" + admin, "", forbidden},
					{"maker", "PUT", "/api/security/roles/" + field + "/privileges", `{"privileges":[]}`, forbidden},
					{"nora", "GET", "/api/security/users/" + sam + "/privileges", "", forbidden},
					{"nora", "GET", "/api/security/users/" + nora + "/privileges", "", ok},
					{"nora", "POST", "/api/security/users/" + sam + "/tokens", "", forbidden},
					{"nora", "POST", "/api/data/systemuserroles", `{"systemuserid":"` + nora + `","roleid":"` + admin + `"}`, forbidden},
					{"nora", "POST", "/api/data/teamroles", `{"teamid":"` + north + `","roleid":"` + admin + `"}`, forbidden},
					{"sam", "POST", "/api/data/teammembership", `{"teamid":"` + north + `","systemuserid":"` + sam + `"}`, forbidden},
					{"nora", "PATCH", "/api/data/systemuser(" + nora + ")", `{"businessunitid":"` + m.env.SouthBU + `"}`, forbidden},
					{"nora", "DELETE", "/api/security/teams/" + north + "/roles/" + field, "", forbidden},
					{"nora", "DELETE", "/api/security/teams/" + north + "/members/" + m.ids["ned"], "", forbidden},
					{"nora", "POST", "/api/data/role", `{"name":"mine"}`, forbidden},
					{"nora", "DELETE", "/api/data/role(" + field + ")", "", notFound},
					{"admin", "PUT", "/api/security/teams/" + north + "/members/" + sam, "", none},
					{"sam", "GET", wo(teamWO), "", ok},
					{"admin", "DELETE", "/api/security/teams/" + north + "/members/" + sam, "", none},
					{"sam", "GET", wo(teamWO), "", notFound},
				})
			})

			t.Run("metadata and offline", func(t *testing.T) {
				var profileID string
				testenv.Must(t, m.p.DB().Read.QueryRow(`SELECT mobileofflineprofileid FROM mobileofflineprofile LIMIT 1`).Scan(&profileID))
				m.run(t, []step{
					{"nora", "POST", "/api/metadata/tables", `{"name":"noratable","ownership":"user","primaryName":"name","columns":[{"name":"name","type":"text","maxLength":10}]}`, forbidden},
					{"nora", "POST", "/api/metadata/tables/workorder/columns", `{"name":"extra","type":"text","maxLength":10}`, forbidden},
					{"nora", "GET", "/api/offline/profiles", "", ok},
					{"nora", "POST", "/api/offline/profiles", `{"name":"Mine"}`, forbidden},
					{"nora", "PATCH", "/api/offline/profiles/" + profileID, `{"description":"x"}`, forbidden},
					{"nora", "DELETE", "/api/offline/profiles/" + profileID, "", forbidden},
					{"nora", "POST", "/api/offline/profiles/" + profileID + "/publish", "", forbidden},
					{"nora", "POST", "/api/offline/apps", `{"name":"x","kind":"canvas"}`, forbidden},
					{"nora", "DELETE", "/api/offline/apps/" + m.env.CanvasApp, "", forbidden},
					{"nora", "POST", "/api/offline/solutions", `{"name":"x"}`, forbidden},
					{"nora", "PATCH", "/api/metadata/tables/workorder", `{"displayName":"x"}`, forbidden},
					{"nora", "POST", "/api/metadata/relationships", `{"name":"x_y","table1":"account","table2":"contact"}`, forbidden},
					{"nora", "PUT", "/api/offline/profiles/" + profileID + "/items/task", `{"rule":"all"}`, forbidden},
					{"nora", "DELETE", "/api/offline/profiles/" + profileID + "/items/workorder", "", forbidden},
					{"nora", "POST", "/api/offline/profiles/" + profileID + "/clone", `{"name":"copy"}`, forbidden},
					{"nora", "PUT", "/api/offline/apps/" + m.env.CanvasApp + "/offline", `{"enabled":false}`, forbidden},
					{"nora", "POST", "/api/offline/apps/" + m.env.CanvasApp + "/publish", "", forbidden},
					{"nora", "POST", "/api/offline/apps/" + m.env.CanvasApp + "/generate-profile", "", forbidden},
					{"nora", "POST", "/api/offline/solutions/import", `{"name":"x"}`, forbidden},
					{"maker", "POST", "/api/offline/profiles", `{"name":"Maker's"}`, created},
				})
			})

			t.Run("sync and sync errors", func(t *testing.T) {
				noraDev, samDev := outpost.NewID(), outpost.NewID()
				p := wire.Prefix
				m.run(t, []step{
					{"nora", "POST", p + "/open", `{"deviceId":"` + noraDev + `","appId":"` + m.env.ModelDrivenApp + `"}`, ok},
					{"sam", "POST", p + "/open", `{"deviceId":"` + samDev + `","appId":"` + m.env.ModelDrivenApp + `"}`, ok},
					{"sam", "POST", p + "/open", `{"deviceId":"` + noraDev + `","appId":"` + m.env.ModelDrivenApp + `"}`, forbidden},
					{"sam", "POST", p + "/snapshot", `{"deviceId":"` + noraDev + `","table":"workorder"}`, forbidden},
					{"sam", "POST", p + "/upload", `{"deviceId":"` + noraDev + `","changes":[]}`, forbidden},
					{"sam", "POST", p + "/reconcile", `{"deviceId":"` + noraDev + `","table":"workorder","buckets":1}`, forbidden},
					{"sam", "POST", p + "/files", `{"deviceId":"` + noraDev + `","ids":[]}`, forbidden},
					{"sam", "GET", p + "/files/" + outpost.NewID() + "?deviceId=" + noraDev, "", forbidden},
					{"sam", "PUT", p + "/files/" + outpost.NewID() + "?deviceId=" + noraDev, "x", forbidden},
					{"nora", "PUT", p + "/settings", `{"conflictDetection":true}`, forbidden},
					{"nora", "GET", p + "/errors?all=true", "", forbidden},
					{"nora", "POST", "/api/data/syncerror", `{"name":"planted","actiondata":"{}"}`, forbidden},
					{"maker", "POST", "/api/data/syncerror", `{"name":"planted","actiondata":"{}"}`, forbidden},
					{"admin", "POST", "/api/data/syncerror", `{"name":"planted","actiondata":"{}"}`, forbidden},
				})
				// Sam's rejected upload becomes his Sync Error: his to read
				// and resolve, nobody else's; no caller may rewrite it.
				code, body := m.call(t, "sam", "POST", p+"/upload", `{"deviceId":"`+samDev+`","changes":[{"seq":1,"mutationId":"a","table":"workorder","op":"update","id":"`+teamWO+`","baseVersion":1,"columns":{"description":"x"}}]}`)
				if code != ok {
					t.Fatalf("upload: %d %v", code, body)
				}
				res := body["results"].([]any)[0].(map[string]any)
				seID, _ := res["error"].(map[string]any)["syncErrorId"].(string)
				if seID == "" {
					t.Fatalf("upload result %v names no sync error", res)
				}
				if msg := res["error"].(map[string]any)["message"]; msg != "no row of table \"workorder\" has id "+teamWO {
					t.Errorf("upload of an unreadable row says %q", msg)
				}
				// Administrators list and filter everyone's; others only their own.
				m.run(t, []step{
					{"nora", "GET", p + "/errors?user=" + sam, "", forbidden},
					{"maker", "GET", p + "/errors?all=true", "", forbidden},
					{"maker", "GET", p + "/errors?user=" + sam, "", forbidden},
					{"sam", "GET", p + "/errors?user=" + sam + "&table=workorder&state=0", "", ok},
					{"admin", "GET", p + "/errors?type=9", "", bad},
					{"admin", "GET", p + "/errors?state=x", "", bad},
					{"admin", "GET", p + "/errors?user=nosuch", "", bad},
					{"admin", "GET", p + "/errors?table=work%27order", "", bad},
					{"admin", "GET", p + "/errors?all=maybe", "", bad},
				})
				listed := func(who, query string) []string {
					t.Helper()
					code, body := m.call(t, who, "GET", p+"/errors?"+query, "")
					if code != ok {
						t.Fatalf("errors?%s as %s: %d %v", query, who, code, body)
					}
					var ids []string
					for _, e := range body["errors"].([]any) {
						ids = append(ids, e.(map[string]any)["syncerrorid"].(string))
					}
					return ids
				}
				_, one := m.call(t, "admin", "GET", p+"/errors?user="+sam, "")
				checkSchema(t, "SyncErrorList", one)
				for _, e := range one["errors"].([]any) {
					checkSchema(t, "SyncError", e)
				}
				_, devs := m.call(t, "admin", "GET", "/api/admin/devices", "")
				checkSchema(t, "DeviceList", devs)
				for _, d := range devs["value"].([]any) {
					checkSchema(t, "DeviceInfo", d)
					for _, st := range d.(map[string]any)["stores"].([]any) {
						checkSchema(t, "DeviceStore", st)
					}
				}
				has := func(ids []string) bool { return slices.Contains(ids, seID) }
				if !has(listed("admin", "user="+sam+"&table=workorder&type="+jsonInt(int64(res["error"].(map[string]any)["type"].(float64)))+"&state=0")) {
					t.Errorf("the administrator's filter by Sam, workorder, its type and active does not list Sam's error")
				}
				for _, q := range []string{"user=" + nora, "table=account", "state=1", "all=true&type=" + jsonInt(3-int64(res["error"].(map[string]any)["type"].(float64)))} {
					if has(listed("admin", q)) {
						t.Errorf("errors?%s lists Sam's workorder error", q)
					}
				}
				if !has(listed("admin", "all=true")) || has(listed("nora", "")) {
					t.Errorf("all=true must list Sam's error for the administrator, and Nora's own list must not")
				}
				m.run(t, []step{
					{"sam", "GET", "/api/data/syncerror(" + seID + ")", "", ok},
					{"nora", "GET", "/api/data/syncerror(" + seID + ")", "", notFound},
					{"sam", "PATCH", "/api/data/syncerror(" + seID + ")", `{"actiondata":"{}"}`, forbidden},
					{"admin", "PATCH", "/api/data/syncerror(" + seID + ")", `{"actiondata":"{}"}`, forbidden},
					{"sam", "POST", "/api/data/syncerror(" + seID + ")/assign", `{"ownerid":"` + nora + `"}`, forbidden},
					{"nora", "POST", p + "/errors/" + seID + "/retry", "", notFound},
					{"nora", "POST", p + "/errors/" + seID + "/resolve", "", notFound},
					{"admin", "POST", p + "/errors/" + seID + "/retry", "", notFound}, // applied as sam: the row is not his
					{"sam", "POST", p + "/errors/" + seID + "/resolve", "", ok},
					{"sam", "POST", p + "/errors/" + seID + "/retry", "", conflict},
				})
			})
		})
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
