package kb

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// The classifier learns, for each article, what tells its questions from those of the
// articles most like it: one logistic model per article ("one against its neighbours"),
// over the tf-idf vectors of the question's features (features.go). Retrieval finds
// what shares words with a question; the classifier weighs which of those words matter
// for which article. Measured on the project's labelled set and the public ones, it
// lifts precision@1 by 5 to 9 points over the retrieval score alone (docs/bot.md).
//
// Each model depends only on its article's questions and those of its neighbours, so a
// change retrains the changed articles and the articles whose neighbours they are, not
// the whole knowledge base: an edit is answered at once even with 10,000 articles.
const (
	// clsNeighbours is how many of the most similar articles give an article's negative
	// examples.
	clsNeighbours = 24
	// clsEpochs, clsRate and clsL2 are the passes of stochastic gradient descent, its
	// step and the weight decay.
	clsEpochs = 12
	clsRate   = 0.5
	clsL2     = 1e-4
	// clsMaxWeights is how many weights, the largest in magnitude, a model keeps.
	clsMaxWeights = 768
	// clsMaxPosting is the longest list of articles sharing a term that the neighbour
	// search walks; longer lists belong to terms too common to tell articles apart.
	clsMaxPosting = 1024
)

// classifier holds the per-article models. It is safe for concurrent use; writers
// (put, remove) are serialised by the caller (Index.writeMu).
type classifier struct {
	mu    sync.RWMutex // guards every field below
	vocab map[string]int32
	df    []int32 // per term: the documents (titles and questions) holding it
	ndocs int
	arts  map[string]*clsArticle
	// post lists, per term, the articles whose centroid holds it (by slot), with its
	// weight there.
	post map[int32][]posting
	// slots holds each article under its slot number; a deleted article leaves nil.
	slots []*clsArticle
	// sim is the neighbour search's scratch space, one entry per slot, and touched
	// the slots it has set.
	sim     []float32
	touched []int32
	// background holds messages no article answers (background.txt), a negative of
	// every model; they are not counted in the document frequencies.
	background [][]termCount
}

type posting struct {
	slot int32
	w    float32
}

// clsArticle is one article's data and model.
type clsArticle struct {
	id       string
	slot     int32
	docs     [][]termCount // its title and each question
	centroid []termWeight  // sum of its documents' vectors, normalised, by term id
	neigh    []string      // the most similar articles, most similar first
	model    []termWeight  // weights by term id
	bias     float32
}

type termCount struct {
	t int32
	n float32
}

type termWeight struct {
	t int32
	w float32
}

// newClassifier returns a classifier whose models all learn the background messages,
// given as lists of features, as negatives.
func newClassifier(background [][]string) *classifier {
	c := &classifier{vocab: make(map[string]int32), arts: make(map[string]*clsArticle), post: make(map[int32][]posting)}
	for _, feats := range background {
		c.background = append(c.background, c.termsLocked(feats, false))
	}
	return c
}

// putChunk is how many articles put analyses before it numbers their features: the
// features of 50,000 articles as strings would take most of a gigabyte at once.
const putChunk = 2000

