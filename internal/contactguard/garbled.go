package contactguard

import (
	"unicode"
	"unicode/utf8"
)

// Garbled reports whether text is unfit to be stored as a message whatever it says:
// invalid UTF-8 (or U+FFFD, which is what a JSON decoder leaves of it), NUL and the other
// control characters but tab, newline and carriage return, bidi embeddings, overrides and
// isolates (which make a text read differently from how it is stored: 「订单‮87654321」),
// or nothing but invisible characters and spaces. Empty text is not garbled: whether a
// message may be empty is its caller's rule.
//
// Invisible characters inside a text are allowed: a zero-width joiner holds an emoji
// family together, and the guard reads past them (Normalize).
func Garbled(text string) bool {
	if !utf8.ValidString(text) {
		return true
	}
	seen := false
	for _, r := range text {
		switch {
		case r == utf8.RuneError,
			r < 0x20 && r != '\t' && r != '\n' && r != '\r', r >= 0x7F && r <= 0x9F,
			r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return true
		case !seen && !Invisible(r) && !unicode.IsSpace(r):
			seen = true
		}
	}
	return text != "" && !seen
}
