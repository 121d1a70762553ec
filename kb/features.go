package kb

import (
	_ "embed"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
)

//go:embed background.txt
var backgroundText string

// backgroundFeatures returns the features of the messages of background.txt.
func backgroundFeatures(unigram analysis.Analyzer) [][]string {
	var out [][]string
	for _, line := range strings.Split(backgroundText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, features(unigram, line))
	}
	return out
}

// features returns the classifier's features of text, with repeats: the terms of the
// unigram analyzer (Han bigrams and single characters after synonyms, English stems) and
// the character trigrams of each Latin word, marked at its ends (^inv, invo, …, ce$), so
// that a misspelt word ("mattres", "refnd") still shares most of its features with the
// right one.
func (x *Index) features(text string) []string { return features(x.unigram, text) }

func features(unigram analysis.Analyzer, text string) []string {
	toks := unigram.Analyze([]byte(text))
	out := make([]string, 0, len(toks)+2*len(text)/3)
	for _, t := range toks {
		out = append(out, string(t.Term))
	}
	for _, w := range latinWords(text) {
		r := []rune("^" + w + "$")
		for i := 0; i+3 <= len(r); i++ {
			out = append(out, "#"+string(r[i:i+3]))
		}
	}
	return out
}

// latinWords returns the words of ASCII letters and digits in text, with full-width
// forms folded and letters lower-cased, as the analyzer does.
func latinWords(text string) []string {
	folded := strings.Map(func(r rune) rune {
		if r >= '\uFF01' && r <= '\uFF5E' {
			r -= 0xFEE0
		}
		return unicode.ToLower(r)
	}, text)
	return strings.FieldsFunc(folded, func(r rune) bool {
		return r >= 128 || !(unicode.IsLetter(r) || unicode.IsDigit(r))
	})
}
