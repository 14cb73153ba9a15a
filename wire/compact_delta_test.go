package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// A compact delta carries what the JSON delta carries: the rows' values
// read back as the same Go values a compact page gives, and everything else
// as the JSON decoding with UseNumber gives it.
func TestCompactDeltaRoundTrip(t *testing.T) {
	in := &DeltaResponse{
		ProfileVersion: 3,
		Tables:         []Table{{Name: "workorder", Columns: []Column{{Name: "workorderid", Type: "uniqueidentifier"}}}},
		Deltas: []TableDelta{
			{Table: "workorder", Token: "t1", Columns: []string{"workorderid", "versionnumber", "name", "rate", "done"},
				Upserts: [][]any{
					{"0b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d", int64(12), "WO-1", 12.5, true},
					{"1b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d", int64(13), nil, nil, false},
				},
				RemoveKeys: []string{"k1"}, Removes: []string{"2b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d"},
				RemoveWhere: []RemoveRule{{Column: "ownerid", Values: []string{"team"}}}, More: true},
			{Table: "account", Token: "t2", Reconcile: &Checksums{}, Reason: "republished"},
			{Table: "contact", Token: "t3", Columns: []string{"contactid", "modifiedon"},
				Upserts: [][]any{{"3b9c6a4e-3f0e-4d55-9d2a-1c3e5f7a9b0d", "2026-01-31T14:00:00.000Z"}}},
		},
	}
	body, err := AppendDelta(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDelta(body)
	if err != nil {
		t.Fatal(err)
	}
	for i, td := range in.Deltas {
		if !reflect.DeepEqual(got.Deltas[i].Upserts, td.Upserts) && len(td.Upserts) > 0 {
			t.Errorf("delta %d rows: got %v, want %v", i, got.Deltas[i].Upserts, td.Upserts)
		}
	}
	// Apart from the rows, the same as the JSON encoding.
	js, _ := json.Marshal(in)
	var viaJSON DeltaResponse
	dec := json.NewDecoder(bytesReader(js))
	dec.UseNumber()
	if err := dec.Decode(&viaJSON); err != nil {
		t.Fatal(err)
	}
	for i := range viaJSON.Deltas {
		viaJSON.Deltas[i].Upserts, got.Deltas[i].Upserts = nil, nil
	}
	if !reflect.DeepEqual(&viaJSON, got) {
		t.Errorf("header: got %+v, want %+v", got, &viaJSON)
	}
	if len(body) >= len(js) {
		t.Errorf("compact delta of %d bytes is no smaller than its JSON (%d)", len(body), len(js))
	}
	// A cut or garbled body is an error, never a panic or rows made up.
	for n := range len(body) {
		if _, err := DecodeDelta(body[:n]); err == nil {
			t.Fatalf("a body cut at %d of %d bytes decoded", n, len(body))
		}
	}
	if _, err := DecodeDelta(append(append([]byte{}, body...), 0)); !errors.Is(err, ErrBadFrame) {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := AppendDelta(nil, &DeltaResponse{Deltas: []TableDelta{{Table: "x", Columns: []string{"a"}, Upserts: [][]any{{1, 2}}}}}); err == nil {
		t.Error("a row wider than its columns was encoded")
	}
}

func FuzzDecodeDelta(f *testing.F) {
	body, _ := AppendDelta(nil, &DeltaResponse{Deltas: []TableDelta{{Table: "t", Columns: []string{"a", "b"}, Upserts: [][]any{{"x", int64(1)}}}}})
	f.Add(body)
	f.Add([]byte{2, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDelta(b)
		if err != nil {
			return
		}
		for _, td := range d.Deltas {
			for _, row := range td.Upserts {
				if len(row) != len(td.Columns) {
					t.Fatalf("row of %d values for %d columns", len(row), len(td.Columns))
				}
			}
		}
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
