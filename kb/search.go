package kb

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Field boosts: a match in an alternative question counts most, then the title, then tags
// and the answer body.
const (
	boostQuestions = 3.0
	boostTitle     = 2.0
	boostTags      = 1.0
	boostAnswer    = 0.5
)

// Hit is one ranked search result.
type Hit struct {
	Article Article
	// Score is bleve's raw relevance score; it is comparable only within one search.
	Score float64
	// Coverage is the share of the query's terms found in the article's title and
	// questions, from 0 to 1.
	Coverage float64
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
		field("questions", boostQuestions),
		field("title", boostTitle),
		field("tags", boostTags),
		field("answer", boostAnswer),
	)
	req := bleve.NewSearchRequestOptions(q, k, 0, false)
	req.IncludeLocations = true
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("searching index: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		a, ok := x.articles[h.ID]
		if !ok {
			continue // deleted between the search and now
		}
		var fields []string
		for f := range h.Locations {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		found := 0
		for _, t := range qterms {
			if x.terms[h.ID][t] {
				found++
			}
		}
		hits = append(hits, Hit{
			Article:  a,
			Score:    h.Score,
			Coverage: float64(found) / float64(len(qterms)),
			Fields:   fields,
		})
	}
	return hits, nil
}
