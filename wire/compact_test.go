package wire

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCompactPageRoundTrip(t *testing.T) {
	large := strings.Repeat("ünïcødé text, ", 100000) // 1.5 MB
	when := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.FixedZone("X", 3600))
	in := &SnapshotPage{
		Table:   "workorder",
		Columns: []string{"id", "v", "n", "d", "b", "t", "s"},
		Cursor:  "0b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d",
		Token:   "42.1767225600000.ab12",
		Rows: [][]any{
			{"0b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d", int64(7), int64(-1), 12.5, true, "2026-01-31T14:00:00.000Z", "plain"},
			{"0B9C6A4E-3F0E-4D55-9D2A-1C3E5F7A9B0D", int64(math.MaxInt64), int64(math.MinInt64), 5.0, false, "1969-12-31T23:59:59.999Z", ""},
			{nil, nil, nil, nil, nil, nil, nil},
			{"not-a-uuid-but-36-characters-long!!!", int(3), int32(-4), float32(0.25), true, when, large},
			{"0b9c6a4e3f0e4d559d2a1c3e5f7a9b0d", int16(9), int64(0), math.Inf(1), false, "2026-02-30T00:00:00.000Z", []byte("bytes")},
			{"x", int64(1), int64(255), math.Copysign(0, -1), true, "0001-01-01T00:00:00.000Z", "2026-01-31T14:00:00Z"},
			{"y", int64(256), int64(1 << 40), 1e300, false, "9999-12-31T23:59:59.999Z", "2026-01-31 14:00:00.000Z"},
		},
	}
	want := [][]any{
		{"0b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d", int64(7), int64(-1), 12.5, true, "2026-01-31T14:00:00.000Z", "plain"},
		{"0B9C6A4E-3F0E-4D55-9D2A-1C3E5F7A9B0D", int64(math.MaxInt64), int64(math.MinInt64), 5.0, false, "1969-12-31T23:59:59.999Z", ""},
		{nil, nil, nil, nil, nil, nil, nil},
		{"not-a-uuid-but-36-characters-long!!!", int64(3), int64(-4), 0.25, true, "2026-03-14T14:09:26.535Z", large},
		{"0b9c6a4e3f0e4d559d2a1c3e5f7a9b0d", int64(9), int64(0), math.Inf(1), false, "2026-02-30T00:00:00.000Z", "bytes"},
		{"x", int64(1), int64(255), math.Copysign(0, -1), true, "0001-01-01T00:00:00.000Z", "2026-01-31T14:00:00Z"},
		{"y", int64(256), int64(1 << 40), 1e300, false, "9999-12-31T23:59:59.999Z", "2026-01-31 14:00:00.000Z"},
	}
	frame, err := AppendPage(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	done := &SnapshotPage{Table: "workorder", Columns: in.Columns, Cursor: in.Cursor, Token: in.Token, Done: true, Rows: [][]any{}}
	failed := &SnapshotPage{Table: "workorder", Error: &ErrorDetail{Code: "internal", Message: "the read failed"}}
	if frame, err = AppendPage(frame, done); err != nil {
		t.Fatal(err)
	}
	if frame, err = AppendPage(frame, failed); err != nil {
		t.Fatal(err)
	}
	pr := NewPageReader(bytes.NewReader(frame))
	got, err := pr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got.Table != in.Table || got.Cursor != in.Cursor || got.Token != in.Token || got.Done || got.Error != nil || !reflect.DeepEqual(got.Columns, in.Columns) {
		t.Fatalf("header: got %+v", got)
	}
	if len(got.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got.Rows), len(want))
	}
	for i := range want {
		for j := range want[i] {
			g, w := got.Rows[i][j], want[i][j]
			if reflect.TypeOf(g) != reflect.TypeOf(w) {
				t.Errorf("row %d column %s: got %T %v, want %T", i, in.Columns[j], g, g, w)
				continue
			}
			if f, ok := w.(float64); ok {
				if math.Float64bits(f) != math.Float64bits(g.(float64)) {
					t.Errorf("row %d column %s: got %v, want %v", i, in.Columns[j], g, w)
				}
				continue
			}
			if g != w {
				t.Errorf("row %d column %s: got %.60v, want %.60v", i, in.Columns[j], g, w)
			}
		}
	}
	got, err = pr.Next()
	if err != nil || !got.Done || len(got.Rows) != 0 || got.Cursor != in.Cursor {
		t.Fatalf("done page: %+v, %v", got, err)
	}
	got, err = pr.Next()
	if err != nil || got.Error == nil || *got.Error != *failed.Error {
		t.Fatalf("error page: %+v, %v", got, err)
	}
	if _, err = pr.Next(); err != io.EOF {
		t.Fatalf("end of stream: got %v, want io.EOF", err)
	}
}

