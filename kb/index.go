package kb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/rs/zerolog"
)

// analyzerName is the analyzer of every text field but the character field (analysis.go).
const analyzerName = "kefu_text"

// Config configures an Index. The zero value is an in-memory index that logs nothing.
type Config struct {
	// Path is the directory of an on-disk index; empty keeps the index in memory. An
	// existing index at Path is rebuilt, since the articles are loaded at start. A
	// non-empty directory that holds no bleve index is refused, never cleared.
	Path   string
	Logger zerolog.Logger
}

// Index is the bleve index of the articles, safe for concurrent use.
//
// Each article is one bleve document (title, questions, answer, tags), which finds the
// articles that share terms with a question; the article's classifier then ranks them
// (classifier.go), by the evidence of all its questions rather than one lucky word.
type Index struct {
	log      zerolog.Logger
	idx      bleve.Index
	analyzer analysis.Analyzer
	unigram  analysis.Analyzer
	cls      *classifier

	// writeMu serialises Put and Delete, so that the classifier retrains one change at
	// a time.
	writeMu sync.Mutex

	mu       sync.RWMutex // guards articles and terms
	articles map[string]Article
	terms    map[string]articleTerms
}

// articleTerms are the analysed terms of an article, for coverage, overlap and the
// fields a question matches.
type articleTerms struct {
	all       map[string]bool   // title and every question
	questions []map[string]bool // title first, then each question
	tags      map[string]bool
	answer    map[string]bool
}

// New builds an empty index.
func New(cfg Config) (*Index, error) {
	m, err := buildMapping()
	if err != nil {
		return nil, fmt.Errorf("building index mapping: %w", err)
	}
	var idx bleve.Index
	if cfg.Path == "" {
		// scorch kept in memory: far faster to search than bleve's older in-memory
		// store (upsidedown on gtreap), which "NewMemOnly" still uses.
		idx, err = bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	} else {
		if err := clearIndexDir(cfg.Path); err != nil {
			return nil, err
		}
		idx, err = bleve.New(cfg.Path, m)
	}
	if err != nil {
		return nil, fmt.Errorf("creating index: %w", err)
	}
	an, uni := m.AnalyzerNamed(analyzerName), m.AnalyzerNamed(unigramAnalyzerName)
	if an == nil || uni == nil {
		return nil, errors.New("analyzer missing from mapping")
	}
	return &Index{
		log:      cfg.Logger,
		idx:      idx,
		analyzer: an,
		unigram:  uni,
		cls:      newClassifier(backgroundFeatures(uni)),
		articles: make(map[string]Article),
		terms:    make(map[string]articleTerms),
	}, nil
}

// clearIndexDir removes an earlier bleve index at path so it can be rebuilt. It refuses
// a non-empty directory that does not hold a bleve index, so that a mistyped path can
// never delete someone's data.
func clearIndexDir(path string) error {
	entries, err := os.ReadDir(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading index directory: %w", err)
	}
	if len(entries) == 0 {
		return os.Remove(path)
	}
	if _, err := os.Stat(filepath.Join(path, "index_meta.json")); err != nil {
		return fmt.Errorf("index directory %s is not empty and holds no bleve index; refusing to clear it", path)
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("clearing index directory: %w", err)
	}
	return nil
}

func buildMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		return nil, err
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.IncludeTermVectors = true
		f.Store = false
		return f
	}
	keyword := bleve.NewKeywordFieldMapping()
	keyword.Store = false
	doc := bleve.NewDocumentMapping()
	doc.AddFieldMappingsAt("title", text())
	doc.AddFieldMappingsAt("questions", text())
	doc.AddFieldMappingsAt("answer", text())
	doc.AddFieldMappingsAt("tags", text())
	doc.AddFieldMappingsAt("article", keyword)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = analyzerName
	return m, nil
}

// articleDoc is what bleve indexes.
type articleDoc struct {
	Title     string   `json:"title"`
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	Tags      []string `json:"tags"`
	Article   string   `json:"article"`
}

func articleDocID(id string) string { return "a/" + id }

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
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	b := x.idx.NewBatch()
	for _, a := range arts {
		if err := b.Index(articleDocID(a.ID), articleDoc{Title: a.Title, Questions: a.Questions, Answer: a.Answer, Tags: a.Tags, Article: a.ID}); err != nil {
			return fmt.Errorf("indexing article %q: %w", a.ID, err)
		}
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("indexing %d articles: %w", len(arts), err)
	}
	// The models are trained before the articles are listed below, so a search never
	// meets an article without its model.
	x.cls.put(x.documents(arts))
	terms := make(map[string]articleTerms, len(arts))
	for _, a := range arts {
		terms[a.ID] = x.articleTerms(a)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, a := range arts {
		x.articles[a.ID] = a
		x.terms[a.ID] = terms[a.ID]
	}
	return nil
}

// documents returns the features of each article's title and questions, for the
// classifier, analysed on all cores.
func (x *Index) documents(arts []Article) map[string][][]string {
	feats := make([][][]string, len(arts))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(arts))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(arts); i += workers {
				for _, q := range append([]string{arts[i].Title}, arts[i].Questions...) {
					feats[i] = append(feats[i], x.features(q))
				}
			}
		}()
	}
	wg.Wait()
	docs := make(map[string][][]string, len(arts))
	for i, a := range arts {
		docs[a.ID] = feats[i]
	}
	return docs
}

func (x *Index) articleTerms(a Article) articleTerms {
	t := articleTerms{all: make(map[string]bool), tags: x.termSet(a.Tags...), answer: x.termSet(a.Answer)}
	for _, text := range append([]string{a.Title}, a.Questions...) {
		set := make(map[string]bool)
		for _, term := range x.Tokens(text) {
			set[term] = true
			t.all[term] = true
		}
		t.questions = append(t.questions, set)
	}
	return t
}

func (x *Index) termSet(texts ...string) map[string]bool {
	set := make(map[string]bool)
	for _, text := range texts {
		for _, term := range x.Tokens(text) {
			set[term] = true
		}
	}
	return set
}

// Delete removes an article; it returns ErrNotFound for an unknown id.
func (x *Index) Delete(ctx context.Context, id string) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if _, err := x.Article(id); err != nil {
		return err
	}
	b := x.idx.NewBatch()
	b.Delete(articleDocID(id))
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("deleting article %q: %w", id, err)
	}
	x.mu.Lock()
	delete(x.articles, id)
	delete(x.terms, id)
	x.mu.Unlock()
	x.cls.remove(id)
	return nil
}

// load makes the index hold exactly arts.
func (x *Index) load(ctx context.Context, arts []Article) error {
	if err := x.Put(ctx, arts...); err != nil {
		return fmt.Errorf("indexing articles: %w", err)
	}
	keep := make(map[string]bool, len(arts))
	for _, a := range arts {
		keep[a.ID] = true
	}
	for _, a := range x.Articles() {
		if !keep[a.ID] {
			if err := x.Delete(ctx, a.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("removing article %q from the index: %w", a.ID, err)
			}
		}
	}
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
