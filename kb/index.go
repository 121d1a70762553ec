package kb

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

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
	// index found at Path is kept if it was written in the format of this code, and
	// serves nothing until a Follower loads the articles: it reuses its documents if
	// they are the store's published articles (indexdisk.go). An index of another
	// format, or one that cannot be read, is cleared; a non-empty directory that holds
	// no bleve index is refused, never cleared.
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

	// format is indexFormat of this code; persist is set for an on-disk index, which
	// records its state with every batch.
	format  string
	persist bool
	path    string

	// memoryDirty is set when a write changed the memory since it was last saved
	// (memory.go); guarded by writeMu.
	memoryDirty bool

	// writeMu serialises the writes, so that the classifier retrains one change at a
	// time, and guards head and onDisk.
	writeMu sync.Mutex
	// head is the feed position of the articles, as the Follower last said.
	head string
	// onDisk is the state of the documents found on disk at New, until they are loaded
	// into memory or dropped by the first write.
	onDisk *indexState

	closeOnce sync.Once
	closeErr  error // of the one Close

	// generation counts the writes, so that a cache of answers knows they may have
	// changed (Generation).
	generation atomic.Uint64

	mu       sync.RWMutex // guards articles, terms, hashes and dict
	articles map[string]Article
	terms    map[string]articleTerms
	hashes   map[string][sha256.Size]byte // articleHash of each article
	dict     termDict
}

// articleTerms are the analysed terms of an article, for coverage, overlap and the
// fields a question matches, as sets of term ids: a few bytes a term where a map of
// strings took a hundred, which at 50,000 articles is most of a gigabyte.
type articleTerms struct {
	all       termSet   // title and every question
	questions []termSet // title first, then each question
	tags      termSet
	answer    termSet
}

// termSet is a set of term ids (termDict), sorted.
type termSet []int32

func (s termSet) has(t int32) bool {
	_, ok := slices.BinarySearch(s, t)
	return ok
}

// termDict numbers the index terms of the articles. Ids are never reused: a term an
// edit drops keeps its id, which costs a few bytes.
type termDict struct {
	ids   map[string]int32
	terms []string
}

// id returns the id of term, adding it if add is set; -1 for a term unknown and not added.
func (d *termDict) id(term string, add bool) int32 {
	if t, ok := d.ids[term]; ok {
		return t
	}
	if !add {
		return -1
	}
	if d.ids == nil {
		d.ids = make(map[string]int32)
	}
	t := int32(len(d.terms))
	d.ids[term] = t
	d.terms = append(d.terms, term)
	return t
}

// set returns the set of the ids of terms, adding the new terms.
func (d *termDict) set(terms ...[]string) termSet {
	var out termSet
	for _, ts := range terms {
		for _, term := range ts {
			out = append(out, d.id(term, true))
		}
	}
	slices.Sort(out)
	return slices.Clip(slices.Compact(out))
}

// New returns an index holding no articles: in memory, or at cfg.Path.
func New(cfg Config) (*Index, error) {
	m, err := buildMapping()
	if err != nil {
		return nil, fmt.Errorf("building index mapping: %w", err)
	}
	an, uni := m.AnalyzerNamed(analyzerName), m.AnalyzerNamed(unigramAnalyzerName)
	if an == nil || uni == nil {
		return nil, errors.New("analyzer missing from mapping")
	}
	format, err := indexFormat(m)
	if err != nil {
		return nil, err
	}
	x := &Index{
		log:      cfg.Logger,
		analyzer: an,
		unigram:  uni,
		cls:      newClassifier(backgroundFeatures(uni)),
		format:   format,
		persist:  cfg.Path != "",
		path:     cfg.Path,
		articles: make(map[string]Article),
		terms:    make(map[string]articleTerms),
		hashes:   make(map[string][sha256.Size]byte),
	}
	if cfg.Path == "" {
		// scorch kept in memory: far faster to search than bleve's older in-memory
		// store (upsidedown on gtreap), which "NewMemOnly" still uses.
		x.idx, err = bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	} else {
		x.idx, x.onDisk, err = openDisk(cfg.Path, m, format, cfg.Logger)
	}
	if err != nil {
		return nil, fmt.Errorf("creating index: %w", err)
	}
	return x, nil
}

func buildMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		return nil, err
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		// No term vectors: nothing reads them (no highlighting, no phrase queries),
		// and they cost a fifth of the build time and of its peak memory.
		f.IncludeTermVectors = false
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

