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

// containsAny reports whether s contains one of the words.
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// containsWord reports whether s contains one of the English words as a whole word.
func containsWord(s string, words []string) bool {
	fields := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	joined := " " + strings.Join(fields, " ") + " "
	for _, w := range words {
		if strings.Contains(joined, " "+w+" ") {
			return true
		}
	}
	return false
}
