package kb

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// The memory of an index, the term sets of its articles and the classifier's models,
// costs most of a build: with 50,000 articles, minutes of training on two cores. An
// on-disk index keeps it in a file beside its documents (memoryFile), written once a
// Follower has loaded the articles and again at Close when edits changed it since; the
// next start reads it back instead of training. The file names the hash of each article
// it holds, so a start keeps the memory of the articles that are still the same and
// builds only the rest, as an edit does: after edits made while the node was down, or
// a crash before the file was written again, the node is ready as soon as those few
// articles are trained. A file of another format, or one that cannot be read, is
// ignored and the memory built anew.

// memoryFile is the name of the file of the memory inside the index's directory.
const memoryFile = "kefu-memory"

// memoryVersion counts the changes of what the memory holds or of how the classifier
// trains that memoryFormat cannot see: bump it with such a change.
const memoryVersion = 1

// memoryFormat names the format of the memory file for an index of format: its
// version, the index's format, the background messages and the classifier's settings.
func memoryFormat(indexFormat string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n%s\n%s\n%d %d %g %g %d %d", memoryVersion, indexFormat, backgroundText,
		clsNeighbours, clsEpochs, clsRate, clsL2, clsMaxWeights, clsMaxPosting)
	return hex.EncodeToString(h.Sum(nil))
}

// memory is what the memory file holds.
type memory struct {
	hashes map[string][sha256.Size]byte
	dict   []string
	terms  map[string]articleTerms
	// The classifier's state: its vocabulary by term id, document frequencies, the
	// background's documents and the articles (their data and models).
	vocab      []string
	df         []int32
	ndocs      int
	background [][]termCount
	arts       []*clsArticle
}

// saveMemory writes the memory of the index to its directory, through a temporary file
// renamed over the last one. The caller holds writeMu, so that no write changes the
// memory meanwhile.
func (x *Index) saveMemory() error {
	if !x.persist {
		return nil
	}
	path := filepath.Join(x.path, memoryFile)
	tmp, err := os.CreateTemp(x.path, memoryFile+".*")
	if err != nil {
		return fmt.Errorf("saving the index's memory: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	w := bufio.NewWriterSize(tmp, 1<<20)
	x.encodeMemory(&encoder{w: w})
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the index's memory: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the index's memory: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving the index's memory: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving the index's memory: %w", err)
	}
	x.memoryDirty = false
	return nil
}

func (x *Index) encodeMemory(e *encoder) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	c := x.cls
	c.mu.RLock()
	defer c.mu.RUnlock()
	e.str(memoryFormat(x.format))
	ids := make([]string, 0, len(x.hashes))
	for id := range x.hashes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.uint(uint64(len(ids)))
	for _, id := range ids {
		sum := x.hashes[id]
		e.str(id)
		e.bytes(sum[:])
	}
	e.strs(x.dict.terms)
	for _, id := range ids {
		t := x.terms[id]
		e.set(t.all)
		e.uint(uint64(len(t.questions)))
		for _, q := range t.questions {
			e.set(q)
		}
		e.set(t.tags)
		e.set(t.answer)
	}
	vocab := make([]string, len(c.df))
	for term, t := range c.vocab {
		vocab[t] = term
	}
	e.strs(vocab)
	e.uint(uint64(len(c.df)))
	for _, n := range c.df {
		e.uint(uint64(n))
	}
	e.uint(uint64(c.ndocs))
	e.docs(c.background)
	for _, id := range ids {
		a := c.arts[id]
		e.docs(a.docs)
		e.weights(a.centroid)
		e.strs(a.neigh)
		e.weights(a.model)
		e.uint(uint64(math.Float32bits(a.bias)))
	}
}

