package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/wire"
)

// snapshotSpy records the content types of snapshot replies and can make
// the device look like one that only reads JSON (no Accept header).
type snapshotSpy struct {
	next     http.RoundTripper
	jsonOnly bool
	mu       sync.Mutex
	types    map[string]int
	cut      int64 // cut every snapshot reply after this many bytes
}

func (s *snapshotSpy) RoundTrip(req *http.Request) (*http.Response, error) {
	snapshot := strings.HasSuffix(req.URL.Path, "/snapshot")
	if snapshot && s.jsonOnly {
		req = req.Clone(req.Context())
		req.Header.Del("Accept")
	}
	resp, err := s.next.RoundTrip(req)
	if err == nil && snapshot && resp.StatusCode == http.StatusOK {
		media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		s.mu.Lock()
		if s.types == nil {
			s.types = map[string]int{}
		}
		s.types[media]++
		if s.cut > 0 {
			resp.Body = &cutBody{r: resp.Body, left: s.cut}
		}
		s.mu.Unlock()
	}
	return resp, err
}

func (s *snapshotSpy) count(media string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.types[media]
}

func (w *world) deviceWith(i int, dir string, tr http.RoundTripper, pageSize int) *client.Client {
	w.t.Helper()
	c, err := client.Open(context.Background(), client.Options{Dir: dir, Server: w.srv.URL, Token: w.tokens[i], AppID: "fieldapp",
		HTTPClient: &http.Client{Transport: tr}, PageSize: pageSize})
	testenv.Must(w.t, err)
	w.t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestFirstSyncEncodings: a device downloads its plan in the compact
// encoding, and a device that does not ask for it (an older one) gets
// newline-delimited JSON; both end equal to the plan, every column type
// included (datetimes, decimals, money, booleans, choices, lookups, memos,
// nulls).
func TestFirstSyncEncodings(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 3)
		w.seed([]string{w.users[0], w.users[1], w.team}, 5, 3)
		for _, jsonOnly := range []bool{false, true} {
			spy := &snapshotSpy{next: http.DefaultTransport, jsonOnly: jsonOnly}
			dev := w.deviceWith(0, t.TempDir(), spy, 4)
			res, err := dev.Sync(ctx, client.SyncOptions{})
			testenv.Must(t, err)
			if !res.FirstSync || res.Upserted == 0 {
				t.Fatalf("json only %v: first sync = %+v", jsonOnly, res)
			}
			w.checkEqual(t, 0, dev)
			want, other := wire.PagesContentType, wire.NDJSONContentType
			if jsonOnly {
				want, other = other, want
			}
			if spy.count(want) == 0 || spy.count(other) != 0 {
				t.Fatalf("json only %v: snapshot replies by type %v, want only %s", jsonOnly, spy.types, want)
			}
		}
	})
}

