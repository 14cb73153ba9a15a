package filter

import (
	"strings"
	"unicode"

	"github.com/outposthq/outpost/schema"
)

// Fold returns s with every code point replaced by its Unicode simple
// lower-case mapping (unicode.ToLower, one code point to one code point).
// Text operators compare the folded forms of both sides, so they ignore
// case: "Ä" matches "ä", "ẞ" matches "ß", the Kelvin sign matches "k". A
// letter whose lower case is more than one code point keeps its simple
// mapping (ß does not match "ss"), and accents are not removed. Folding
// keeps the number of code points, so a like pattern's _ still matches one
// character of the original text. Package sqlgen computes the same function
// in SQL (see FoldSQL there).
func Fold(s string) string {
	return strings.Map(unicode.ToLower, s)
}

// FoldsColumn reports whether text operators and comparisons on col compare
// folded text (Fold): true for text and memo columns. Ids, lookups and
// choices compare as they are.
func FoldsColumn(col *schema.Column) bool {
	return col.Type == schema.Text || col.Type == schema.Memo
}
