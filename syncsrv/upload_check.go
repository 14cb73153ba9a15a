package syncsrv

import (
	"strings"
	"unicode/utf8"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/wire"
)

// MaxMutationID is the longest mutation id a change may carry.
const MaxMutationID = 200

// checkChange validates every field of a change that the engine reads
// before it applies or records it, so that nothing later meets an empty
// op, a table name that is not a name or text the database refuses. A
// change that fails is rejected as a Sync Error (it never blocks the
// changes behind it); the Sync Error row then carries only checked fields.
// Column values are checked by the platform like any other write.
func checkChange(ch wire.Change) error {
	switch ch.Op {
	case wire.OpCreate, wire.OpUpdate, wire.OpDelete, wire.OpFile:
	default:
		return outpost.Invalidf("change %d: op must be create, update, delete or file, got %q", ch.Seq, clip(ch.Op, 40)).WithTarget("op")
	}
	if !schema.ValidName(ch.Table) {
		return outpost.Invalidf("change %d: table %q is not a table name", ch.Seq, clip(ch.Table, 60)).WithTarget("table")
	}
	if !outpost.ValidID(ch.ID) {
		return outpost.Invalidf("change %d: id %q is not a UUID", ch.Seq, clip(ch.ID, 60)).WithTarget("id")
	}
	if !validMutationID(ch.MutationID) {
		return outpost.Invalidf("change %d: mutationId must be UTF-8 text without NUL of at most %d bytes", ch.Seq, MaxMutationID).WithTarget("mutationId")
	}
	if ch.BaseVersion < 0 {
		return outpost.Invalidf("change %d: baseVersion must be 0 or more, got %d", ch.Seq, ch.BaseVersion).WithTarget("baseVersion")
	}
	for name := range ch.Columns {
		if !schema.ValidName(name) {
			return outpost.Invalidf("change %d: columns holds %q, which is not a column name", ch.Seq, clip(name, 60)).WithTarget("columns")
		}
	}
	return nil
}

func validMutationID(s string) bool {
	return len(s) <= MaxMutationID && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
