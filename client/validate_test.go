package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
)

// TestOfflineEditsCheckedLikeServer: an offline edit the server would
// refuse (a choice value that is no option, a missing required column, text
// for a number, text too long, null in a required column) is refused at
// once on the device with the server's own message, and nothing is queued.
func TestOfflineEditsCheckedLikeServer(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 2, 1)
		f := &faults{}
		dev := w.device(0, t.TempDir(), f)
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		wos, err := dev.Query(ctx, "workorder", client.Query{})
		testenv.Must(t, err)
		id := wos[0]["workorderid"].(string)
		long := strings.Repeat("x", 101)
		cases := []struct {
			name   string
			create bool
			device map[string]any // as a form or the command line gives it
			server map[string]any // the same edit sent to the data API
		}{
			{"not an option", true, map[string]any{"name": "A", "priority": "9"}, map[string]any{"name": "A", "priority": 9}},
			{"required missing", true, map[string]any{"priority": "2"}, map[string]any{"priority": 2}},
			{"text for a choice", true, map[string]any{"name": "A", "priority": "abc"}, map[string]any{"name": "A", "priority": "abc"}},
			{"text for a decimal", true, map[string]any{"name": "A", "estimatedhours": "lots"}, map[string]any{"name": "A", "estimatedhours": "lots"}},
			{"text for yes/no", true, map[string]any{"name": "A", "completed": "maybe"}, map[string]any{"name": "A", "completed": "maybe"}},
			{"too long", true, map[string]any{"name": long}, map[string]any{"name": long}},
			{"bad date", false, map[string]any{"scheduledstart": "soon"}, map[string]any{"scheduledstart": "soon"}},
			{"required null", false, map[string]any{"name": nil}, map[string]any{"name": nil}},
			{"option on update", false, map[string]any{"priority": 7}, map[string]any{"priority": 7}},
		}
		f.set(func(f *faults) { f.down = true })
		for _, c := range cases {
			if c.create {
				_, err = dev.Create(ctx, "workorder", c.device)
			} else {
				err = dev.Update(ctx, "workorder", id, c.device)
			}
			var de *outpost.Error
			if !errors.As(err, &de) || de.Code != outpost.CodeInvalid {
				t.Fatalf("%s: device error = %v, want invalid", c.name, err)
			}
			want := serverRefusal(t, w, c.create, id, c.server)
			if de.Message != want {
				t.Errorf("%s: device says %q, server says %q", c.name, de.Message, want)
			}
		}
		st, err := dev.Status(ctx)
		testenv.Must(t, err)
		if st.PendingUploads != 0 {
			t.Fatalf("%d refused edits were queued", st.PendingUploads)
		}
		after, err := dev.Query(ctx, "workorder", client.Query{})
		testenv.Must(t, err)
		if len(after) != len(wos) {
			t.Fatalf("refused creates left rows: %d rows, had %d", len(after), len(wos))
		}
		// A good edit given as text still queues.
		if _, err := dev.Create(ctx, "workorder", map[string]any{"name": "Fine", "priority": "2", "estimatedhours": "1.5", "completed": "false"}); err != nil {
			t.Fatalf("a valid create was refused: %v", err)
		}
	})
}

// serverRefusal sends the edit to the data API as the device's user and
// returns the server's error message; it fails the test if accepted.
func serverRefusal(t *testing.T, w *world, create bool, id string, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	method, url := http.MethodPost, w.srv.URL+"/api/data/workorder"
	if !create {
		method, url = http.MethodPatch, w.srv.URL+"/api/data/workorder("+id+")"
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+w.tokens[0])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	testenv.Must(t, err)
	defer resp.Body.Close()
	var eb struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&eb)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("server answered %d to %s", resp.StatusCode, b)
	}
	return eb.Error.Message
}

// TestRequiredTextRefusesBlank: a required text column refuses "" and
// whitespace-only text on create and update, naming the column, whoever
// writes (a form, a canvas app through the host API, the command line);
// nothing is queued and the row keeps its value.
func TestRequiredTextRefusesBlank(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 1)
		w.seed([]string{w.users[0]}, 2, 1)
		dev := w.device(0, t.TempDir(), &faults{})
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		wos, err := dev.Query(ctx, "workorder", client.Query{})
		testenv.Must(t, err)
		id := wos[0]["workorderid"].(string)
		for _, blank := range []string{"", "   ", "\t\n"} {
			_, cerr := dev.Create(ctx, "workorder", map[string]any{"name": blank})
			uerr := dev.Update(ctx, "workorder", id, map[string]any{"name": blank})
			for op, err := range map[string]error{"create": cerr, "update": uerr} {
				var de *outpost.Error
				if !errors.As(err, &de) || de.Code != outpost.CodeInvalid || de.Target != "name" || !strings.Contains(de.Message, `"name"`) {
					t.Errorf("%s with name %q: %v, want invalid naming column name", op, blank, err)
				}
			}
		}
		// A column that is not required still takes an empty text.
		testenv.Must(t, dev.Update(ctx, "workorder", id, map[string]any{"description": ""}))
		row, err := dev.Get(ctx, "workorder", id)
		testenv.Must(t, err)
		if row["name"] != wos[0]["name"] {
			t.Fatalf("name after refused blanks: %v, was %v", row["name"], wos[0]["name"])
		}
		st, err := dev.Status(ctx)
		testenv.Must(t, err)
		if st.PendingUploads != 1 {
			t.Fatalf("%d changes queued, want only the description's", st.PendingUploads)
		}
	})
}
