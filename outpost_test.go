package outpost

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNewIDsAscend: ids are valid version 7 UUIDs carrying the time they
// were made, and every id sorts after the ones made before it, also many
// within one millisecond, so inserted rows append to primary-key indexes.
func TestNewIDsAscend(t *testing.T) {
	before := time.Now().UnixMilli()
	const n = 20000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = NewID()
	}
	after := time.Now().UnixMilli()
	seen := make(map[string]bool, n)
	for i, id := range ids {
		if !ValidID(id) || id != strings.ToLower(id) {
			t.Fatalf("id %d = %q: not a canonical lower-case UUID", i, id)
		}
		if id[14] != '7' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("id %d = %q: want version 7 and the RFC 9562 variant", i, id)
		}
		if seen[id] {
			t.Fatalf("id %d = %q made twice", i, id)
		}
		seen[id] = true
		if i > 0 && id <= ids[i-1] {
			t.Fatalf("id %d = %q does not sort after id %d = %q", i, id, i-1, ids[i-1])
		}
	}
	// The first 48 bits are the Unix milliseconds the id was made at (a
	// run of ids within one millisecond may borrow the next ones).
	ms := func(id string) int64 {
		v, err := strconv.ParseInt(strings.ReplaceAll(id[:13], "-", ""), 16, 64)
		if err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		return v
	}
	if first, last := ms(ids[0]), ms(ids[n-1]); first < before || last > after+int64(n/4096)+1 {
		t.Fatalf("ids carry milliseconds %d..%d, made between %d and %d", first, last, before, after)
	}
}

// TestNewIDsDiffer: the random part differs between ids of one
// millisecond, so ids are not guessable from the time a row was made.
func TestNewIDsDiffer(t *testing.T) {
	a, b := NewID(), NewID()
	if a[19:] == b[19:] {
		t.Fatalf("two ids share their random part: %s, %s", a, b)
	}
}
