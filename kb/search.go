package kb

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Field boosts: a match in an alternative question counts most, then the title, then tags
// and the answer body.
const (
	boostQuestion = 1.0
	boostTitle    = 0.8
	boostTags     = 0.4
	boostAnswer   = 0.15
	boostChars    = 0.3
	boostFuzzy    = 0.3
)

// typoWords returns the Latin words of text that are long enough to carry a typo.
func typoWords(text string) string {
	// Fold full-width letters first, as the analyzer does, so ｉｎｖｏｉｃｅ counts too.
	text = strings.Map(func(r rune) rune {
		if r >= '\uFF01' && r <= '\uFF5E' {
			return r - 0xFEE0
		}
		return r
	}, text)
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !(r < 128 && unicode.IsLetter(r)) }) {
		if len(w) >= 5 {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// evidence weighs an article's matching questions, best first: the best match counts
// fully, further matches add evidence with falling weight, so an article whose several
// questions match beats one with a single lucky match of the same strength.
var evidence = []float64{1, 0.35, 0.15, 0.05}

// Hit is one ranked search result.
type Hit struct {
	Article Article
	// Score ranks the hits: the article's classifier logit (classifier.go). It is
	// comparable only within one search.
	Score float64
	// Prob is the article's classifier's belief, 0 to 1, that the question is one of
	// the article's rather than one of its most similar articles'.
	Prob float64
	// Lexical is the retrieval score: the article's question documents' bleve scores
	// weighed by evidence, plus its article document's score.
	Lexical float64
	// Coverage is the share of the query's terms found in the article's title and
	// questions, from 0 to 1.
	Coverage float64
	// Overlap is the best Dice overlap, 0 to 1, between the query's terms and those of
	// the title or one question: 1 when the query says exactly what a question says.
	Overlap float64
	// Fields names the fields that matched, sorted.
	Fields []string
}

// Search returns up to k hits for the query, best first. An empty query has no hits.
func (x *Index) Search(ctx context.Context, text string, k int) ([]Hit, error) {
	text = strings.TrimSpace(text)
	if text == "" || k <= 0 {
		return nil, nil
	}
	qterms := x.Tokens(text)
	if len(qterms) == 0 {
		return nil, nil
	}
	field := func(name string, boost float64) query.Query {
		q := bleve.NewMatchQuery(text)
		q.SetField(name)
		q.Analyzer = analyzerName
		q.SetBoost(boost)
		return q
	}
	q := bleve.NewDisjunctionQuery(
		field("questions", boostQuestion),
		field("title", boostTitle),
		field("tags", boostTags),
		field("answer", boostAnswer),
		charField(text),
	)
	if words := typoWords(text); words != "" {
		// Latin words of five letters or more also match with one typo. Han text is
		// left out: one edit of a two-character term matches almost anything.
		fz := bleve.NewMatchQuery(words)
		fz.SetField("questions")
		fz.Analyzer = analyzerName
		fz.SetFuzziness(1)
		fz.SetBoost(boostFuzzy)
		q.AddQuery(fz)
	}
	req := bleve.NewSearchRequestOptions(q, max(60, 12*k), 0, false)
	req.IncludeLocations = true
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("searching index: %w", err)
	}

	type agg struct {
		qs      []float64
		article float64
		fields  map[string]bool
	}
	byID := make(map[string]*agg)
	for _, h := range res.Hits {
		kind, rest, _ := strings.Cut(h.ID, "/")
		id := rest
		if kind == "q" {
			id = rest[:strings.LastIndexByte(rest, '/')]
		}
		a := byID[id]
		if a == nil {
			a = &agg{fields: make(map[string]bool)}
			byID[id] = a
		}
		if kind == "q" {
			a.qs = append(a.qs, h.Score)
		} else {
			a.article = h.Score
		}
		for f := range h.Locations {
			if f == "chars" {
				continue
			}
			a.fields[f] = true
		}
	}

	qv := x.cls.vector(x.features(text))
	x.mu.RLock()
	defer x.mu.RUnlock()
	hits := make([]Hit, 0, len(byID))
	for id, a := range byID {
		art, ok := x.articles[id]
		if !ok {
			continue // deleted between the search and now
		}
		if len(a.fields) == 0 {
			// Only single characters matched: that ranks an article that matches
			// otherwise, but is no evidence of its own.
			continue
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(a.qs)))
		score := a.article
		for i, s := range a.qs {
			if i < len(evidence) {
				score += evidence[i] * s
			}
		}
		fields := make([]string, 0, len(a.fields))
		for f := range a.fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		t := x.terms[id]
		logit, ok := x.cls.logit(qv, id)
		if !ok {
			logit = -10 // put by a concurrent Put whose models are not installed yet
		}
		hits = append(hits, Hit{
			Article:  art,
			Score:    logit,
			Prob:     sigmoid(logit),
			Lexical:  score,
			Coverage: coverage(qterms, t.all),
			Overlap:  bestOverlap(qterms, t.questions),
			Fields:   fields,
		})
	}
	hits = sameLanguage(hits, langOf(text))
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Article.ID < hits[j].Article.ID
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, nil
}

// sameLanguage keeps the hits in the question's language, if there is any: a shopper
// who writes Chinese reads the Chinese article on invoices, not its English twin, even
// for 「能开invoice吗」.
func sameLanguage(hits []Hit, lang string) []Hit {
	if lang == "" || !slices.ContainsFunc(hits, func(h Hit) bool { return articleLang(h.Article) == lang }) {
		return hits
	}
	return slices.DeleteFunc(hits, func(h Hit) bool { return articleLang(h.Article) != lang })
}

// langOf returns "zh" for a question with Han characters, "en" for one with Latin
// letters and no Han, and "" for one with neither (digits, emoji).
func langOf(text string) string {
	latin := false
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
		if r < 128 && unicode.IsLetter(r) || r >= '\uFF21' && r <= '\uFF5A' {
			latin = true
		}
	}
	if latin {
		return "en"
	}
	return ""
}

// articleLang is an article's language as langOf names it.
func articleLang(a Article) string {
	if strings.HasPrefix(a.Lang, "en") {
		return "en"
	}
	if a.Lang == "" || strings.HasPrefix(a.Lang, "zh") {
		return "zh"
	}
	return a.Lang
}

func charField(text string) query.Query {
	q := bleve.NewMatchQuery(text)
	q.SetField("chars")
	q.Analyzer = unigramAnalyzerName
	q.SetBoost(boostChars)
	return q
}

func coverage(q []string, set map[string]bool) float64 {
	found := 0
	for _, t := range q {
		if set[t] {
			found++
		}
	}
	return float64(found) / float64(len(q))
}

// bestOverlap is the highest Dice coefficient between q and one of the sets.
func bestOverlap(q []string, sets []map[string]bool) float64 {
	best := 0.0
	for _, s := range sets {
		if len(s) == 0 {
			continue
		}
		common := 0
		for _, t := range q {
			if s[t] {
				common++
			}
		}
		if d := 2 * float64(common) / float64(len(q)+len(s)); d > best {
			best = d
		}
	}
	return best
}
