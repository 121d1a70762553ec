package kb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// An on-disk index is kept from one run to the next. What its documents are is recorded
// inside it, in bleve's internal key-value store, by the very batch that changes them:
// the format they were indexed in and a digest of the articles they are. At start the
// Follower lists the store's published articles; if their digest is the recorded one,
// the documents are reused and only the memory (articles, terms, classifier) is built,
// otherwise every document is written again. A crash between two batches leaves a state
// that describes the documents, so reuse never serves articles the store does not hold.

// indexVersion counts the changes of the analysis that indexFormat cannot see in the
// mapping, the synonyms and the colloquial spellings (a filter's code, a bleve upgrade
// that indexes differently): bump it with such a change, and every on-disk index is
// rebuilt once.
const indexVersion = 1

// stateKey is the internal key of the indexState.
var stateKey = []byte("kefu.state")

// indexState is what an on-disk index records about its documents.
type indexState struct {
	// Format is indexFormat of the code that indexed the documents.
	Format string `json:"format"`
	// Digest is articlesDigest of the articles the documents are.
	Digest string `json:"digest"`
	// Head is the position of the store's change feed the articles were read at, as
	// far as the Follower said.
	Head string `json:"head"`
}

// openTimeout bounds the wait for an index that another process holds open.
const openTimeout = "200ms"

// indexFormat returns the format of the documents the code indexes: a digest of
// indexVersion, the mapping (fields, analyzers, filters) and the data of the analysis.
func indexFormat(m *mapping.IndexMappingImpl) (string, error) {
	b, err := json.Marshal(struct {
		Version    int
		Mapping    *mapping.IndexMappingImpl
		Synonyms   [][]string
		Colloquial []string
	}{indexVersion, m, synonymGroups, colloquialPairs})
	if err != nil {
		return "", fmt.Errorf("encoding the index format: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// articleHash is the digest of one article as the index holds it.
func articleHash(a Article) [sha256.Size]byte {
	b, _ := json.Marshal(a) // an Article always encodes
	return sha256.Sum256(b)
}

// articlesDigest returns the digest of a set of articles, given by the hash of each
// (by id): the same set gives the same digest, whatever the order it was put in.
func articlesDigest(hashes map[string][sha256.Size]byte) string {
	ids := make([]string, 0, len(hashes))
	for id := range hashes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	for _, id := range ids {
		sum := hashes[id]
		h.Write([]byte(id))
		h.Write([]byte{0})
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// openDisk opens the index at path, or creates it, and returns the state it recorded
// (nil for a new index). An index of another format, or one that cannot be opened, is
// cleared and created anew; one that another process holds open is an error. A
// non-empty directory that holds no bleve index is refused, never cleared, so that a
// mistyped path can never delete someone's data.
func openDisk(path string, m *mapping.IndexMappingImpl, format string, log zerolog.Logger) (bleve.Index, *indexState, error) {
	config := map[string]any{"bolt_timeout": openTimeout}
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, nil, fmt.Errorf("reading index directory: %w", err)
	case len(entries) == 0:
		if err := os.Remove(path); err != nil {
			return nil, nil, fmt.Errorf("clearing index directory: %w", err)
		}
	default:
		if _, err := os.Stat(filepath.Join(path, "index_meta.json")); err != nil {
			return nil, nil, fmt.Errorf("index directory %s is not empty and holds no bleve index; refusing to clear it", path)
		}
		idx, st, err := openExisting(path, config)
		switch {
		case errors.Is(err, bolt.ErrTimeout):
			return nil, nil, fmt.Errorf("opening index %s: in use by another process: %w", path, err)
		case err != nil:
			log.Warn().Err(err).Str("path", path).Msg("the index on disk cannot be read; building it again")
		case st.Format != format:
			idx.Close()
			log.Debug().Str("path", path).Msg("the index on disk is of another format; building it again")
		default:
			return idx, &st, nil
		}
		if err := os.RemoveAll(path); err != nil {
			return nil, nil, fmt.Errorf("clearing index directory: %w", err)
		}
	}
	idx, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, config)
	if err != nil {
		return nil, nil, err
	}
	return idx, nil, nil
}

// openExisting opens the bleve index at path and reads its state; an index without one
// (written by an older Kefu, or never written to) has a state of no format.
func openExisting(path string, config map[string]any) (idx bleve.Index, st indexState, err error) {
	// A damaged index may make bleve panic rather than fail.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("opening index %s: %v", path, r)
		}
	}()
	idx, err = bleve.OpenUsing(path, config)
	if err != nil {
		return nil, st, err
	}
	raw, err := idx.GetInternal(stateKey)
	if err == nil && len(raw) > 0 {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil {
		idx.Close()
		return nil, st, fmt.Errorf("reading the state of index %s: %w", path, err)
	}
	return idx, st, nil
}

// diskDocIDs returns the ids of the articles whose documents the bleve index holds.
func (x *Index) diskDocIDs() ([]string, error) {
	n, err := x.idx.DocCount()
	if err != nil {
		return nil, fmt.Errorf("counting the index's documents: %w", err)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(n), 0, false)
	res, err := x.idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("listing the index's documents: %w", err)
	}
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		if id, ok := cutDocID(h.ID); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
