package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// DeltaContentType is the compact encoding of a DeltaResponse. A device
// that reads it names it in the Accept header of its delta request; the
// server answers with it only then, and with JSON otherwise.
//
// The body is
//
//	uvarint(len(header)) header
//	for each delta of the header: uvarint nrows
//	the rows of every delta in order, each len(Columns) values
//
// where header is the JSON DeltaResponse without its upserts, and values
// are tagged as in a compact snapshot page (PagesContentType). The rows,
// which are nearly all of a large delta's bytes, travel as compactly as a
// first sync's pages; the rest (tokens, removals, checksums, the table set)
// stays JSON.
const DeltaContentType = "application/x-outpost-delta"

// AppendDelta appends the compact encoding of d to dst.
func AppendDelta(dst []byte, d *DeltaResponse) ([]byte, error) {
	head := *d
	head.Deltas = make([]TableDelta, len(d.Deltas))
	for i, td := range d.Deltas {
		td.Upserts = nil
		head.Deltas[i] = td
	}
	h, err := json.Marshal(head)
	if err != nil {
		return dst, err
	}
	dst = binary.AppendUvarint(dst, uint64(len(h)))
	dst = append(dst, h...)
	for _, td := range d.Deltas {
		dst = binary.AppendUvarint(dst, uint64(len(td.Upserts)))
	}
	for _, td := range d.Deltas {
		for _, row := range td.Upserts {
			if len(row) != len(td.Columns) {
				return dst, fmt.Errorf("delta of %s: a row of %d values for %d columns", td.Table, len(row), len(td.Columns))
			}
			for _, v := range row {
				if dst, err = AppendValue(dst, v); err != nil {
					return dst, fmt.Errorf("delta of %s: %w", td.Table, err)
				}
			}
		}
	}
	return dst, nil
}

// DecodeDelta decodes a compact delta body. Numbers of the JSON part read
// as json.Number, as a JSON delta decoded with UseNumber gives them.
func DecodeDelta(body []byte) (*DeltaResponse, error) {
	d := decoder{b: body}
	n := d.count(1)
	if d.err != nil {
		return nil, d.err
	}
	if n > len(body)-d.i {
		return nil, fmt.Errorf("%w: header of %d bytes in %d", ErrBadFrame, n, len(body)-d.i)
	}
	dec := json.NewDecoder(bytes.NewReader(body[d.i : d.i+n]))
	dec.UseNumber()
	var resp DeltaResponse
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadFrame, err)
	}
	d.i += n
	counts := make([]int, len(resp.Deltas))
	total := 0
	for i, td := range resp.Deltas {
		counts[i] = d.count(max(1, len(td.Columns)))
		if len(td.Columns) == 0 && counts[i] > 0 {
			d.fail("rows without columns")
		}
		total += counts[i] * len(td.Columns)
	}
	if d.err != nil {
		return nil, d.err
	}
	if total > len(body)-d.i {
		return nil, fmt.Errorf("%w: %d values in %d bytes", ErrBadFrame, total, len(body)-d.i)
	}
	d.text = string(body)
	vals := make([]any, total)
	for i := range vals {
		vals[i] = d.value(i)
	}
	if err := d.finish(vals); err != nil {
		return nil, err
	}
	at := 0
	for i := range resp.Deltas {
		nc := len(resp.Deltas[i].Columns)
		if counts[i] == 0 {
			continue
		}
		rows := make([][]any, counts[i])
		for r := range rows {
			rows[r] = vals[at : at+nc : at+nc]
			at += nc
		}
		resp.Deltas[i].Upserts = rows
	}
	return &resp, nil
}
