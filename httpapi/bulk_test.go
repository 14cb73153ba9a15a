package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
)

// countRows returns how many rows of table the token's user can list.
func (f *fixture) countRows(t *testing.T, table, token string) int {
	t.Helper()
	code, body := f.do(t, "GET", "/api/data/"+table+"?$count=true&$top=1", token, "")
	if code != 200 {
		t.Fatalf("count %s: %d %v", table, code, body)
	}
	return int(body["@odata.count"].(float64))
}

func TestBulkActions(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		create := "/api/data/account/Microsoft.Dynamics.CRM.CreateMultiple"
		code, body := f.do(t, "POST", create, f.user, `{"Targets":[{"name":"A1"},{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"A2"},{"name":"A3","telephone1":"555"}]}`)
		if code != 200 {
			t.Fatalf("CreateMultiple: %d %v", code, body)
		}
		ids := body["Ids"].([]any)
		if len(ids) != 3 || f.countRows(t, "account", f.user) != 3 {
			t.Fatalf("CreateMultiple made %v, %d rows listed", ids, f.countRows(t, "account", f.user))
		}
		_, row := f.do(t, "GET", "/api/data/account("+ids[2].(string)+")", f.user, "")
		if row["ownerid"] != f.userID || row["telephone1"] != "555" {
			t.Errorf("created row %v: want the caller as owner and the values sent", row)
		}

		// One bad row fails the whole call, naming the row and column.
		code, body = f.do(t, "POST", create, f.user, `{"Targets":[{"name":"B1"},{"name":"B2","nosuch":1}]}`)
		if code != 400 || body["error"].(map[string]any)["target"] != "Targets[1].nosuch" || !strings.HasPrefix(body["error"].(map[string]any)["message"].(string), "row 1: ") {
			t.Fatalf("bad row: %d %v", code, body)
		}
		if n := f.countRows(t, "account", f.user); n != 3 {
			t.Fatalf("a refused call wrote rows: %d listed, want 3", n)
		}
		code, body = f.do(t, "POST", "/api/data/account/CreateMultiple", f.user, `{"Targets":[{"name":"B1"},{"@odata.type":"Microsoft.Dynamics.CRM.contact","name":"B2"}]}`)
		if code != 400 || body["error"].(map[string]any)["target"] != "Targets[1].@odata.type" {
			t.Fatalf("wrong @odata.type: %d %v", code, body)
		}

		// Continue on error: the good rows are written, the bad reported.
		req, _ := http.NewRequest("POST", f.srv.URL+create, strings.NewReader(`{"Targets":[{"name":"C1"},{"name":"C2","revenue":"lots"},{"name":"C3"}]}`))
		req.Header.Set("Authorization", "Bearer "+f.user)
		req.Header.Set("Prefer", "odata.continue-on-error")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var coe struct {
			Ids    []string
			Errors []struct {
				Index int
				Error struct{ Code, Target string }
			}
		}
		if err := json.NewDecoder(res.Body).Decode(&coe); err != nil || res.StatusCode != 200 {
			t.Fatalf("continue-on-error: %d %v", res.StatusCode, err)
		}
		res.Body.Close()
		if len(coe.Ids) != 3 || coe.Ids[0] == "" || coe.Ids[1] != "" || coe.Ids[2] == "" || len(coe.Errors) != 1 || coe.Errors[0].Index != 1 || coe.Errors[0].Error.Target != "revenue" {
			t.Fatalf("continue-on-error reply: %+v", coe)
		}
		if n := f.countRows(t, "account", f.user); n != 5 {
			t.Fatalf("continue-on-error wrote %d rows in all, want 5", n)
		}

		// UpdateMultiple and UpsertMultiple.
		code, body = f.do(t, "POST", "/api/data/account/Microsoft.Dynamics.CRM.UpdateMultiple", f.user,
			fmt.Sprintf(`{"Targets":[{"accountid":%q,"telephone1":"1"},{"accountid":%q,"telephone1":"2"}]}`, ids[0], ids[1]))
		if code != http.StatusNoContent {
			t.Fatalf("UpdateMultiple: %d %v", code, body)
		}
		if _, row := f.do(t, "GET", "/api/data/account("+ids[1].(string)+")", f.user, ""); row["telephone1"] != "2" {
			t.Errorf("after UpdateMultiple: %v", row)
		}
		code, body = f.do(t, "POST", "/api/data/account/UpdateMultiple", f.user, `{"Targets":[{"telephone1":"1"}]}`)
		if code != 400 || body["error"].(map[string]any)["target"] != "Targets[0].accountid" {
			t.Fatalf("UpdateMultiple without a key: %d %v", code, body)
		}
		fresh := "5b0e8e9a-0c1f-4a52-9d5e-2f3c4b5a6d7e"
		code, body = f.do(t, "POST", "/api/data/account/UpsertMultiple", f.user,
			fmt.Sprintf(`{"Targets":[{"accountid":%q,"name":"A1 renamed"},{"accountid":%q,"name":"New"}]}`, ids[0], fresh))
		if code != 200 || fmt.Sprint(body["Created"]) != "[false true]" {
			t.Fatalf("UpsertMultiple: %d %v", code, body)
		}
		if _, row := f.do(t, "GET", "/api/data/account("+fresh+")", f.user, ""); row["name"] != "New" {
			t.Errorf("upserted row: %v", row)
		}

		// Rows the caller may not read answer as a PATCH does: not found.
		code, row = f.do(t, "POST", "/api/data/account", f.admin, `{"name":"Admin's"}`)
		if code != 201 {
			t.Fatalf("admin create: %d %v", code, row)
		}
		hidden := row["accountid"].(string)
		for _, action := range []string{"UpdateMultiple", "UpsertMultiple"} {
			code, body = f.do(t, "POST", "/api/data/account/"+action, f.user, fmt.Sprintf(`{"Targets":[{"accountid":%q,"name":"mine now"}]}`, hidden))
			if code != 404 || strings.Contains(fmt.Sprint(body), "Admin's") {
				t.Errorf("%s on a hidden row: %d %v", action, code, body)
			}
		}
		code, body = f.do(t, "POST", "/api/data/$batch", f.user, fmt.Sprintf(`{"requests":[{"id":"1","atomicityGroup":"g","method":"PATCH","url":"account(%s)","body":{"name":"mine now"}}]}`, hidden))
		if resp := body["responses"].([]any)[0].(map[string]any); code != 200 || resp["status"] != float64(404) || strings.Contains(fmt.Sprint(resp), "Admin's") {
			t.Errorf("$batch PATCH of a hidden row: %d %v", code, body)
		}
		if _, row := f.do(t, "GET", "/api/data/account("+hidden+")", f.admin, ""); row["name"] != "Admin's" {
			t.Errorf("hidden row changed: %v", row)
		}
		// Privileges are those of single writes.
		code, body = f.do(t, "POST", "/api/data/role/CreateMultiple", f.user, `{"Targets":[{"name":"Mine"}]}`)
		if code != 403 {
			t.Errorf("CreateMultiple on role by a basic user: %d %v", code, body)
		}
		code, body = f.do(t, "POST", "/api/data/account/DeleteEverything", f.user, `{}`)
		if code != 404 {
			t.Errorf("unknown action: %d %v", code, body)
		}
	})
}