// cutDocID returns the article id of a document id.
func cutDocID(doc string) (string, bool) { return strings.CutPrefix(doc, "a/") }

// Put adds or replaces articles. Each is validated first; none is indexed if one is invalid.
func (x *Index) Put(ctx context.Context, arts ...Article) error {
	if err := checkBatch(ctx, arts); err != nil {
		return err
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	return x.write(arts, nil)
}

// checkBatch validates every article of a batch before any is indexed, and that ctx is
// still live.
func checkBatch(ctx context.Context, arts []Article) error {
	for _, a := range arts {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// write indexes put and removes del (ids of articles in memory), then brings the
// memory in step. The caller holds writeMu.
func (x *Index) write(put []Article, del []string) error {
	hashes := make(map[string][sha256.Size]byte, len(put))
	for _, a := range put {
		hashes[a.ID] = articleHash(a)
	}
	if err := x.writeDocs(put, del, hashes); err != nil {
		return err
	}
	x.remember(put, hashes)
	x.forget(del)
	x.generation.Add(1)
	return nil
}

// docsPerBatch is the most documents one bleve batch of an on-disk index indexes. A
// build of many articles goes in batches of this size: bleve holds the analysis of a
// whole batch at once, some 80 MB for 1,000 articles of the bundled kind, and several
// gigabytes for 50,000. Each batch is a segment, which bleve merges on disk in the
// background; an in-memory index (the evaluation's, the tests') is never merged, and a
// search reads every segment, so it is built in one batch.
const docsPerBatch = 1000

// writeDocs indexes put and removes del in bleve, the last batch of which also drops
// the documents found on disk and not loaded, and records the state of an on-disk
// index. The batches before the last record a state of no digest, which no start
// reuses: a crash amid them leaves an index that is built again. The caller holds
// writeMu.
func (x *Index) writeDocs(put []Article, del []string, hashes map[string][sha256.Size]byte) error {
	for x.persist && len(put) > docsPerBatch {
		b := x.idx.NewBatch()
		if err := indexDocs(b, put[:docsPerBatch]); err != nil {
			return err
		}
		state, err := json.Marshal(indexState{Format: x.format, Head: x.head})
		if err != nil {
			return err
		}
		b.SetInternal(stateKey, state)
		if err := x.idx.Batch(b); err != nil {
			return fmt.Errorf("indexing %d articles: %w", docsPerBatch, err)
		}
		put = put[docsPerBatch:]
	}
	b := x.idx.NewBatch()
	if err := indexDocs(b, put); err != nil {
		return err
	}
	for _, id := range del {
		b.Delete(articleDocID(id))
	}
	if x.onDisk != nil {
		ids, err := x.diskDocIDs()
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, ok := hashes[id]; !ok {
				b.Delete(articleDocID(id))
			}
		}
	}
	if x.persist {
		if err := x.recordState(b, hashes, del); err != nil {
			return err
		}
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("indexing %d articles and removing %d: %w", len(put), len(del), err)
	}
	x.onDisk = nil
	x.memoryDirty = true
	return nil
}

func indexDocs(b *bleve.Batch, arts []Article) error {
	for _, a := range arts {
		if err := b.Index(articleDocID(a.ID), articleDoc{Title: a.Title, Questions: a.Questions, Answer: a.Answer, Tags: a.Tags, Article: a.ID}); err != nil {
			return fmt.Errorf("indexing article %q: %w", a.ID, err)
		}
	}
	return nil
}

// recordState adds to b the state of the index once b is applied: the articles in
// memory, with put (by hash) in and del out.
func (x *Index) recordState(b *bleve.Batch, put map[string][sha256.Size]byte, del []string) error {
	x.mu.RLock()
	after := maps.Clone(x.hashes)
	x.mu.RUnlock()
	maps.Copy(after, put)
	for _, id := range del {
		delete(after, id)
	}
	state, err := json.Marshal(indexState{Format: x.format, Digest: articlesDigest(after), Head: x.head})
	if err != nil {
		return err
	}
	b.SetInternal(stateKey, state)
	return nil
}

// remember brings the memory in step with arts, whose documents the bleve index holds.
// The caller holds writeMu.
func (x *Index) remember(arts []Article, hashes map[string][sha256.Size]byte) {
	if len(arts) == 0 {
		return
	}
	// In id order, the last of an id put twice standing, as in bleve's batch.
	last := make(map[string]int, len(arts))
	for i, a := range arts {
		last[a.ID] = i
	}
	sorted := make([]Article, 0, len(last))
	for i, a := range arts {
		if last[a.ID] == i {
			sorted = append(sorted, a)
		}
	}
	slices.SortFunc(sorted, func(a, b Article) int { return strings.Compare(a.ID, b.ID) })
	arts = sorted
	// The models are trained before the articles are listed below, so a search never
	// meets an article without its model.
	ids := make([]string, len(arts))
	for i, a := range arts {
		ids[i] = a.ID
	}
	x.cls.put(ids, func(i int) [][]string {
		docs := make([][]string, 0, 1+len(arts[i].Questions))
		for _, q := range append([]string{arts[i].Title}, arts[i].Questions...) {
			docs = append(docs, x.features(q))
		}
		return docs
	})
	// The terms are analysed a chunk at a time, for the same reason as the features.
	terms := make([]articleTerms, 0, len(arts))
	for from := 0; from < len(arts); from += putChunk {
		tokens := x.analyse(arts[from:min(from+putChunk, len(arts))])
		x.mu.Lock()
		for _, tok := range tokens {
			terms = append(terms, x.articleTermsLocked(tok))
		}
		x.mu.Unlock()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, a := range arts {
		x.articles[a.ID] = a
		x.terms[a.ID] = terms[i]
		x.hashes[a.ID] = hashes[a.ID]
	}
}

// forget removes articles from the memory. The caller holds writeMu.
func (x *Index) forget(ids []string) {
	x.mu.Lock()
	for _, id := range ids {
		delete(x.articles, id)
		delete(x.terms, id)
		delete(x.hashes, id)
	}
	x.mu.Unlock()
	for _, id := range ids {
		x.cls.remove(id)
	}
}

// parallel calls f(i) for each i in 0 … n-1 on all cores.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), n)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}

// articleTokens are the index terms of an article's parts, before they are numbered.
type articleTokens struct {
	questions    [][]string // title first, then each question
	tags, answer []string
}

// analyse returns the tokens of each article, analysed on all cores.
func (x *Index) analyse(arts []Article) []articleTokens {
	out := make([]articleTokens, len(arts))
	parallel(len(arts), func(i int) {
		a := arts[i]
		t := articleTokens{answer: x.Tokens(a.Answer)}
		for _, tag := range a.Tags {
			t.tags = append(t.tags, x.Tokens(tag)...)
		}
		for _, text := range append([]string{a.Title}, a.Questions...) {
			t.questions = append(t.questions, x.Tokens(text))
		}
		out[i] = t
	})
	return out
}

// articleTermsLocked numbers an article's tokens. The caller holds mu.
func (x *Index) articleTermsLocked(tok articleTokens) articleTerms {
	t := articleTerms{
		all:    x.dict.set(tok.questions...),
		tags:   x.dict.set(tok.tags),
		answer: x.dict.set(tok.answer),
	}
	for _, q := range tok.questions {
		t.questions = append(t.questions, x.dict.set(q))
	}
	return t
}

// Delete removes an article; it returns ErrNotFound for an unknown id.
func (x *Index) Delete(ctx context.Context, id string) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if _, err := x.Article(id); err != nil {
		return err
	}
	if err := x.write(nil, []string{id}); err != nil {
		return fmt.Errorf("deleting article %q: %w", id, err)
	}
	return nil
}

// bigBuild is how many articles a load trains before it takes care of its memory, and
// buildGCPercent the garbage collector's GOGC meanwhile.
const (
	bigBuild       = 1000
	buildGCPercent = 50
)

// load makes the index hold exactly arts, the published articles of the store at feed
// position head, and reports whether it reused the documents found on disk (it does
// when they are those of arts) and how many articles it trained. The memory is read from the memory file if the index
// has one (memory.go), and only the articles it does not hold as they are now are
// trained; otherwise it is built. A load that built much returns the garbage of the
// build to the operating system, so that the node's resident memory falls back to what
// it holds.
func (x *Index) load(ctx context.Context, arts []Article, head string) (reused bool, learned int, err error) {
	if err := checkBatch(ctx, arts); err != nil {
		return false, 0, err
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.head = head
	hashes := make(map[string][sha256.Size]byte, len(arts))
	for _, a := range arts {
		hashes[a.ID] = articleHash(a)
	}
	digest := articlesDigest(hashes)
	if x.onDisk == nil && digest == x.digest() {
		return true, 0, nil // what a rebuild after a feed gap finds when nothing changed
	}

	// The memory of the articles it holds as they are now is kept: read from the
	// memory file at start, or what a rebuild after a feed gap finds.
	var drop []string
	if x.persist && x.Len() == 0 {
		m, err := x.readMemory()
		if err != nil {
			x.log.Warn().Err(err).Str("path", x.path).Msg("the index's memory on disk cannot be read; building it again")
		}
		if m != nil {
			drop = x.restore(m, arts, hashes)
		}
	}
	for _, a := range x.Articles() {
		if _, ok := hashes[a.ID]; !ok {
			drop = append(drop, a.ID)
		}
	}
	var learn []Article
	x.mu.RLock()
	for _, a := range arts {
		if sum, ok := x.hashes[a.ID]; !ok || sum != hashes[a.ID] {
			learn = append(learn, a)
		}
	}
	x.mu.RUnlock()
	x.log.Debug().Int("kept", len(arts)-len(learn)).Int("to_learn", len(learn)).Int("dropped", len(drop)).Msg("loading the index's memory")

	if x.onDisk != nil && x.onDisk.Digest == digest {
		x.onDisk = nil
		reused = true
		// The documents stay; the state records the new head.
		b := x.idx.NewBatch()
		if err := x.recordState(b, hashes, drop); err != nil {
			return true, 0, err
		}
		if err := x.idx.Batch(b); err != nil {
			return true, 0, fmt.Errorf("recording the index's state: %w", err)
		}
	} else {
		var del []string
		for _, id := range drop {
			if _, ok := hashes[id]; !ok {
				del = append(del, id)
			}
		}
		if err := x.writeDocs(arts, del, hashes); err != nil {
			return false, 0, fmt.Errorf("indexing articles: %w", err)
		}
	}
	x.forget(drop)
	learnHashes := make(map[string][sha256.Size]byte, len(learn))
	for _, a := range learn {
		learnHashes[a.ID] = hashes[a.ID]
	}
	if len(learn) > bigBuild {
		// The garbage collector runs twice as often while a big memory is built: with
		// its default (the heap grows to twice what is live), 50,000 articles
		// peaked at more than 3 GB, for 1.5 GB kept. An operator's GOGC below 50, or
		// off (then GOMEMLIMIT rules), stands.
		prev := debug.SetGCPercent(buildGCPercent)
		if prev < buildGCPercent {
			debug.SetGCPercent(prev)
		}
		defer debug.SetGCPercent(prev)
	}
	x.remember(learn, learnHashes)
	if len(learn) > 0 || len(drop) > 0 {
		x.generation.Add(1)
	}
	if len(learn) > 0 || len(drop) > 0 || x.memoryDirty {
		if err := x.saveMemory(); err != nil {
			x.log.Warn().Err(err).Msg("the index's memory could not be saved; the next start builds it again")
		}
	}
	if len(learn) > bigBuild {
		debug.FreeOSMemory()
	}
	return reused, len(learn), nil
}

// Generation changes whenever the index's articles change: a cache of the bot's
// answers keyed by it gives no answer of articles edited since.
func (x *Index) Generation() uint64 { return x.generation.Load() }

// digest returns articlesDigest of the articles in memory.
func (x *Index) digest() string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return articlesDigest(x.hashes)
}

// apply indexes put and removes del, the changes of the store up to feed position
// head, in one batch. Ids of del the index does not hold are left alone.
func (x *Index) apply(ctx context.Context, put []Article, del []string, head string) error {
	if err := checkBatch(ctx, put); err != nil {
		return err
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.head = head
	held := make([]string, 0, len(del))
	for _, id := range del {
		if _, err := x.Article(id); err == nil {
			held = append(held, id)
		}
	}
	return x.write(put, held)
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

// Close releases the index; later calls do nothing.
func (x *Index) Close() error {
	x.closeOnce.Do(func() {
		x.writeMu.Lock()
		defer x.writeMu.Unlock()
		if x.memoryDirty && x.Len() > 0 {
			if err := x.saveMemory(); err != nil {
				x.log.Warn().Err(err).Msg("the index's memory could not be saved; the next start trains what changed")
			}
		}
		x.closeErr = x.idx.Close()
	})
	return x.closeErr
}
