package filter

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/outposthq/outpost"
)

// Error is one problem in a filter expression, reported where it occurs.
type Error struct {
	Source string // what was being compiled, e.g. "profile field-tech, item account"; may be empty
	Pos    Pos    // 1-based line and column of $filter text, or the JSON Path
	Msg    string // e.g. `unknown column "regon" in table "orders"`
	Hint   string // e.g. `did you mean "region"?`; may be empty
	// Column names the column or relationship at fault, when there is one.
	Column string
}

// Error formats e as "source:line:col: msg (hint)"; the source is left out
// when empty and a JSON path replaces line:col.
func (e *Error) Error() string {
	var s string
	loc := e.Pos.String()
	switch {
	case e.Source != "" && loc != "":
		s = e.Source + ":" + loc + ": "
	case e.Source != "":
		s = e.Source + ": "
	case loc != "":
		s = loc + ": "
	}
	s += e.Msg
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// String formats p as "line:col" for text, as its Path for a JSON tree, or
// "" when p is unknown.
func (p Pos) String() string {
	if p.Line > 0 {
		return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	}
	return p.Path
}

// ErrorList holds every problem found in one parse or check, in the order
// found. ParseOData, ParseJSON and Check return their errors as an
// ErrorList; a nil or empty list is no error (use Err).
type ErrorList []*Error

// Error joins the messages of l with "; ".
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap returns the errors of l, so that errors.As finds each *Error.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// AsDomain returns l as a CodeInvalid domain error whose message is every
// error of l joined by "; " and whose Target is the first error's column
// (or, failing that, its position). It returns nil when l is empty.
func (l ErrorList) AsDomain() *outpost.Error {
	if len(l) == 0 {
		return nil
	}
	target := l[0].Column
	if target == "" {
		target = l[0].Pos.String()
	}
	return &outpost.Error{Code: outpost.CodeInvalid, Message: l.Error(), Target: target, Err: l}
}

// add appends an error.
func (l *ErrorList) add(pos Pos, column, hint, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint, Column: column})
}
