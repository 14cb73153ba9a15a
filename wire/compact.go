package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// PagesContentType is the compact binary encoding of a snapshot stream. A
// device that can read it names it in the Accept header of its snapshot
// request; the server answers with it only then, and with newline-delimited
// JSON (NDJSONContentType) otherwise, so older devices keep working.
//
// A stream is a sequence of frames, each a page: uvarint(len(body)) body.
// A body is
//
//	flags byte (1 done, 2 error)
//	string table, uvarint ncols, ncols × string column, string cursor, string token
//	if error: string code, string message
//	uvarint nrows, nrows × ncols × value
//
// where a string is uvarint(len) bytes and a value is a tag byte and its
// payload: TagNull, TagFalse, TagTrue; TagInt zigzag varint; TagFloat 8 bytes
// IEEE 754 little endian; TagString a string; TagUUID 16 bytes of a
// lowercase canonical UUID string; TagTime zigzag varint milliseconds since
// the Unix epoch of a "2006-01-02T15:04:05.000Z" string. TagUUID and TagTime
// are only used when decoding gives back exactly the string encoded, so every
// value reads back as the same Go value the JSON encoding would carry.
const PagesContentType = "application/x-outpost-pages"

// NDJSONContentType is the JSON encoding of a snapshot stream: one
// SnapshotPage per line.
const NDJSONContentType = "application/x-ndjson"

// Value tags of the compact encoding.
const (
	TagNull   byte = 0
	TagFalse  byte = 1
	TagTrue   byte = 2
	TagInt    byte = 3
	TagFloat  byte = 4
	TagString byte = 5
	TagUUID   byte = 6
	TagTime   byte = 7
)

const (
	flagDone  = 1
	flagError = 2
)

// maxFrame bounds one frame a decoder accepts (a page of MaxPageSize rows
// of wide text stays far below it).
const maxFrame = 1 << 30

const compactTimeLayout = "2006-01-02T15:04:05.000Z"

// AppendPage appends the compact encoding of p as one frame to dst. Values
// may be nil, bool, integers, floats, strings, []byte (as a string) and
// time.Time (as its UTC "2006-01-02T15:04:05.000Z" text).
func AppendPage(dst []byte, p *SnapshotPage) ([]byte, error) {
	start := len(dst)
	// Reserve the longest length prefix; the body moves down if shorter.
	dst = append(dst, make([]byte, binary.MaxVarintLen64)...)
	body := len(dst)
	var flags byte
	if p.Done {
		flags |= flagDone
	}
	if p.Error != nil {
		flags |= flagError
	}
	dst = append(dst, flags)
	dst = appendString(dst, p.Table)
	dst = binary.AppendUvarint(dst, uint64(len(p.Columns)))
	for _, c := range p.Columns {
		dst = appendString(dst, c)
	}
	dst = appendString(dst, p.Cursor)
	dst = appendString(dst, p.Token)
	if p.Error != nil {
		dst = appendString(dst, p.Error.Code)
		dst = appendString(dst, p.Error.Message)
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.Rows)))
	for _, r := range p.Rows {
		if len(r) != len(p.Columns) {
			return dst[:start], fmt.Errorf("page of %s: a row has %d values for %d columns", p.Table, len(r), len(p.Columns))
		}
		for _, v := range r {
			var err error
			if dst, err = AppendValue(dst, v); err != nil {
				return dst[:start], fmt.Errorf("page of %s: %w", p.Table, err)
			}
		}
	}
	n := len(dst) - body
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n))
	copy(dst[start:], pre[:k])
	copy(dst[start+k:], dst[body:])
	return dst[:start+k+n], nil
}