func TestCompactIsSmallerThanJSON(t *testing.T) {
	p := &SnapshotPage{Table: "t", Columns: []string{"id", "when", "n"}}
	for i := range 100 {
		p.Rows = append(p.Rows, []any{"0b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d", "2026-01-31T14:00:00.000Z", int64(i)})
	}
	frame, err := AppendPage(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	// 17 bytes per id, 7 per time, 2 per integer; JSON needs over 80 per row.
	if perRow := len(frame) / len(p.Rows); perRow > 30 {
		t.Errorf("%d bytes per row", perRow)
	}
}

func TestCompactCutAndCorruptStreams(t *testing.T) {
	p := &SnapshotPage{Table: "t", Columns: []string{"a", "b"}, Rows: [][]any{{"x", int64(1)}, {"y", 2.5}}}
	frame, err := AppendPage(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	for cut := 1; cut < len(frame); cut++ {
		if _, err := NewPageReader(bytes.NewReader(frame[:cut])).Next(); err != io.ErrUnexpectedEOF {
			t.Fatalf("cut at %d of %d: got %v, want io.ErrUnexpectedEOF", cut, len(frame), err)
		}
	}
	// Every corruption of the body either decodes to some page or fails
	// with ErrBadFrame; none panics.
	body := frame[1:]
	for i := range body {
		for _, b := range []byte{0, 1, 5, 0x7f, 0xff} {
			bad := bytes.Clone(body)
			bad[i] = b
			if _, err := DecodePage(bad); err != nil && !errors.Is(err, ErrBadFrame) {
				t.Fatalf("byte %d set to %d: %v", i, b, err)
			}
		}
	}
	if _, err := AppendPage(nil, &SnapshotPage{Columns: []string{"a"}, Rows: [][]any{{"x", "y"}}}); err == nil {
		t.Error("a row wider than its columns was encoded")
	}
	if _, err := AppendPage(nil, &SnapshotPage{Columns: []string{"a"}, Rows: [][]any{{struct{}{}}}}); err == nil {
		t.Error("a value of an unknown type was encoded")
	}
}

func TestCompactTimesMatchTheTimePackage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		ms := r.Int64N(253402300799999+62135596800000) - 62135596800000 // years 1 to 9999
		text := time.UnixMilli(ms).UTC().Format(compactTimeLayout)
		if got := string(appendTime(nil, ms)); got != text {
			t.Fatalf("appendTime(%d) = %s, want %s", ms, got, text)
		}
		back, ok := parseTime(text)
		if !ok || back != ms {
			t.Fatalf("parseTime(%s) = %d, %v, want %d", text, back, ok, ms)
		}
	}
	for _, bad := range []string{"2026-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-01-01T24:00:00.000Z",
		"2026-01-01T00:60:00.000Z", "2026-01-01T00:00:60.000Z", "2026-01-00T00:00:00.000Z", "2026-01-01T00:00:00.000+", "2026-01-01T00:00:00,000Z", "+026-01-01T00:00:00.000Z"} {
		if IsTimeText(bad) {
			t.Errorf("%s taken for a time", bad)
		}
	}
	if !IsTimeText("2024-02-29T23:59:59.999Z") {
		t.Error("a leap day refused")
	}
}