// put adds or replaces the articles of ids, which are distinct and sorted (so that the
// same articles give the same term ids and the same sums), and retrains what they
// affect. docs returns the documents of ids[i], each a list of features; it is called
// on all cores.
func (c *classifier) put(ids []string, docs func(i int) [][]string) {
	changed := make(map[string]bool, len(ids))
	for from := 0; from < len(ids); from += putChunk {
		to := min(from+putChunk, len(ids))
		feats := make([][][]string, to-from)
		parallel(len(feats), func(i int) { feats[i] = docs(from + i) })
		c.mu.Lock()
		for i, id := range ids[from:to] {
			c.dropLocked(id)
			a := &clsArticle{id: id, slot: int32(len(c.slots))}
			c.slots = append(c.slots, a)
			for _, d := range feats[i] {
				a.docs = append(a.docs, c.termsLocked(d, true))
			}
			c.arts[id] = a
			changed[id] = true
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	for _, id := range ids {
		c.setCentroidLocked(id)
	}
	jobs := c.replanLocked(changed)
	c.mu.Unlock()
	c.train(jobs)
}

// remove drops articles and retrains those that had them as neighbours.
func (c *classifier) remove(ids ...string) {
	c.mu.Lock()
	gone := make(map[string]bool, len(ids))
	for _, id := range ids {
		if c.arts[id] != nil {
			c.dropLocked(id)
			gone[id] = true
		}
	}
	jobs := c.replanLocked(gone)
	c.mu.Unlock()
	c.train(jobs)
}

// termsLocked turns features into term counts, adding new terms to the vocabulary, and
// counts the document in the statistics if count is set.
func (c *classifier) termsLocked(feats []string, count bool) []termCount {
	m := make(map[int32]float32, len(feats))
	for _, f := range feats {
		t, ok := c.vocab[f]
		if !ok {
			t = int32(len(c.df))
			c.vocab[f] = t
			c.df = append(c.df, 0)
		}
		m[t]++
	}
	out := make([]termCount, 0, len(m))
	for t, n := range m {
		out = append(out, termCount{t, n})
		if count {
			c.df[t]++
		}
	}
	slices.SortFunc(out, func(a, b termCount) int { return cmp.Compare(a.t, b.t) })
	if count {
		c.ndocs++
	}
	return out
}

// dropLocked removes an article's documents from the statistics and its centroid from
// the postings.
func (c *classifier) dropLocked(id string) {
	a := c.arts[id]
	if a == nil {
		return
	}
	for _, d := range a.docs {
		for _, tc := range d {
			c.df[tc.t]--
		}
		c.ndocs--
	}
	c.unpostLocked(a)
	c.slots[a.slot] = nil
	delete(c.arts, id)
}

func (c *classifier) unpostLocked(a *clsArticle) {
	for _, tw := range a.centroid {
		p := c.post[tw.t]
		if i := slices.IndexFunc(p, func(x posting) bool { return x.slot == a.slot }); i >= 0 {
			p[i] = p[len(p)-1]
			p = p[:len(p)-1]
		}
		if len(p) == 0 {
			delete(c.post, tw.t)
		} else {
			c.post[tw.t] = p
		}
	}
}

func (c *classifier) idf(t int32) float64 {
	df := 0
	if t >= 0 && int(t) < len(c.df) {
		df = int(c.df[t])
	}
	return math.Log(1 + float64(c.ndocs)/float64(1+df))
}

// vectorLocked is a document's tf-idf vector (sublinear term frequency), of unit length.
func (c *classifier) vectorLocked(d []termCount) []termWeight {
	out := make([]termWeight, len(d))
	var norm float64
	for i, tc := range d {
		w := (1 + math.Log(float64(tc.n))) * c.idf(tc.t)
		out[i] = termWeight{tc.t, float32(w)}
		norm += w * w
	}
	scale(out, norm)
	return out
}

func scale(v []termWeight, norm float64) {
	if norm == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range v {
		v[i].w *= inv
	}
}

func (c *classifier) setCentroidLocked(id string) {
	a := c.arts[id]
	c.unpostLocked(a)
	sum := make(map[int32]float64)
	for _, d := range a.docs {
		for _, tw := range c.vectorLocked(d) {
			sum[tw.t] += float64(tw.w)
		}
	}
	a.centroid = a.centroid[:0]
	var norm float64
	for t, w := range sum {
		a.centroid = append(a.centroid, termWeight{t, float32(w)})
		norm += w * w
	}
	scale(a.centroid, norm)
	slices.SortFunc(a.centroid, func(x, y termWeight) int { return cmp.Compare(x.t, y.t) })
	for _, tw := range a.centroid {
		c.post[tw.t] = append(c.post[tw.t], posting{a.slot, tw.w})
	}
}

// neighboursLocked returns the clsNeighbours articles whose centroids are most like
// id's, most similar first (ties by id).
func (c *classifier) neighboursLocked(id string) []string {
	a := c.arts[id]
	if len(c.sim) < len(c.slots) {
		c.sim = make([]float32, len(c.slots)+len(c.slots)/4)
	}
	touched := c.touched[:0]
	defer func() { c.touched = touched[:0] }()
	for _, tw := range a.centroid {
		p := c.post[tw.t]
		if len(p) > clsMaxPosting {
			continue
		}
		for _, x := range p {
			if x.slot == a.slot {
				continue
			}
			if c.sim[x.slot] == 0 {
				touched = append(touched, x.slot)
			}
			c.sim[x.slot] += tw.w * x.w
		}
	}
	// Keep the best clsNeighbours, best first, by insertion: the list is short.
	type scored struct {
		id string
		s  float32
	}
	better := func(a, b scored) bool { return a.s > b.s || a.s == b.s && a.id < b.id }
	best := make([]scored, 0, clsNeighbours+1)
	for _, slot := range touched {
		x := scored{c.slots[slot].id, c.sim[slot]}
		c.sim[slot] = 0
		if len(best) == clsNeighbours && !better(x, best[len(best)-1]) {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return better(x, best[i]) })
		best = slices.Insert(best, i, x)
		if len(best) > clsNeighbours {
			best = best[:clsNeighbours]
		}
	}
	out := make([]string, len(best))
	for i, x := range best {
		out[i] = x.id
	}
	return out
}

// trainJob is one model to train: its positive examples, and its negative ones as
// lists of vectors (each neighbour's, then the background's), as vectors. The lists are
// shared by the jobs, so that a job costs a few slice headers, not a copy of each.
type trainJob struct {
	id  string
	pos [][]termWeight
	neg [][][]termWeight
}

// replanLocked recomputes the neighbours of the changed articles and of every article
// that had one of them as a neighbour or may have one now, and returns the jobs that
// retrain all of those.
func (c *classifier) replanLocked(changed map[string]bool) []trainJob {
	affected := make(map[string]bool)
	for id := range changed {
		if c.arts[id] != nil {
			affected[id] = true
		}
	}
	for id, a := range c.arts {
		for _, n := range a.neigh {
			if changed[n] {
				affected[id] = true
				break
			}
		}
	}
	for id := range changed {
		if c.arts[id] == nil || len(affected) == len(c.arts) {
			continue
		}
		// An article may now have a changed one among its nearest: symmetry of the
		// similarity makes the changed article's own neighbours the likely ones.
		for _, n := range c.neighboursLocked(id) {
			affected[n] = true
		}
	}
	ids := make([]string, 0, len(affected))
	for id := range affected {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Each article's vectors are made once and shared by the jobs that use them.
	vecs := make(map[string][][]termWeight)
	vectors := func(id string) [][]termWeight {
		v, ok := vecs[id]
		if !ok {
			for _, d := range c.arts[id].docs {
				v = append(v, c.vectorLocked(d))
			}
			vecs[id] = v
		}
		return v
	}
	var background [][]termWeight
	for _, d := range c.background {
		background = append(background, c.vectorLocked(d))
	}
	jobs := make([]trainJob, 0, len(ids))
	for _, id := range ids {
		a := c.arts[id]
		a.neigh = c.neighboursLocked(id)
		j := trainJob{id: id, pos: vectors(id), neg: make([][][]termWeight, 0, len(a.neigh)+1)}
		for _, n := range a.neigh {
			j.neg = append(j.neg, vectors(n))
		}
		j.neg = append(j.neg, background)
		jobs = append(jobs, j)
	}
	return jobs
}

// train fits the jobs' models on all cores and installs them.
func (c *classifier) train(jobs []trainJob) {
	if len(jobs) == 0 {
		return
	}
	type result struct {
		model []termWeight
		bias  float32
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc fitScratch
			for i := range next {
				results[i].model, results[i].bias = fit(jobs[i], &sc)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, j := range jobs {
		if a := c.arts[j.id]; a != nil {
			a.model, a.bias = results[i].model, results[i].bias
		}
	}
}

// fit trains one logistic model by stochastic gradient descent, the positives weighed
// so that they count as much as all the negatives together. The order of the examples
// is shuffled from the article's id, so the same knowledge gives the same model. The
// model keeps its weights in float32, in a slice of its exact size: 50,000 of them are
// held for as long as the node runs.
func fit(j trainJob, sc *fitScratch) ([]termWeight, float32) {
	// Terms are numbered locally, so that the weights are a dense slice; the examples'
	// terms and values are kept in two flat slices, each example a range of them. The
	// space is the worker's, used again by its next job: a build trains 50,000 models.
	sc.reset()
	local := sc.local
	terms := sc.terms[:0]
	n, negs := 0, 0
	for _, v := range j.pos {
		n += len(v)
	}
	for _, vs := range j.neg {
		for _, v := range vs {
			n += len(v)
		}
		negs += len(vs)
	}
	posWeight := 1.0
	if negs > 0 {
		posWeight = float64(negs) / float64(len(j.pos))
	}
	idx, val := slices.Grow(sc.idx[:0], n), slices.Grow(sc.val[:0], n)
	exs := slices.Grow(sc.exs[:0], len(j.pos)+negs)
	add := func(v []termWeight, y, wgt float64) {
		e := example{from: int32(len(idx)), y: y, wgt: wgt}
		for _, tw := range v {
			k, ok := local[tw.t]
			if !ok {
				k = int32(len(terms))
				local[tw.t] = k
				terms = append(terms, tw.t)
			}
			idx, val = append(idx, k), append(val, float64(tw.w))
		}
		e.to = int32(len(idx))
		exs = append(exs, e)
	}
	for _, v := range j.pos {
		add(v, 1, posWeight)
	}
	for _, vs := range j.neg {
		for _, v := range vs {
			add(v, 0, 1)
		}
	}
	h := fnv.New64a()
	h.Write([]byte(j.id))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0))
	defer func() { sc.terms, sc.idx, sc.val, sc.exs = terms, idx, val, exs }()
	w := slices.Grow(sc.w[:0], len(terms))[:len(terms)]
	clear(w)
	sc.w = w
	var b float64
	for range clsEpochs {
		rng.Shuffle(len(exs), func(a, b int) { exs[a], exs[b] = exs[b], exs[a] })
		for _, e := range exs {
			ei, ev := idx[e.from:e.to], val[e.from:e.to]
			s := b
			for i, k := range ei {
				s += w[k] * ev[i]
			}
			g := e.wgt * (sigmoid(s) - e.y)
			for i, k := range ei {
				w[k] -= clsRate * (g*ev[i] + clsL2*w[k])
			}
			b -= clsRate * 0.1 * g
		}
	}
	// Without evidence (a question of none of the model's terms) a model must not
	// claim the question: the bias alone never says "likely".
	b = math.Min(b, 0)
	model := make([]termWeight, len(terms))
	for i, t := range terms {
		model[i] = termWeight{t, float32(w[i])}
	}
	if len(model) > clsMaxWeights {
		// Keep the largest: those at least as large as the clsMaxWeights-th.
		mags := slices.Grow(sc.mags[:0], len(w))[:len(w)]
		sc.mags = mags
		for i, v := range w {
			mags[i] = math.Abs(v)
		}
		sort.Float64s(mags)
		cut := float32(mags[len(mags)-clsMaxWeights])
		model = slices.DeleteFunc(model, func(tw termWeight) bool { return float32(math.Abs(float64(tw.w))) < cut })
	}
	slices.SortFunc(model, func(x, y termWeight) int { return cmp.Compare(x.t, y.t) })
	return slices.Clone(model), float32(b)
}

// example is one training example of fit: the range of its terms and values in the
// flat slices, its label and its weight.
type example struct {
	from, to int32
	y, wgt   float64
}

// fitScratch is the space fit works in, kept by a worker from one job to the next.
type fitScratch struct {
	local map[int32]int32
	terms []int32
	idx   []int32
	val   []float64
	exs   []example
	w     []float64
	mags  []float64
}

func (sc *fitScratch) reset() {
	if sc.local == nil {
		sc.local = make(map[int32]int32)
	}
	clear(sc.local)
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// docFreqs returns how many titles and questions hold each term.
func (c *classifier) docFreqs(terms []string) []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]int, len(terms))
	for i, term := range terms {
		if t, ok := c.vocab[term]; ok {
			out[i] = int(c.df[t])
		}
	}
	return out
}

