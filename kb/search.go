package kb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Field boosts: a match in an alternative question counts most, then the title, then tags
// and the answer body.
const (
	boostQuestion = 1.0
	boostTitle    = 0.8
	boostTags     = 0.4
	boostAnswer   = 0.15
	boostFuzzy    = 0.3
)

// typoWords returns the Latin words of text that are long enough to carry a typo and
// that no title or question holds: a known word is no typo, and a fuzzy search for it
// would only cost time.
func (x *Index) typoWords(text string) string {
	var out []string
	for _, w := range latinWords(text) {
		if len(w) < 5 || strings.IndexFunc(w, unicode.IsDigit) >= 0 {
			continue
		}
		terms := x.Tokens(w)
		if len(terms) == 1 && x.cls.docFreqs(terms)[0] > 0 {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// Hit is one ranked search result.
type Hit struct {
	Article Article
	// Score ranks the hits: the article's classifier logit (classifier.go). It is
	// comparable only within one search.
	Score float64
	// Prob is the article's classifier's belief, 0 to 1, that the question is one of
	// the article's rather than one of its most similar articles'.
	Prob float64
	// Lexical is the retrieval score: the article document's bleve score.
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
	// What bleve's match query would build, from the one analysis above, for the terms
	// that can tell articles apart.
	lookup := x.searchTerms(qterms)
	field := func(name string, boost float64) query.Query {
		terms := make([]query.Query, len(lookup))
		for i, term := range lookup {
			tq := bleve.NewTermQuery(term)
			tq.SetField(name)
			terms[i] = tq
		}
		q := bleve.NewDisjunctionQuery(terms...)
		q.SetBoost(boost)
		return q
	}
	q := bleve.NewDisjunctionQuery(
		field("questions", boostQuestion),
		field("title", boostTitle),
		field("tags", boostTags),
		field("answer", boostAnswer),
	)
	if words := x.typoWords(text); words != "" {
		// Unknown Latin words of five letters or more also match with one typo. Han
		// text is left out: one edit of a two-character term matches almost anything.
		fz := bleve.NewMatchQuery(words)
		fz.SetField("questions")
		fz.Analyzer = analyzerName
		fz.SetFuzziness(1)
		fz.SetBoost(boostFuzzy)
		q.AddQuery(fz)
	}
	found, err := x.retrieve(ctx, q, max(20, 4*k))
	if err != nil {
		return nil, err
	}

	qv := x.cls.vector(x.features(text))
	x.mu.RLock()
	defer x.mu.RUnlock()
	hits := make([]Hit, 0, len(found))
	for _, h := range found {
		id, _ := cutDocID(h.ID)
		art, ok := x.articles[id]
		if !ok {
			continue // deleted between the search and now
		}
		logit, ok := x.cls.logit(qv, id)
		if !ok {
			logit = -10 // put by a concurrent Put whose models are not installed yet
		}
		hits = append(hits, Hit{
			Article: art,
			Score:   logit,
			Prob:    sigmoid(logit),
			Lexical: h.Score,
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
	qids := make([]int32, len(qterms))
	for i, term := range qterms {
		qids[i] = x.dict.id(term, false)
	}
	for i := range hits {
		t := x.terms[hits[i].Article.ID]
		hits[i].Coverage, hits[i].Overlap = coverage(qids, t.all), bestOverlap(qids, t.questions)
		hits[i].Fields = t.matched(qids)
	}
	return hits, nil
}

// retrieve returns the size best documents for q, equal scores ordered by document id,
// so that the cut at size keeps the same articles however the index was built:
// bleve's own order of equal scores follows its segments, which two builds of the
// same articles lay out differently. bleve is asked for a few more than size; when
// the documents tied at the cut may go on past what it returned, it is asked again for
// twice as many. (bleve's sort by _id would do the same at the price of reading the id
// of every matching document, a large share of 50,000 for a common word.)
func (x *Index) retrieve(ctx context.Context, q query.Query, size int) ([]*search.DocumentMatch, error) {
	fetch := size + 20
	for {
		req := bleve.NewSearchRequestOptions(q, fetch, 0, false)
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("searching index: %w", err)
		}
		hits := res.Hits
		if len(hits) < fetch || hits[size-1].Score != hits[len(hits)-1].Score {
			slices.SortStableFunc(hits, func(a, b *search.DocumentMatch) int {
				if c := cmp.Compare(b.Score, a.Score); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			return hits[:min(size, len(hits))], nil
		}
		fetch *= 2
	}
}

// Terms held by more than commonDocs titles and questions are left out of the search,
// the rarest minTerms excepted: in a large knowledge base, such a term (可以, 怎么 in
// 10,000 articles) barely moves the ranking but makes bleve score a large share of all
// documents. The classifier still sees every term.
const (
	commonDocs = 1000
	minTerms   = 3
)

// searchTerms returns the terms to search for.
func (x *Index) searchTerms(terms []string) []string {
	df := x.cls.docFreqs(terms)
	order := make([]int, len(terms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return df[order[a]] < df[order[b]] })
	out := make([]string, 0, len(terms))
	for rank, i := range order {
		if rank < minTerms || df[i] <= commonDocs {
			out = append(out, terms[i])
		}
	}
	return out
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

// matched names the fields that hold one of the question's terms, sorted. An article
// found by a fuzzy term only (a typo in a question) matched its questions.
func (t articleTerms) matched(q []int32) []string {
	has := func(set termSet) bool { return slices.ContainsFunc(q, set.has) }
	var out []string
	if has(t.answer) {
		out = append(out, "answer")
	}
	if slices.ContainsFunc(t.questions[1:], has) {
		out = append(out, "questions")
	}
	if has(t.tags) {
		out = append(out, "tags")
	}
	if has(t.questions[0]) {
		out = append(out, "title")
	}
	if len(out) == 0 {
		out = append(out, "questions")
	}
	return out
}

// coverage is the share of q (term ids, -1 for a term no article holds) in set.
func coverage(q []int32, set termSet) float64 {
	found := 0
	for _, t := range q {
		if set.has(t) {
			found++
		}
	}
	return float64(found) / float64(len(q))
}

// bestOverlap is the highest Dice coefficient between q and one of the sets.
func bestOverlap(q []int32, sets []termSet) float64 {
	best := 0.0
	for _, s := range sets {
		if len(s) == 0 {
			continue
		}
		common := 0
		for _, t := range q {
			if s.has(t) {
				common++
			}
		}
		if d := 2 * float64(common) / float64(len(q)+len(s)); d > best {
			best = d
		}
	}
	return best
}
