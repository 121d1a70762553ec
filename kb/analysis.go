package kb

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
)

// synonymFilterName is the token filter that maps synonyms to one term.
const synonymFilterName = "kefu_synonyms"

func init() {
	registry.RegisterTokenFilter(synonymFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return synonymFilter{}, nil
	})
}

// synonymFilter replaces each term that has a canonical synonym by it, so that 开票 and
// 发票, or 物流, 快递 and 包裹, are one term in the index and in queries. It runs after
// the bigram filter, so a Chinese synonym is a two-character term.
type synonymFilter struct{}

func (synonymFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if c, ok := synonyms[string(t.Term)]; ok {
			t.Term = []byte(c)
		}
	}
	return in
}

// unigramAnalyzerName also indexes each Han character alone, beside the bigrams: a
// weaker field that still matches when a shopper's wording shares single characters
// with a question (券 and 优惠券, or a typo inside a word).
const unigramAnalyzerName = "kefu_unigram"

// addUnigramAnalyzer registers unigramAnalyzerName.
func addUnigramAnalyzer(m *mapping.IndexMappingImpl) error {
	if err := m.AddCustomTokenFilter("kefu_bigram_unigram", map[string]any{
		"type": cjk.BigramName, "output_unigram": true,
	}); err != nil {
		return err
	}
	return m.AddCustomAnalyzer(unigramAnalyzerName, map[string]any{
		"type":      custom.Name,
		"tokenizer": unicode.Name,
		"token_filters": []string{
			cjk.WidthName, lowercase.Name, en.PossessiveName, en.StopName, porter.Name,
			"kefu_bigram_unigram", synonymFilterName,
		},
	})
}

// addAnalyzer registers the analyzer of every text field: unicode words; full-width
// folded to half-width; lower case; English possessives, stop words and Porter stems
// (which leave Han text alone); Han runs as overlapping bigrams; synonyms.
func addAnalyzer(m *mapping.IndexMappingImpl) error {
	return m.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":      custom.Name,
		"tokenizer": unicode.Name,
		"token_filters": []string{
			cjk.WidthName, lowercase.Name, en.PossessiveName, en.StopName, porter.Name,
			cjk.BigramName, synonymFilterName,
		},
	})
}
