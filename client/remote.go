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
	"strings"
	"sync/atomic"

	"github.com/outposthq/outpost"
)

// ErrUnreachable wraps failures to reach the server (no network, server
// down, connection cut): the device is offline, not in error.
var ErrUnreachable = errors.New("server unreachable")

// remote is the HTTP side of the protocol.
type remote struct {
	base  string
	token string
	hc    *http.Client
	// sent and received count body bytes, for status and measurements.
	sent, received atomic.Int64
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
// *outpost.Error, or ErrUnreachable.
func (r *remote) send(ctx context.Context, method, path string, body []byte, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
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
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, replyError(method, path, resp)
}

// replyError turns a non-2xx reply into the server's *outpost.Error, or
// ErrUnreachable for a 5xx without one.
func replyError(method, path string, resp *http.Response) error {
	var eb struct {
		Error struct{ Code, Message, Target string } `json:"error"`
	}
	if err := decodeJSONBody(resp.Body, &eb); err != nil || eb.Error.Code == "" {
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
	resp, err := r.do(ctx, method, path, in)
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

// stream posts in and calls fn for each newline-delimited JSON value.
func stream[T any](ctx context.Context, r *remote, path string, in any, fn func(*T) error) error {
	resp, err := r.do(ctx, http.MethodPost, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewReader(resp.Body)
	for {
		line, err := sc.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 && err == nil {
			v := new(T)
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			if derr := dec.Decode(v); derr != nil {
				return fmt.Errorf("POST %s: bad page: %w: %w", path, ErrUnreachable, derr)
			}
			if ferr := fn(v); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("POST %s: stream cut: %w: %w", path, ErrUnreachable, err)
		}
	}
}