// TestFirstSyncResumesAfterCuts: every snapshot stream, the ones requested
// ahead included, is cut after a few pages, inside a frame or a line; each
// cut costs one failed Sync, the next Sync resumes from the stored cursors,
// and the device ends equal to its plan, having downloaded each row about
// once.
func TestFirstSyncResumesAfterCuts(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 3)
		w.seed([]string{w.users[0], w.users[1], w.team}, 8, 3)
		for _, jsonOnly := range []bool{false, true} {
			spy := &snapshotSpy{next: http.DefaultTransport, jsonOnly: jsonOnly, cut: 2500}
			dev := w.deviceWith(0, t.TempDir(), spy, 3)
			cuts, rows := 0, 0
			var last client.Progress
			for {
				// The progress of a resumed sync counts the rows stored
				// before, and never says more than all of them.
				last.Rows = 0
				res, err := dev.Sync(ctx, client.SyncOptions{OnProgress: func(p client.Progress) {
					if p.Phase != "first sync" {
						return
					}
					if p.Rows < last.Rows || p.Rows > p.TotalRows {
						t.Errorf("json only %v: progress went from %d/%d rows to %d/%d", jsonOnly, last.Rows, last.TotalRows, p.Rows, p.TotalRows)
					}
					last = p
				}})
				rows += res.Upserted
				if err == nil {
					break
				}
				if !errors.Is(err, client.ErrUnreachable) {
					t.Fatalf("json only %v: cut sync: %v", jsonOnly, err)
				}
				if cuts++; cuts > 500 {
					t.Fatalf("json only %v: no progress after %d cuts", jsonOnly, cuts)
				}
			}
			w.checkEqual(t, 0, dev)
			if last.Rows != last.TotalRows || last.TablesDone != last.Tables {
				t.Errorf("json only %v: the resumed first sync ended at %d/%d rows, %d/%d tables", jsonOnly, last.Rows, last.TotalRows, last.TablesDone, last.Tables)
			}
			if cuts < 3 {
				t.Fatalf("json only %v: only %d cuts happened", jsonOnly, cuts)
			}
			total := 0
			for _, table := range dev.Tables() {
				got, err := dev.Rows(ctx, table)
				testenv.Must(t, err)
				total += len(got)
			}
			// Rows stored in a transaction cut before its commit are
			// downloaded again; nothing else is.
			if rows > 2*total {
				t.Errorf("json only %v: %d rows downloaded for %d held over %d cuts", jsonOnly, rows, total, cuts)
			}
		}
	})
}

// streamOrder records when a first sync requests each table's snapshot
// stream and when the device first reads a reply; the first table's reply
// is held back for a while, as a server still reading its scope would.
type streamOrder struct {
	next   http.RoundTripper
	first  string // the table whose reply is held back
	hold   time.Duration
	mu     sync.Mutex
	events []string
}

func (s *streamOrder) log(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *streamOrder) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/snapshot") {
		return s.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var in wire.SnapshotRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	s.log("request " + in.Table)
	if in.Table == s.first {
		time.Sleep(s.hold)
	}
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		resp.Body = &firstRead{ReadCloser: resp.Body, on: func() { s.log("reply " + in.Table) }}
	}
	return resp, err
}

type firstRead struct {
	io.ReadCloser
	once sync.Once
	on   func()
}

func (f *firstRead) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 {
		f.once.Do(f.on)
	}
	return n, err
}

// TestFirstSyncRequestsAheadAfterTheFirstPage: a first sync asks for the
// next tables' streams once the current table's first page has come, not
// before: a server reading the next scopes at the same time would answer
// the first page later, and the device waits for nothing else. Each table
// is still requested once, and the device ends equal to its plan.
func TestFirstSyncRequestsAheadAfterTheFirstPage(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e, 3)
		w.seed([]string{w.users[0], w.users[1], w.team}, 5, 3)
		spy := &streamOrder{next: http.DefaultTransport, hold: 300 * time.Millisecond}
		dev := w.deviceWith(0, t.TempDir(), spy, 4)
		spy.first = dev.Tables()[0]
		_, err := dev.Sync(ctx, client.SyncOptions{})
		testenv.Must(t, err)
		w.checkEqual(t, 0, dev)
		spy.mu.Lock()
		events := slices.Clone(spy.events)
		spy.mu.Unlock()
		replied := slices.Index(events, "reply "+spy.first)
		if replied < 0 {
			t.Fatalf("no reply for %s: %v", spy.first, events)
		}
		for i, ev := range events {
			if strings.HasPrefix(ev, "request ") && ev != "request "+spy.first && i < replied {
				t.Fatalf("%s was requested before the first table's reply came: %v", ev, events)
			}
		}
		for _, table := range dev.Tables() {
			if n := slices.Index(events, "request "+table); n < 0 || slices.Index(events[n+1:], "request "+table) >= 0 {
				t.Fatalf("table %s was not requested exactly once: %v", table, events)
			}
		}
	})
}
