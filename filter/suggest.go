package filter

import (
	"fmt"
	"sort"
	"strings"
)

// closest returns the candidate nearest to name (case-insensitively) when it
// is near enough to be a likely typo, or "".
func closest(name string, candidates []string) string {
	lower := strings.ToLower(name)
	best, bestDist := "", min(1+len(lower)/4, 3)+1
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := distance(lower, strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		for _, c := range sorted {
			if len(lower) >= 3 && strings.HasPrefix(strings.ToLower(c), lower) {
				return c
			}
		}
	}
	return best
}

// didYouMean returns the hint for the candidate nearest to name, or "".
func didYouMean(name string, candidates []string) string {
	if best := closest(name, candidates); best != "" && best != name {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return ""
}

// distance is the edit distance between a and b in bytes, counting an
// insertion, a deletion, a substitution or a swap of adjacent bytes as one.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
