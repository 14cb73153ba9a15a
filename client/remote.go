package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/wire"
)

// ErrUnreachable wraps failures to reach the server (no network, server
// down, connection cut): the device is offline, not in error.
var ErrUnreachable = errors.New("server unreachable")

// remote is the HTTP side of the protocol.
type remote struct {
	base string
	auth *auth // nil: no credential (sign-in)
	hc   *http.Client
	// pending is the upload queue's length the device reports; -1 unknown.
	pending atomic.Int64
	// sent and received count body bytes, for status and measurements.
	sent, received atomic.Int64
	// applyNs and failures are the device's side of its syncs not yet
	// reported to the server (wire.ClientReportHeader): time spent
	// applying replies to the local store, and syncs that failed.
	applyNs, failures atomic.Int64
}

// clientReport is the wire.ClientReportHeader value of what is not yet
// reported ("" for nothing), with the amounts it covers.
func (r *remote) clientReport() (v string, ns, failures int64) {
	ns, failures = r.applyNs.Load(), r.failures.Load()
	if ns <= 0 && failures == 0 {
		return "", 0, 0
	}
	ms := (ns + int64(time.Millisecond) - 1) / int64(time.Millisecond) // rounded up: some applying was done
	return fmt.Sprintf("apply-ms=%d, errors=%d", ms, failures), ns, failures
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// do sends a request with a JSON body (nil for none) and returns the
// response when its status is 2xx; otherwise the server's error as an
// *outpost.Error, or ErrUnreachable.
func (r *remote) do(ctx context.Context, method, path string, in any) (*http.Response, error) {
	if in == nil {
		return r.send(ctx, method, path, nil, nil)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	return r.send(ctx, method, path, b, map[string]string{"Content-Type": "application/json"})
}

// send sends body (nil for none) with the headers and returns the response
// when its status is 2xx; otherwise the server's error as an
// *outpost.Error, or ErrUnreachable. An access token that expired on the
// way is refreshed and the request sent once more.
func (r *remote) send(ctx context.Context, method, path string, body []byte, header map[string]string) (*http.Response, error) {
	return r.sendWith(ctx, method, path, body, header, true)
}

func (r *remote) sendWith(ctx context.Context, method, path string, body []byte, header map[string]string, authed bool) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.base, "/")+path, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("request %s: %w", path, err)
		}
		token := ""
		if authed && r.auth != nil {
			if token, err = r.auth.access(ctx, r); err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			if n := r.pending.Load(); n >= 0 {
				req.Header.Set("Outpost-Pending-Uploads", strconv.FormatInt(n, 10))
			}
		}
		report, reportNs, reportFailures := "", int64(0), int64(0)
		if authed && strings.HasPrefix(path, wire.Prefix+"/") {
			if report, reportNs, reportFailures = r.clientReport(); report != "" {
				req.Header.Set(wire.ClientReportHeader, report)
			}
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		r.sent.Add(int64(len(body)))
		resp, err := r.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, fmt.Errorf("%s %s: %w: %w", method, path, ErrUnreachable, err)
		}
		resp.Body = readCloser{countingReader{resp.Body, &r.received}, resp.Body}
		if resp.StatusCode/100 == 2 {
			if report != "" { // delivered: what comes next is reported next
				r.applyNs.Add(-reportNs)
				r.failures.Add(-reportFailures)
			}
			return resp, nil
		}
		err = replyError(method, path, resp)
		resp.Body.Close()
		// An expired access token is renewed; so is one the server no
		// longer knows, which happens when the reply of a refresh was lost
		// (the server replaced the token the device still holds).
		if code := outpost.ErrorCode(err); attempt == 0 && token != "" && r.auth.store != nil && (code == outpost.CodeTokenExpired || code == outpost.CodeUnauthorized) {
			if rerr := r.auth.refresh(ctx, r, token); rerr != nil {
				return nil, rerr
			}
			continue
		}
		return nil, err
	}
}

// replyError turns a non-2xx reply into the server's *outpost.Error, or
// ErrUnreachable for a 5xx without one and for a reply cut before its end
// (the network failed, not the request).
func replyError(method, path string, resp *http.Response) error {
	var eb wire.ErrorBody
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: status %d, reply cut: %w: %w", method, path, resp.StatusCode, ErrUnreachable, err)
	}
	if err := decodeJSONBody(bytes.NewReader(body), &eb); err != nil || eb.Error.Code == "" {
		if resp.StatusCode >= 500 {
			return fmt.Errorf("%s %s: status %d: %w", method, path, resp.StatusCode, ErrUnreachable)
		}
		return fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	return &outpost.Error{Code: outpost.Code(eb.Error.Code), Message: eb.Error.Message, Target: eb.Error.Target}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// call posts in and decodes the JSON reply into out.
func (r *remote) call(ctx context.Context, method, path string, in, out any) error {
	return r.callWith(ctx, method, path, in, out, true)
}

// callWith is call, without the device's credential when not authed.
func (r *remote) callWith(ctx context.Context, method, path string, in, out any, authed bool) error {
	var body []byte
	var header map[string]string
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		body, header = b, map[string]string{"Content-Type": "application/json"}
	}
	resp, err := r.sendWith(ctx, method, path, body, header, authed)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("%s %s: read reply: %w: %w", method, path, ErrUnreachable, err)
	}
	return nil
}

