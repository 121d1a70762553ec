package kb

import (
	"context"
	"fmt"
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
	// Score is the article's relevance: its question documents' scores weighed by
	// evidence, plus its article document's score. It is comparable only within one
	// search.
	Score float64
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
		hits = append(hits, Hit{
			Article:  art,
			Score:    score,
			Coverage: coverage(qterms, t.all),
			Overlap:  bestOverlap(qterms, t.questions),
			Fields:   fields,
		})
	}
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
