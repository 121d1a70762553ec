package kb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
	"github.com/rs/zerolog"
)

// diskNode is one start of a node whose index is kept at path: the index, built or
// reused by a Follower's Sync from store.
type diskNode struct {
	x      *kb.Index
	f      *kb.Follower
	reused bool
	// trained is how many articles the start trained the classifier on; the others'
	// memory was read from disk.
	trained int
}

// startDisk opens the index at path and syncs it with store, as a node does at start,
// and reports whether the index was reused. The index is closed when the test ends,
// or by the caller.
func startDisk(t *testing.T, path string, store kb.Store) diskNode {
	t.Helper()
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	x, err := kb.New(kb.Config{Path: path, Logger: log})
	if err != nil {
		t.Fatalf("kb.New: %v", err)
	}
	t.Cleanup(func() { x.Close() })
	f, err := kb.NewFollower(kb.FollowerConfig{Store: store, Index: x, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct {
			Message string `json:"message"`
			Reused  bool   `json:"reused"`
			Trained int    `json:"trained"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Message == "index built from the article store" {
			return diskNode{x: x, f: f, reused: l.Reused, trained: l.Trained}
		}
	}
	t.Fatalf("Sync logged no build:\n%s", logs.String())
	return diskNode{}
}

func (n diskNode) close(t *testing.T) {
	t.Helper()
	if err := n.x.Close(); err != nil {
		t.Fatal(err)
	}
}

// storeOf returns a store holding arts, published.
func storeOf(t *testing.T, arts ...kb.Article) *kb.BoltStore {
	t.Helper()
	s := kbtest.Store(t)
	for _, a := range arts {
		if _, err := s.Create(context.Background(), kb.Entry{Article: a, Status: kb.StatusPublished}, "t", kb.ActionCreate); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestIndexReused restarts a node on one index directory: the index is reused while the
// published articles are those it holds, and built again when they changed; the
// memory (term sets, models) is read back, and only the changed articles are trained.
func TestIndexReused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index")
	store := storeOf(t, testArticles()...)

	n := startDisk(t, path, store)
	if n.reused || n.trained != len(testArticles()) {
		t.Fatalf("a new index: reused %v, trained %d; want built, %d trained", n.reused, n.trained, len(testArticles()))
	}
	queries := []string{"可以开发票吗？", "物流到哪了", "怎么领券", "Do you issue invoices?"}
	var before [][]kb.Hit
	for _, q := range queries {
		before = append(before, search(t, n.x, q))
	}
	n.close(t)

	n = startDisk(t, path, store)
	if !n.reused || n.trained != 0 || n.x.Len() != len(testArticles()) {
		t.Fatalf("restart with nothing changed: reused %v, %d trained, %d articles; want reused, none trained, %d", n.reused, n.trained, n.x.Len(), len(testArticles()))
	}
	for i, q := range queries {
		if got := search(t, n.x, q); !reflect.DeepEqual(got, before[i]) {
			t.Errorf("Search(%q) after the restart = %+v, want what the built index found: %+v", q, got, before[i])
		}
	}
	if hits := search(t, n.x, "可以开发票吗？"); len(hits) == 0 || hits[0].Article.ID != "invoice" {
		t.Fatalf("Search of the reused index = %v, want invoice first", ids(hits))
	}
	n.close(t)

	// A draft moves the feed, not the published articles.
	if _, err := store.Create(ctx, kb.Entry{Article: kb.Article{ID: "draft", Title: "草稿", Category: kb.CategoryPolicy, Answer: "草稿"}, Status: kb.StatusDraft}, "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	n = startDisk(t, path, store)
	if !n.reused {
		t.Fatal("restart after a draft was saved: not reused")
	}
	n.close(t)

	// Published articles changed while the node was down.
	inv, _ := store.Get(ctx, "invoice")
	inv.Questions = append(inv.Questions, "电子票怎么拿")
	if _, err := store.Update(ctx, inv, inv.Version, "t", kb.ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, "tracking", 1, "t"); err != nil {
		t.Fatal(err)
	}
	n = startDisk(t, path, store)
	if n.reused || n.trained != 1 {
		t.Fatalf("restart after articles changed: reused %v, %d trained; want built again, 1 trained (the changed one)", n.reused, n.trained)
	}
	if hits := search(t, n.x, "电子票怎么拿"); len(hits) == 0 || hits[0].Article.ID != "invoice" {
		t.Errorf("Search for the new question = %v, want invoice first", ids(hits))
	}
	if _, err := n.x.Article("tracking"); err == nil || n.x.Len() != len(testArticles())-1 {
		t.Errorf("the deleted article is still indexed (%d articles)", n.x.Len())
	}

	// Changes followed while running are recorded with the documents.
	runFollower(t, n.f)
	if _, err := store.Create(ctx, entry("later", kb.StatusPublished), "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	timetest.Poll(t, 5*time.Second, "later indexed", indexed(n.x, "later"))
	n.x.Close() // as a node's shutdown does, with the follower still running
	n = startDisk(t, path, store)
	if !n.reused || !indexed(n.x, "later")() || n.trained != 0 {
		t.Errorf("restart after following a change: reused %v, later indexed %v, %d trained; want reused, indexed, none trained", n.reused, indexed(n.x, "later")(), n.trained)
	}
}

// TestIndexMemoryDamaged builds the memory again when its file cannot be read, and
// serves.
func TestIndexMemoryDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	store := storeOf(t, testArticles()...)
	startDisk(t, path, store).close(t)
	file := filepath.Join(path, "kefu-memory")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no memory file after a start: %v", err)
	}
	for name, damaged := range map[string][]byte{
		"cut short": raw[:len(raw)/2],
		"garbage":   append(raw[:80:80], bytes.Repeat([]byte{0xff}, 64)...),
	} {
		if err := os.WriteFile(file, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		n := startDisk(t, path, store)
		if !n.reused || n.trained != len(testArticles()) {
			t.Errorf("%s: reused %v, %d trained; want the documents reused and all %d trained", name, n.reused, n.trained, len(testArticles()))
		}
		if hits := search(t, n.x, "可以开发票吗？"); len(hits) == 0 || hits[0].Article.ID != "invoice" {
			t.Errorf("%s: Search = %v, want invoice first", name, ids(hits))
		}
		n.close(t)
	}
}

// TestIndexOfAnotherFormat rebuilds an index written in another format.
func TestIndexOfAnotherFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	store := storeOf(t, testArticles()...)
	startDisk(t, path, store).close(t)

	idx, err := bleve.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := idx.GetInternal([]byte("kefu.state"))
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil || st["format"] == "" || st["digest"] == "" {
		t.Fatalf("recorded state %s, %v; want a format and a digest", raw, err)
	}
	st["format"] = "an older one"
	raw, _ = json.Marshal(st)
	if err := idx.SetInternal([]byte("kefu.state"), raw); err != nil {
		t.Fatal(err)
	}
	idx.Close()

	checkRebuilt(t, "an index of another format", path, store)
}

// TestIndexDamaged rebuilds an index whose files cannot be read.
func TestIndexDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	store := storeOf(t, testArticles()...)
	startDisk(t, path, store).close(t)
	if err := os.WriteFile(filepath.Join(path, "store", "root.bolt"), bytes.Repeat([]byte("damaged "), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	checkRebuilt(t, "a damaged index", path, store)
}

// checkRebuilt starts a node on the index at path, which must be built again from
// store: it held what.
func checkRebuilt(t *testing.T, what, path string, store kb.Store) {
	t.Helper()
	n := startDisk(t, path, store)
	if n.reused {
		t.Errorf("%s was reused", what)
	}
	if hits := search(t, n.x, "可以开发票吗？"); len(hits) == 0 || hits[0].Article.ID != "invoice" {
		t.Errorf("Search of the index built again = %v, want invoice first", ids(hits))
	}
}

// TestIndexInUse refuses an index directory that another index holds open, and leaves
// it alone.
func TestIndexInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	n := startDisk(t, path, storeOf(t, testArticles()...))
	if x, err := kb.New(kb.Config{Path: path}); err == nil || !strings.Contains(err.Error(), "in use") {
		if err == nil {
			x.Close()
		}
		t.Fatalf("kb.New of an index in use: %v, want an error saying so", err)
	}
	if hits := search(t, n.x, "可以开发票吗？"); len(hits) == 0 || hits[0].Article.ID != "invoice" {
		t.Errorf("Search of the index in use = %v, want invoice first", ids(hits))
	}
}
