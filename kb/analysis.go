package kb

import (
	"strings"

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

// Names of the analysis parts registered here.
const (
	synonymFilterName    = "kefu_synonyms"
	colloquialFilterName = "kefu_colloquial"
)

func init() {
	registry.RegisterTokenFilter(synonymFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return synonymFilter{}, nil
	})
	registry.RegisterCharFilter(colloquialFilterName, func(map[string]any, *registry.Cache) (analysis.CharFilter, error) {
		return colloquialFilter{}, nil
	})
}

// colloquialPairs are chat spellings and the standard words colloquial rewrites them to
// before analysis, so that 「咋退」 and 「怎么退」 share their terms. Only whole,
// unambiguous forms are listed.
var colloquialPairs = []string{
	"肿么", "怎么", "咋样", "怎样", "咋", "怎么", "啥时候", "什么时候", "啥", "什么", "神马", "什么",
	"木有", "没有", "莫有", "没有", "米有", "没有", "木事", "没事", "俺", "我", "偶们", "我们",
	"滴", "的", "嘛时候", "什么时候", "多久能", "多久",
}

var colloquial = strings.NewReplacer(colloquialPairs...)

// colloquialFilter applies colloquial.
type colloquialFilter struct{}

func (colloquialFilter) Filter(in []byte) []byte { return []byte(colloquial.Replace(string(in))) }

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

// addAnalyzers registers the analyzer of every text field and its unigram twin: chat
// spellings normalised; unicode words; full-width folded to half-width; lower case;
// English possessives, stop words and Porter stems (which leave Han text alone); Han runs
// as overlapping bigrams (and, in the twin, single characters too); synonyms.
func addAnalyzers(m *mapping.IndexMappingImpl) error {
	if err := m.AddCustomTokenFilter("kefu_bigram_unigram", map[string]any{
		"type": cjk.BigramName, "output_unigram": true,
	}); err != nil {
		return err
	}
	for name, han := range map[string]string{analyzerName: cjk.BigramName, unigramAnalyzerName: "kefu_bigram_unigram"} {
		err := m.AddCustomAnalyzer(name, map[string]any{
			"type":         custom.Name,
			"char_filters": []string{colloquialFilterName},
			"tokenizer":    unicode.Name,
			"token_filters": []string{
				cjk.WidthName, lowercase.Name, en.PossessiveName, en.StopName, porter.Name,
				han, synonymFilterName,
			},
		})
		if err != nil {
			return err
		}
	}
	return nil
}