// AppendValue appends one tagged value.
func AppendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, TagNull), nil
	case bool:
		if x {
			return append(dst, TagTrue), nil
		}
		return append(dst, TagFalse), nil
	case int64:
		return binary.AppendVarint(append(dst, TagInt), x), nil
	case int:
		return binary.AppendVarint(append(dst, TagInt), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(dst, TagInt), int64(x)), nil
	case int16:
		return binary.AppendVarint(append(dst, TagInt), int64(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, TagFloat), math.Float64bits(x)), nil
	case float32:
		return binary.LittleEndian.AppendUint64(append(dst, TagFloat), math.Float64bits(float64(x))), nil
	case string:
		return appendText(dst, x), nil
	case []byte:
		return appendText(dst, string(x)), nil
	case time.Time:
		return appendText(dst, x.UTC().Format(compactTimeLayout)), nil
	}
	return dst, fmt.Errorf("value %v of type %T has no compact encoding", v, v)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// appendText appends a string value, as TagUUID or TagTime when it reads
// back identical.
func appendText(dst []byte, s string) []byte {
	if len(s) == 36 {
		if u, ok := parseUUID(s); ok {
			return append(append(dst, TagUUID), u[:]...)
		}
	}
	if len(s) == len(compactTimeLayout) {
		if ms, ok := parseTime(s); ok {
			return binary.AppendVarint(append(dst, TagTime), ms)
		}
	}
	return appendString(append(dst, TagString), s)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// parseUUID reads a lowercase canonical UUID (8-4-4-4-12 hex digits).
func parseUUID(s string) (u [16]byte, ok bool) {
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return u, false
			}
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

const hexDigits = "0123456789abcdef"

func appendUUID(dst []byte, u []byte) []byte {
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
	}
	return dst
}

// parseTime reads a UTC time text in compactTimeLayout
// ("2006-01-02T15:04:05.000Z") and reports whether it is one: a valid
// date and time in exactly that form, which appendTime formats back to the
// same text.
func parseTime(s string) (int64, bool) {
	if len(s) != len(compactTimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return 0, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	ms, ok7 := num(20, 23)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	if t.Day() != day { // February 30th and the like
		return 0, false
	}
	return t.UnixMilli(), true
}

// appendTime appends the UTC time ms milliseconds after the Unix epoch in
// compactTimeLayout.
func appendTime(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, compactTimeLayout)
	}
	hour, minute, sec := t.Clock()
	digits := func(dst []byte, n, width int) []byte {
		var buf [4]byte
		for i := width - 1; i >= 0; i-- {
			buf[i] = byte('0' + n%10)
			n /= 10
		}
		return append(dst, buf[:width]...)
	}
	dst = digits(dst, year, 4)
	dst = append(dst, '-')
	dst = digits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = digits(dst, day, 2)
	dst = append(dst, 'T')
	dst = digits(dst, hour, 2)
	dst = append(dst, ':')
	dst = digits(dst, minute, 2)
	dst = append(dst, ':')
	dst = digits(dst, sec, 2)
	dst = append(dst, '.')
	dst = digits(dst, t.Nanosecond()/int(time.Millisecond), 3)
	return append(dst, 'Z')
}

// PageReader reads the frames of a compact snapshot stream.
type PageReader struct {
	r   *bufio.Reader
	buf []byte
}

// NewPageReader reads compact pages from r.
func NewPageReader(r io.Reader) *PageReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &PageReader{r: br}
}

// ErrBadFrame reports a frame that does not decode.
var ErrBadFrame = errors.New("bad compact page")

// Next returns the next page, or io.EOF at the clean end of the stream. A
// stream cut inside a frame is io.ErrUnexpectedEOF.
func (pr *PageReader) Next() (*SnapshotPage, error) {
	n, err := binary.ReadUvarint(pr.r)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if n > maxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes", ErrBadFrame, n)
	}
	if uint64(cap(pr.buf)) < n {
		pr.buf = make([]byte, n)
	}
	body := pr.buf[:n]
	if _, err := io.ReadFull(pr.r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return DecodePage(body)
}

