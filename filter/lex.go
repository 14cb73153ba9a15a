package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/outposthq/outpost"
)

// tokKind is the kind of an OData token.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString // Value holds the unquoted string
	tNumber // Value holds int64 or float64
	tTime   // Value holds a time.Time in UTC
	tGUID   // Value holds the GUID text
	tPunct  // one of ( ) , / : [ ] =
)

type token struct {
	kind  tokKind
	text  string // the source text
	value any
	pos   Pos
}

// describe names t for "found …" in error messages.
func (t token) describe() string {
	if t.kind == tEOF {
		return "end of input"
	}
	s := t.text
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return strconv.Quote(s)
}

// lexer splits OData $filter text into tokens.
type lexer struct {
	src       string
	off       int
	line, col int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) advance(n int) {
	for _, r := range l.src[l.off : l.off+n] {
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.off += n
}

func (l *lexer) errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	for l.off < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.off]) >= 0 {
		l.advance(1)
	}
	pos := Pos{Line: l.line, Col: l.col}
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: pos}, nil
	}
	rest := l.src[l.off:]
	c := rest[0]
	if n := guidLen(rest); n > 0 {
		t := token{kind: tGUID, text: rest[:n], value: rest[:n], pos: pos}
		l.advance(n)
		return t, nil
	}
	switch {
	case strings.IndexByte("(),/:[]=", c) >= 0:
		l.advance(1)
		return token{kind: tPunct, text: rest[:1], pos: pos}, nil
	case c == '\'':
		return l.quoted(pos)
	case c == '"':
		return l.doubleQuoted(pos)
	case isDigit(c) || c == '-' && len(rest) > 1 && isDigit(rest[1]):
		return l.number(pos)
	case isIdentStart(c):
		n := 1
		for n < len(rest) && isIdentChar(rest[n]) {
			n++
		}
		l.advance(n)
		return token{kind: tIdent, text: rest[:n], pos: pos}, nil
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return token{}, l.errorf(pos, "unexpected character %q", r)
}

// guidLen returns 36 when s starts with a GUID not followed by an identifier character.
func guidLen(s string) int {
	if len(s) < 36 || !outpost.ValidID(s[:36]) || len(s) > 36 && isIdentChar(s[36]) {
		return 0
	}
	return 36
}

// quoted lexes a 'string' in which two quotes stand for one.
func (l *lexer) quoted(pos Pos) (token, *Error) {
	var sb strings.Builder
	src := l.src[l.off:]
	for i := 1; i < len(src); i++ {
		if src[i] != '\'' {
			sb.WriteByte(src[i])
			continue
		}
		if i+1 < len(src) && src[i+1] == '\'' {
			sb.WriteByte('\'')
			i++
			continue
		}
		l.advance(i + 1)
		return token{kind: tString, text: src[:i+1], value: sb.String(), pos: pos}, nil
	}
	return token{}, l.errorf(pos, "string not terminated: expected a closing ' before the end of input")
}

// doubleQuoted lexes a "string" with JSON escapes, as Dataverse writes
// PropertyValues=["a","b"].
func (l *lexer) doubleQuoted(pos Pos) (token, *Error) {
	src := l.src[l.off:]
	for i := 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			var s string
			if err := json.Unmarshal([]byte(src[:i+1]), &s); err != nil {
				return token{}, l.errorf(pos, "invalid string %s", src[:i+1])
			}
			l.advance(i + 1)
			return token{kind: tString, text: src[:i+1], value: s, pos: pos}, nil
		}
	}
	return token{}, l.errorf(pos, `string not terminated: expected a closing " before the end of input`)
}

// number lexes an integer, a decimal, a date or a datetime.
func (l *lexer) number(pos Pos) (token, *Error) {
	src := l.src[l.off:]
	if n := dateLen(src); n > 0 {
		text := src[:n]
		var t time.Time
		var err error
		if n == 10 {
			t, err = time.Parse(time.DateOnly, text)
		} else if t, err = time.Parse(time.RFC3339Nano, text); err != nil {
			t, err = time.Parse("2006-01-02T15:04Z07:00", text)
		}
		if err != nil {
			return token{}, l.errorf(pos, "invalid date or datetime %q: use 2024-01-31 or 2024-01-31T08:00:00Z", text)
		}
		l.advance(n)
		return token{kind: tTime, text: text, value: t.UTC(), pos: pos}, nil
	}
	n := 0
	if src[0] == '-' {
		n++
	}
	digits := func() {
		for n < len(src) && isDigit(src[n]) {
			n++
		}
	}
	digits()
	isFloat := false
	if n+1 < len(src) && src[n] == '.' && isDigit(src[n+1]) {
		isFloat = true
		n++
		digits()
	}
	if n < len(src) && (src[n] == 'e' || src[n] == 'E') {
		m := n + 1
		if m < len(src) && (src[m] == '+' || src[m] == '-') {
			m++
		}
		if m < len(src) && isDigit(src[m]) {
			isFloat = true
			n = m
			digits()
		}
	}
	text := src[:n]
	if n < len(src) && isIdentChar(src[n]) {
		return token{}, l.errorf(pos, "invalid number %q", src[:n+1])
	}
	var v any
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return token{}, l.errorf(pos, "number %s is out of range", text)
		}
		v = f
	} else {
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return token{}, l.errorf(pos, "integer %s is out of range: use -9223372036854775808 to 9223372036854775807", text)
		}
		v = i
	}
	l.advance(n)
	return token{kind: tNumber, text: text, value: v, pos: pos}, nil
}

// dateLen returns the length of the date (YYYY-MM-DD) or datetime
// (YYYY-MM-DDThh:mm[:ss[.fff]](Z|±hh:mm)) at the start of s, or 0.
func dateLen(s string) int {
	match := func(i int, pattern string) bool {
		if len(s) < i+len(pattern) {
			return false
		}
		for j := 0; j < len(pattern); j++ {
			if c := s[i+j]; pattern[j] == '9' && !isDigit(c) || pattern[j] != '9' && pattern[j] != c {
				return false
			}
		}
		return true
	}
	if !match(0, "9999-99-99") {
		return 0
	}
	n := 10
	if !match(n, "T99:99") {
		return n
	}
	n += 6
	if match(n, ":99") {
		n += 3
		if match(n, ".9") {
			n += 2
			for n < len(s) && isDigit(s[n]) {
				n++
			}
		}
	}
	switch {
	case match(n, "Z"):
		n++
	case match(n, "+99:99"), match(n, "-99:99"):
		n += 6
	}
	return n
}
