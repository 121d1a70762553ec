package kb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/rs/zerolog"
)

// analyzerName is the analyzer of every text field: unicode words, full-width folded to
// half-width, lower case, Han runs as bigrams.
const analyzerName = "kefu_text"

// Config configures an Index. The zero value is an in-memory index that logs nothing.
type Config struct {
	// Path is the directory of an on-disk index; empty keeps the index in memory. An
	// existing index at Path is rebuilt, since the articles are loaded at start; a
	// non-empty directory that holds no index is an error, never deleted.
	Path   string
	Logger zerolog.Logger
}

// Index is the bleve index of the articles, safe for concurrent use.
type Index struct {
	log      zerolog.Logger
	idx      bleve.Index
	analyzer analysis.Analyzer

	mu       sync.RWMutex // guards articles and terms
	articles map[string]Article
	terms    map[string]map[string]bool // article id → tokens of its title and questions
}

// New builds an empty index.
func New(cfg Config) (*Index, error) {
	m, err := buildMapping()
	if err != nil {
		return nil, fmt.Errorf("building index mapping: %w", err)
	}
	var idx bleve.Index
	if cfg.Path == "" {
		idx, err = bleve.NewMemOnly(m)
	} else {
		if err := clearIndexDir(cfg.Path); err != nil {
			return nil, fmt.Errorf("clearing index directory: %w", err)
		}
		idx, err = bleve.New(cfg.Path, m)
	}
	if err != nil {
		return nil, fmt.Errorf("creating index: %w", err)
	}
	an := m.AnalyzerNamed(analyzerName)
	if an == nil {
		return nil, errors.New("analyzer missing from mapping")
	}
	return &Index{
		log:      cfg.Logger,
		idx:      idx,
		analyzer: an,
		articles: make(map[string]Article),
		terms:    make(map[string]map[string]bool),
	}, nil
}

// clearIndexDir removes the index at dir. It refuses to remove a directory that holds
// anything but a bleve index, so that a data directory given by mistake is not wiped.
func clearIndexDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err != nil {
			return fmt.Errorf("%s is not empty and holds no index", dir)
		}
	}
	return os.RemoveAll(dir)
}

func buildMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	err := m.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{cjk.WidthName, lowercase.Name, cjk.BigramName},
	})
	if err != nil {
		return nil, err
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.IncludeTermVectors = true
		return f
	}
	keyword := bleve.NewKeywordFieldMapping()
	doc := bleve.NewDocumentMapping()
	doc.AddFieldMappingsAt("title", text())
	doc.AddFieldMappingsAt("questions", text())
	doc.AddFieldMappingsAt("answer", text())
	doc.AddFieldMappingsAt("tags", text())
	doc.AddFieldMappingsAt("category", keyword)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = analyzerName
	return m, nil
}

// indexDoc is what bleve stores for an article.
type indexDoc struct {
	Title     string   `json:"title"`
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	Tags      []string `json:"tags"`
	Category  string   `json:"category"`
}

// Put adds or replaces articles. Each is validated first; none is indexed if one is invalid.
func (x *Index) Put(ctx context.Context, arts ...Article) error {
	for _, a := range arts {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := x.idx.NewBatch()
	for _, a := range arts {
		doc := indexDoc{Title: a.Title, Questions: a.Questions, Answer: a.Answer, Tags: a.Tags, Category: a.Category}
		if err := b.Index(a.ID, doc); err != nil {
			return fmt.Errorf("indexing article %q: %w", a.ID, err)
		}
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("indexing %d articles: %w", len(arts), err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, a := range arts {
		x.articles[a.ID] = a
		set := make(map[string]bool)
		for _, t := range x.Tokens(a.Title) {
			set[t] = true
		}
		for _, q := range a.Questions {
			for _, t := range x.Tokens(q) {
				set[t] = true
			}
		}
		x.terms[a.ID] = set
	}
	return nil
}

// Delete removes an article; it returns ErrNotFound for an unknown id.
func (x *Index) Delete(ctx context.Context, id string) error {
	if _, err := x.Article(id); err != nil {
		return err
	}
	if err := x.idx.Delete(id); err != nil {
		return fmt.Errorf("deleting article %q: %w", id, err)
	}
	x.mu.Lock()
	delete(x.articles, id)
	delete(x.terms, id)
	x.mu.Unlock()
	return nil
}

// Article returns the article with the given id, or ErrNotFound.
func (x *Index) Article(id string) (Article, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	a, ok := x.articles[id]
	if !ok {
		return Article{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return a, nil
}

// Articles returns every article, sorted by id.
func (x *Index) Articles() []Article {
	x.mu.RLock()
	out := make([]Article, 0, len(x.articles))
	for _, a := range x.articles {
		out = append(out, a)
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Len returns the number of articles.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.articles)
}

// Tokens returns the distinct index terms of text, in order of first appearance.
func (x *Index) Tokens(text string) []string {
	seen := make(map[string]bool)
	var out []string
	for _, t := range x.analyzer.Analyze([]byte(text)) {
		s := string(t.Term)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Close releases the index.
func (x *Index) Close() error { return x.idx.Close() }