// qvec is a question's vector, ready to score.
type qvec struct {
	v []termWeight
}

// vector returns the question's tf-idf vector of unit length. Features the knowledge has
// never seen count in its length with the highest idf, so a question made mostly of
// unknown words scores low with every article.
func (c *classifier) vector(feats []string) qvec {
	c.mu.RLock()
	defer c.mu.RUnlock()
	counts := make(map[int32]float64, len(feats))
	unknown := make(map[string]float64)
	for _, f := range feats {
		if t, ok := c.vocab[f]; ok && c.df[t] > 0 {
			counts[t]++
		} else {
			unknown[f]++
		}
	}
	var q qvec
	var norm float64
	for t, n := range counts {
		w := (1 + math.Log(n)) * c.idf(t)
		q.v = append(q.v, termWeight{t, float32(w)})
		norm += w * w
	}
	for _, n := range unknown {
		w := (1 + math.Log(n)) * c.idf(-1)
		norm += w * w
	}
	scale(q.v, norm)
	return q
}

// logit returns the model's score of q for article id: the log-odds that q is one of its
// questions rather than one of its neighbours'. ok is false for an unknown article.
func (c *classifier) logit(q qvec, id string) (float64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a := c.arts[id]
	if a == nil {
		return 0, false
	}
	s := float64(a.bias)
	for _, tw := range q.v {
		if i, ok := slices.BinarySearchFunc(a.model, tw.t, func(x termWeight, t int32) int { return cmp.Compare(x.t, t) }); ok {
			s += float64(a.model[i].w) * float64(tw.w)
		}
	}
	return s, true
}