// maxDelta bounds a delta reply the device reads (a delta holds at most a
// few thousand rows per table).
const maxDelta = 1 << 30

// delta sends a delta request, asking for the compact encoding, and
// decodes the reply in whichever encoding the server chose.
func (r *remote) delta(ctx context.Context, req wire.DeltaRequest) (*wire.DeltaResponse, error) {
	path := wire.Prefix + "/delta"
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	resp, err := r.send(ctx, http.MethodPost, path, b, map[string]string{
		"Content-Type": "application/json",
		"Accept":       wire.DeltaContentType + ", application/json;q=0.5",
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	cut := func(err error) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("POST %s: read reply: %w: %w", path, ErrUnreachable, err)
	}
	if media, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";"); strings.EqualFold(strings.TrimSpace(media), wire.DeltaContentType) {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxDelta))
		if err != nil {
			return nil, cut(err)
		}
		out, err := wire.DecodeDelta(body)
		if err != nil {
			return nil, cut(err)
		}
		return out, nil
	}
	var out wire.DeltaResponse
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, cut(err)
	}
	return &out, nil
}

// pageStream is a snapshot request in flight: a goroutine sends it and
// reads and decodes its pages ahead of the caller, at most a few pages.
type pageStream struct {
	items  chan streamItem
	cancel context.CancelFunc
}

type streamItem struct {
	page *wire.SnapshotPage
	err  error
}

// snapshotPath is the route of snapshot streams.
const snapshotPath = wire.Prefix + "/snapshot"

// openSnapshot starts a snapshot request. It asks for the compact page
// encoding and reads newline-delimited JSON from a server that does not
// offer it. The request is sent and its pages read on another goroutine, so
// a device can ask for the next table while it stores the current one; call
// each to consume the pages, and close in any case.
func (r *remote) openSnapshot(ctx context.Context, in wire.SnapshotRequest) *pageStream {
	ctx, cancel := context.WithCancel(ctx)
	ps := &pageStream{items: make(chan streamItem, 2), cancel: cancel}
	go func() {
		defer close(ps.items)
		put := func(it streamItem) bool {
			select {
			case ps.items <- it:
				return true
			case <-ctx.Done():
				return false
			}
		}
		b, err := json.Marshal(in)
		if err != nil {
			put(streamItem{err: fmt.Errorf("encode %s: %w", snapshotPath, err)})
			return
		}
		resp, err := r.send(ctx, http.MethodPost, snapshotPath, b, map[string]string{
			"Content-Type": "application/json",
			"Accept":       wire.PagesContentType + ", " + wire.NDJSONContentType + ";q=0.5",
		})
		if err != nil {
			put(streamItem{err: err})
			return
		}
		defer resp.Body.Close()
		var next func() (*wire.SnapshotPage, error)
		if media, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";"); strings.EqualFold(strings.TrimSpace(media), wire.PagesContentType) {
			next = wire.NewPageReader(resp.Body).Next
		} else {
			next = ndjsonPages(resp.Body)
		}
		for {
			p, err := next()
			switch {
			case err == nil || err == io.EOF:
			case errors.Is(err, wire.ErrBadFrame):
				err = fmt.Errorf("POST %s: bad page: %w: %w", snapshotPath, ErrUnreachable, err)
			default:
				err = fmt.Errorf("POST %s: stream cut: %w: %w", snapshotPath, ErrUnreachable, err)
			}
			if !put(streamItem{p, err}) || err != nil {
				return
			}
		}
	}()
	return ps
}

// each calls fn for each page until the stream ends, fails or fn fails.
func (ps *pageStream) each(ctx context.Context, fn func(*wire.SnapshotPage) error) error {
	for it := range ps.items {
		if it.err == io.EOF {
			return nil
		}
		if it.err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return it.err
		}
		if err := fn(it.page); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// close ends the request and waits for its goroutine.
func (ps *pageStream) close() {
	ps.cancel()
	for range ps.items {
	}
}

// ndjsonPages reads newline-delimited JSON pages.
func ndjsonPages(body io.Reader) func() (*wire.SnapshotPage, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	return func() (*wire.SnapshotPage, error) {
		for {
			line, err := br.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 && err == nil {
				p := new(wire.SnapshotPage)
				dec := json.NewDecoder(bytes.NewReader(line))
				dec.UseNumber()
				if derr := dec.Decode(p); derr != nil {
					return nil, fmt.Errorf("%w: %w", wire.ErrBadFrame, derr)
				}
				return p, nil
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			if err != nil {
				return nil, err
			}
		}
	}
}
