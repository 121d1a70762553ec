package bot

import (
	"strings"
	"unicode"
)

// Normalize folds full-width ASCII and the ideographic space to their half-width forms,
// lower-cases Latin letters, and collapses runs of white space.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// firstAny returns the first of words that s contains, or "".
func firstAny(s string, words []string) string {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}

// firstWord returns the first of the English words (or phrases) that s contains as
// whole words, or "".
func firstWord(s string, words []string) string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	joined := " " + strings.Join(fields, " ") + " "
	for _, w := range words {
		if strings.Contains(joined, " "+w+" ") {
			return w
		}
	}
	return ""
}
