package kb

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
)

// Baseline is plain bleve as a point of comparison for evaluations: the standard analyzer,
// one document per question, and the top hit as the answer. It is not used to answer
// shoppers.
type Baseline struct {
	idx bleve.Index
}

// NewBaseline indexes the articles' titles and questions, one document each.
func NewBaseline(arts []Article) (*Baseline, error) {
	m := bleve.NewIndexMapping()
	m.DefaultAnalyzer = standard.Name
	idx, err := bleve.NewMemOnly(m)
	if err != nil {
		return nil, err
	}
	b := idx.NewBatch()
	for _, a := range arts {
		for i, q := range append([]string{a.Title}, a.Questions...) {
			if err := b.Index(a.ID+"/"+strconv.Itoa(i), map[string]string{"text": q}); err != nil {
				return nil, err
			}
		}
	}
	if err := idx.Batch(b); err != nil {
		return nil, fmt.Errorf("indexing the baseline: %w", err)
	}
	return &Baseline{idx: idx}, nil
}

// Top returns the article of the best-matching question and its score; "" when nothing
// matches.
func (b *Baseline) Top(ctx context.Context, text string) (string, float64, error) {
	q := bleve.NewMatchQuery(text)
	q.SetField("text")
	res, err := b.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, 1, 0, false))
	if err != nil || len(res.Hits) == 0 {
		return "", 0, err
	}
	h := res.Hits[0]
	return h.ID[:strings.LastIndexByte(h.ID, '/')], h.Score, nil
}

// Close releases the index.
func (b *Baseline) Close() error { return b.idx.Close() }

// BestThresholdAccuracy is the HINT3 accuracy of the baseline with the score threshold
// chosen in hindsight: below the threshold the prediction is "no article". preds are
// the top article and score per question, labels the right article or "" for none. It
// returns the accuracy and the threshold.
func BestThresholdAccuracy(preds []string, scores []float64, labels []string) (float64, float64) {
	if len(preds) == 0 {
		return 0, 0
	}
	cands := append([]float64{0}, scores...)
	sort.Float64s(cands)
	best, bestT := -1.0, 0.0
	for _, t := range cands {
		right := 0
		for i := range preds {
			p := preds[i]
			if scores[i] < t {
				p = ""
			}
			if p == labels[i] {
				right++
			}
		}
		if acc := float64(right) / float64(len(preds)); acc > best {
			best, bestT = acc, t
		}
	}
	return best, bestT
}