// DecodePage decodes one frame body (without its length prefix). Strings of
// the page share one allocation.
func DecodePage(body []byte) (*SnapshotPage, error) {
	d := decoder{b: body}
	p := &SnapshotPage{}
	flags := d.byte()
	p.Done = flags&flagDone != 0
	p.Table = d.str()
	nc := d.count(1)
	p.Columns = make([]string, 0, nc)
	for range nc {
		p.Columns = append(p.Columns, d.str())
	}
	p.Cursor = d.str()
	p.Token = d.str()
	if flags&flagError != 0 {
		p.Error = &ErrorDetail{Code: d.str(), Message: d.str()}
	}
	nr := d.count(max(1, nc))
	if d.err != nil {
		return nil, d.err
	}
	p.Rows = make([][]any, nr)
	// One backing array for every value of the page; plain strings are
	// slices of one copy of the frame, and the text of UUID and time values
	// is formatted into one arena turned into a string at the end.
	vals := make([]any, nr*nc)
	d.text = string(body)
	for i := range nr {
		row := vals[i*nc : (i+1)*nc : (i+1)*nc]
		for j := range row {
			row[j] = d.value(i*nc + j)
		}
		p.Rows[i] = row
	}
	if err := d.finish(vals); err != nil {
		return nil, err
	}
	return p, nil
}

type decoder struct {
	b    []byte
	i    int
	err  error
	text string // string(b), so that strings are slices of one copy
	// arena holds formatted UUID and time texts; fixups say which values
	// they are.
	arena  []byte
	fixups []fixup
}

type fixup struct{ idx, from, to int }

// finish ends decoding the values vals of a frame: it reports the first
// error met, puts the arena's texts in place and refuses bytes left over.
func (d *decoder) finish(vals []any) error {
	if d.err != nil {
		return d.err
	}
	arena := string(d.arena)
	for _, f := range d.fixups {
		vals[f.idx] = arena[f.from:f.to]
	}
	if d.i != len(d.b) {
		return fmt.Errorf("%w: %d bytes after the rows", ErrBadFrame, len(d.b)-d.i)
	}
	return nil
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrBadFrame, what, d.i)
	}
	d.i = len(d.b)
}

func (d *decoder) byte() byte {
	if d.i >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.i += n
	return v
}

// count reads a count of items each at least min bytes long.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.i)/uint64(min)+1 {
		d.fail("count past the end")
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.i) {
		d.fail("string past the end")
		return ""
	}
	var s string
	if d.text != "" {
		s = d.text[d.i : d.i+int(n)]
	} else {
		s = string(d.b[d.i : d.i+int(n)])
	}
	d.i += int(n)
	return s
}

func (d *decoder) value(idx int) any {
	switch tag := d.byte(); tag {
	case TagNull:
		return nil
	case TagFalse:
		return false
	case TagTrue:
		return true
	case TagInt:
		return d.varint()
	case TagFloat:
		if len(d.b)-d.i < 8 {
			d.fail("truncated float")
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.i:]))
		d.i += 8
		return f
	case TagString:
		return d.str()
	case TagUUID:
		if len(d.b)-d.i < 16 {
			d.fail("truncated uuid")
			return nil
		}
		from := len(d.arena)
		d.arena = appendUUID(d.arena, d.b[d.i:d.i+16])
		d.fixups = append(d.fixups, fixup{idx, from, len(d.arena)})
		d.i += 16
		return nil
	case TagTime:
		ms := d.varint()
		from := len(d.arena)
		d.arena = appendTime(d.arena, ms)
		d.fixups = append(d.fixups, fixup{idx, from, len(d.arena)})
		return nil
	default:
		d.fail(fmt.Sprintf("unknown tag %d", tag))
		return nil
	}
}

// IsTimeText reports whether s is a valid UTC date and time in the
// protocol's fixed-width form "2006-01-02T15:04:05.000Z", the form both
// sides store and send.
func IsTimeText(s string) bool {
	_, ok := parseTime(s)
	return ok
}
