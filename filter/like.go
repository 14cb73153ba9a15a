package filter

// LikeToken is one element of a text pattern: a literal rune, or a wildcard.
type LikeToken struct {
	// Any is true for a run of any characters (like's %); One for exactly
	// one character (like's _). Otherwise the token is the literal Rune.
	Any, One bool
	Rune     rune
}

// LikePattern returns the pattern that the text operator op (like,
// begins-with, ends-with, contains or a negation of one) matches with
// operand value. For like and not-like, value is a LIKE pattern in which %
// is any run of characters, _ one character and a backslash makes the next
// character literal (a trailing backslash is literal); for the others value
// is literal text. Package sqlgen renders the same tokens for each dialect
// so that SQL and Eval agree.
func LikePattern(op Op, value string) []LikeToken {
	if p, ok := op.Complement(); ok {
		op = p
	}
	var out []LikeToken
	if op == EndsWith || op == Contains {
		out = append(out, LikeToken{Any: true})
	}
	rs := []rune(value)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if op != Like {
			out = append(out, LikeToken{Rune: r})
			continue
		}
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			out = append(out, LikeToken{Rune: rs[i]})
		case r == '%':
			if len(out) == 0 || !out[len(out)-1].Any { // %% is %
				out = append(out, LikeToken{Any: true})
			}
		case r == '_':
			out = append(out, LikeToken{One: true})
		default:
			out = append(out, LikeToken{Rune: r})
		}
	}
	if op == BeginsWith || op == Contains {
		out = append(out, LikeToken{Any: true})
	}
	return out
}

// matchLike reports whether s matches pattern p. It backtracks only to the
// last Any token, so it runs in O(len(p)·len(s)).
func matchLike(p []LikeToken, s []rune) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi].Any:
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi].One || p[pi].Rune == s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].Any {
		pi++
	}
	return pi == len(p)
}