func TestBatch(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		f := newFixture(t, e)
		type reply struct {
			Responses []struct {
				ID             string
				Status         int
				Headers        map[string]string
				Body           map[string]any
				AtomicityGroup string
			}
		}
		batch := func(body string) (int, reply, map[string]any) {
			t.Helper()
			code, raw := f.do(t, "POST", "/api/data/$batch", f.user, body)
			var r reply
			b, _ := json.Marshal(raw)
			_ = json.Unmarshal(b, &r)
			return code, r, raw
		}
		// A change set that fails is written not at all.
		code, r, raw := batch(`{"requests":[
				{"id":"1","atomicityGroup":"g","method":"POST","url":"account","body":{"name":"G1"}},
				{"id":"2","atomicityGroup":"g","method":"POST","url":"account","body":{"name":"G2","nosuch":1}},
				{"id":"3","atomicityGroup":"g","method":"POST","url":"account","body":{"name":"G3"}},
				{"id":"4","method":"POST","url":"account","body":{"name":"Alone"}}]}`)
		if code != 200 || len(r.Responses) != 4 {
			t.Fatalf("batch: %d %v", code, raw)
		}
		if got := fmt.Sprint(r.Responses[0].Status, r.Responses[1].Status, r.Responses[2].Status, r.Responses[3].Status); got != "424 400 424 201" {
			t.Fatalf("statuses %s, want 424 400 424 201: %v", got, raw)
		}
		if r.Responses[1].Body["error"].(map[string]any)["target"] != "nosuch" || r.Responses[0].AtomicityGroup != "g" {
			t.Errorf("the failing request's answer: %v", r.Responses[1])
		}
		if n := f.countRows(t, "account", f.user); n != 1 {
			t.Fatalf("%d accounts after a failed change set and one lone create, want 1", n)
		}

		// A change set that succeeds; $1 names the row request 1 created.
		code, r, raw = batch(`{"requests":[
				{"id":"1","atomicityGroup":"g","method":"POST","url":"account","body":{"name":"Parent"}},
				{"id":"2","atomicityGroup":"g","method":"PATCH","url":"$1","body":{"telephone1":"777"}},
				{"id":"3","method":"GET","url":"account?$filter=telephone1 eq '777'&$select=name","dependsOn":["2"]}]}`)
		if code != 200 || r.Responses[0].Status != 201 || r.Responses[1].Status != 200 || r.Responses[2].Status != 200 {
			t.Fatalf("change set with a reference: %d %v", code, raw)
		}
		if v := r.Responses[2].Body["value"].([]any); len(v) != 1 || v[0].(map[string]any)["name"] != "Parent" {
			t.Errorf("GET after the change set: %v", r.Responses[2].Body)
		}
		// A request that depends on a failed one is not run.
		_, r, raw = batch(`{"requests":[
				{"id":"a","method":"PATCH","url":"account(5b0e8e9a-0c1f-4a52-9d5e-2f3c4b5a6d7e)","body":{"name":"x"}},
				{"id":"b","method":"POST","url":"account","body":{"name":"after"},"dependsOn":["a"]},
				{"id":"c","method":"POST","url":"$batch","body":{}}]}`)
		if len(r.Responses) != 3 || r.Responses[0].Status != 404 || r.Responses[1].Status != 424 || r.Responses[2].Status != 400 {
			t.Fatalf("dependsOn / nested batch: %v", raw)
		}
		// The batch's shape is checked before anything runs.
		for _, bad := range []string{
			`{"requests":[]}`,
			`{"requests":[{"id":"1","method":"GET","url":"account","atomicityGroup":"g"}]}`,
			`{"requests":[{"id":"1","method":"PUT","url":"account"}]}`,
			`{"requests":[{"id":"1","method":"POST","url":"account","body":{}},{"id":"1","method":"POST","url":"account","body":{}}]}`,
			`{"requests":[{"id":"1","method":"POST","url":"account","dependsOn":["2"]},{"id":"2","method":"POST","url":"account"}]}`,
			`{"requests":[{"id":"1","atomicityGroup":"g","method":"POST","url":"account"},{"id":"2","method":"POST","url":"account"},{"id":"3","atomicityGroup":"g","method":"POST","url":"account"}]}`,
		} {
			before := f.countRows(t, "account", f.user)
			if code, body := f.do(t, "POST", "/api/data/$batch", f.user, bad); code != 400 {
				t.Errorf("%s: %d %v, want 400", bad, code, body)
			}
			if f.countRows(t, "account", f.user) != before {
				t.Errorf("%s wrote rows", bad)
			}
		}
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/data/$batch", strings.NewReader("--batch_1\r\n"))
		req.Header.Set("Authorization", "Bearer "+f.user)
		req.Header.Set("Content-Type", "multipart/mixed; boundary=batch_1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("multipart batch: %d, want 415", res.StatusCode)
		}
		if code, _ := f.do(t, "POST", "/api/data/$batch", "", `{"requests":[{"id":"1","method":"GET","url":"account"}]}`); code != 401 {
			t.Errorf("batch without a token: %d", code)
		}
	})
}