// readMemory reads the memory file of the index, if there is one of its format; a
// missing file gives nil and no error.
func (x *Index) readMemory() (*memory, error) {
	raw, err := os.ReadFile(filepath.Join(x.path, memoryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the index's memory: %w", err)
	}
	d := &decoder{b: raw}
	if d.str() != memoryFormat(x.format) {
		if d.err != nil {
			return nil, fmt.Errorf("reading the index's memory: %w", d.err)
		}
		return nil, nil // of another format: built anew
	}
	m := &memory{hashes: make(map[string][sha256.Size]byte), terms: make(map[string]articleTerms)}
	n := d.count()
	ids := make([]string, 0, n)
	for range n {
		id := d.str()
		var sum [sha256.Size]byte
		copy(sum[:], d.bytes())
		ids = append(ids, id)
		m.hashes[id] = sum
	}
	m.dict = d.strs()
	for _, id := range ids {
		t := articleTerms{all: d.set()}
		for range d.count() {
			t.questions = append(t.questions, d.set())
		}
		t.tags, t.answer = d.set(), d.set()
		m.terms[id] = t
	}
	m.vocab = d.strs()
	m.df = make([]int32, d.count())
	for i := range m.df {
		m.df[i] = int32(d.uint())
	}
	m.ndocs = int(d.uint())
	m.background = d.docs()
	for _, id := range ids {
		a := &clsArticle{id: id, docs: d.docs(), centroid: d.weights(), neigh: d.strs(), model: d.weights()}
		a.bias = math.Float32frombits(uint32(d.uint()))
		m.arts = append(m.arts, a)
	}
	if d.err != nil {
		return nil, fmt.Errorf("reading the index's memory: %w", d.err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("reading the index's memory: %w", err)
	}
	return m, nil
}

// check reports a memory whose term ids lie outside its vocabularies, which a damaged
// file could hold and a search would index with.
func (m *memory) check() error {
	if len(m.vocab) != len(m.df) {
		return errors.New("vocabulary and document frequencies differ in length")
	}
	inDict := func(s termSet) bool { return len(s) == 0 || s[0] >= 0 && int(s[len(s)-1]) < len(m.dict) }
	for id, t := range m.terms {
		ok := inDict(t.all) && inDict(t.tags) && inDict(t.answer) && len(t.questions) > 0
		for _, q := range t.questions {
			ok = ok && inDict(q)
		}
		if !ok {
			return fmt.Errorf("the terms of %q are out of range", id)
		}
	}
	inVocab := func(t int32) bool { return t >= 0 && int(t) < len(m.vocab) }
	for _, d := range m.background {
		for _, tc := range d {
			if !inVocab(tc.t) {
				return errors.New("a background term is out of range")
			}
		}
	}
	for _, a := range m.arts {
		ok := true
		for _, d := range a.docs {
			for _, tc := range d {
				ok = ok && inVocab(tc.t)
			}
		}
		for _, tw := range slices.Concat(a.centroid, a.model) {
			ok = ok && inVocab(tw.t)
		}
		if !ok {
			return fmt.Errorf("the model of %q is out of range", a.id)
		}
	}
	return nil
}

// restore installs m as the memory of an index that holds none yet, for the articles
// of arts whose hash m names, and returns the ids of the others it held (changed or
// gone since). The caller holds writeMu.
func (x *Index) restore(m *memory, arts []Article, hashes map[string][sha256.Size]byte) (stale []string) {
	x.mu.Lock()
	x.dict = termDict{ids: make(map[string]int32, len(m.dict)), terms: m.dict}
	for i, term := range m.dict {
		x.dict.ids[term] = int32(i)
	}
	for _, a := range arts {
		if sum, ok := m.hashes[a.ID]; ok && sum == hashes[a.ID] {
			x.articles[a.ID] = a
			x.terms[a.ID] = m.terms[a.ID]
			x.hashes[a.ID] = sum
		}
	}
	for id := range m.hashes {
		if _, ok := x.hashes[id]; !ok {
			stale = append(stale, id)
		}
	}
	x.mu.Unlock()
	slices.Sort(stale)

	c := x.cls
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vocab = make(map[string]int32, len(m.vocab))
	for i, term := range m.vocab {
		c.vocab[term] = int32(i)
	}
	c.df, c.ndocs, c.background = m.df, m.ndocs, m.background
	c.arts = make(map[string]*clsArticle, len(m.arts))
	c.post = make(map[int32][]posting)
	c.slots = make([]*clsArticle, 0, len(m.arts))
	for _, a := range m.arts {
		a.slot = int32(len(c.slots))
		c.slots = append(c.slots, a)
		c.arts[a.id] = a
		for _, tw := range a.centroid {
			c.post[tw.t] = append(c.post[tw.t], posting{a.slot, tw.w})
		}
	}
	return stale
}

// encoder writes the memory file: unsigned varints, strings and byte strings prefixed
// by their length, sorted sets of ids as varint deltas, weights as float32 bits.
type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (e *encoder) uint(v uint64) { e.w.Write(e.buf[:binary.PutUvarint(e.buf[:], v)]) }
func (e *encoder) bytes(b []byte) {
	e.uint(uint64(len(b)))
	e.w.Write(b)
}
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.w.WriteString(s)
}
func (e *encoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}
func (e *encoder) set(s termSet) {
	e.uint(uint64(len(s)))
	prev := int32(0)
	for _, t := range s {
		e.uint(uint64(t - prev))
		prev = t
	}
}
func (e *encoder) docs(ds [][]termCount) {
	e.uint(uint64(len(ds)))
	for _, d := range ds {
		e.uint(uint64(len(d)))
		prev := int32(0)
		for _, tc := range d {
			e.uint(uint64(tc.t - prev))
			prev = tc.t
			e.uint(uint64(math.Float32bits(tc.n)))
		}
	}
}
func (e *encoder) weights(ws []termWeight) {
	e.uint(uint64(len(ws)))
	prev := int32(0)
	for _, tw := range ws {
		e.uint(uint64(tw.t - prev))
		prev = tw.t
		binary.LittleEndian.PutUint32(e.buf[:4], math.Float32bits(tw.w))
		e.w.Write(e.buf[:4])
	}
}

// decoder reads what encoder writes, from the file read whole; the first error stops
// it, and err tells it.
type decoder struct {
	b   []byte
	err error
}

// maxCount bounds a length read from the file, so that a damaged one cannot make the
// reader allocate without end.
const maxCount = 1 << 28

var errShort = errors.New("unexpected end of the file")

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		if n < 0 {
			d.err = errors.New("a number out of range")
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) count() int {
	n := d.uint()
	if n > maxCount && d.err == nil {
		d.err = errors.New("length out of range: " + strconv.FormatUint(n, 10))
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// take returns the next n bytes of the file.
func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.err = errShort
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) bytes() []byte { return d.take(d.count()) }

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) strs() []string {
	n := d.count()
	out := make([]string, 0, min(n, len(d.b)))
	for range n {
		out = append(out, d.str())
	}
	return out
}

func (d *decoder) set() termSet {
	n := d.count()
	out := make(termSet, 0, min(n, len(d.b)))
	prev := int32(0)
	for range n {
		prev += int32(d.uint())
		out = append(out, prev)
	}
	return out
}

func (d *decoder) docs() [][]termCount {
	n := d.count()
	out := make([][]termCount, 0, min(n, len(d.b)))
	for range n {
		m := d.count()
		doc := make([]termCount, 0, min(m, len(d.b)))
		prev := int32(0)
		for range m {
			prev += int32(d.uint())
			doc = append(doc, termCount{prev, math.Float32frombits(uint32(d.uint()))})
		}
		out = append(out, doc)
	}
	return out
}

func (d *decoder) weights() []termWeight {
	n := d.count()
	out := make([]termWeight, 0, min(n, len(d.b)))
	for prev := int32(0); len(out) < n && d.err == nil; {
		prev += int32(d.uint())
		if b := d.take(4); b != nil {
			out = append(out, termWeight{prev, math.Float32frombits(binary.LittleEndian.Uint32(b))})
		}
	}
	return out
}
