package testenv

import (
	"github.com/outposthq/outpost"
	"testing"
	"time"
)

// ForEachEngine runs fn as a subtest named after each engine of Engines.
// fn opens its own database with e.Open and calls t.Parallel itself when
// the subtests may run side by side.
func ForEachEngine(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// Must fails the test when err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// MustGet returns a function that passes a value through and fails the
// test when the error beside it is not nil:
//
//	row := testenv.MustGet[platform.Row](t)(p.Get(ctx, "asset", id))
func MustGet[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// WaitFor polls cond every 10 ms until it returns nil, and fails the test
// with cond's last error when timeout passes first.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WantError fails the test unless err has code and exactly the message
// msg.
func WantError(t testing.TB, err error, code outpost.Code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %s %q", code, msg)
	}
	if got := outpost.ErrorCode(err); got != code {
		t.Errorf("error code = %q (%v), want %q", got, err, code)
	}
	if got := outpost.ErrorMessage(err); got != msg {
		t.Errorf("error message:\n got: %s\nwant: %s", got, msg)
	}
}

// Tag is a short tag made from id for names that must differ: its last 8
// characters. Ids are time-ordered, so ids made within a minute share their
// first characters; the last ones are random.
func Tag(id string) string { return id[len(id)-8:] }
