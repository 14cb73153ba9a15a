// Package outpost holds the vocabulary every other Outpost package shares:
// identifiers, rows and the domain error type. Versions of the change
// counter are int64 everywhere (store.NextVersion says how they are taken).
package outpost

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Row is one record as column name to value. Values are Go types decided by
// the column type: string, int64, float64, bool, time.Time or nil.
type Row map[string]any

// NewID returns a new time-ordered (version 7) UUID in its canonical text
// form: 48 bits of Unix milliseconds, 12 bits that keep the ids of one
// process ascending within a millisecond, and 62 random bits. Ids made
// later sort after earlier ones, so the rows a server or a device inserts
// land at the end of every primary-key index instead of on a random page
// of it: a batch of creates dirties a few pages, not one per row
// (docs/design.md, "Row ids are time-ordered").
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		panic(fmt.Sprintf("outpost: crypto/rand failed: %v", err)) // broken invariant: no entropy
	}
	return id.String()
}

// ValidID reports whether s is a UUID in canonical text form (any version).
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// HasNUL reports whether s holds a NUL character (U+0000). Outpost refuses
// NUL in every text it stores, on both engines: PostgreSQL cannot store it
// in text, and one rule for both keeps a database portable between them.
func HasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// CheckText refuses text holding NUL, naming target.
func CheckText(target, s string) error {
	if HasNUL(s) {
		return Invalidf("%s holds a NUL character (U+0000), which is not accepted in text", target).WithTarget(target)
	}
	return nil
}
