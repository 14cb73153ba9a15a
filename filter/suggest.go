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

// distance is the Levenshtein distance between a and b in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
