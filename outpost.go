// Package outpost holds the vocabulary every other Outpost package shares:
// identifiers, rows and the domain error type. Versions of the change
// counter are int64 everywhere (store.NextVersion says how they are taken).
package outpost

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Row is one record as column name to value. Values are Go types decided by
// the column type: string, int64, float64, bool, time.Time or nil.
type Row map[string]any

// NewID returns a new random (version 4) UUID in its canonical text form.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("outpost: crypto/rand failed: %v", err)) // broken invariant: no entropy
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
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
