package kb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
	"github.com/redis/go-redis/v9"
)

// benchArticles is the size of the knowledge base of the latency target.
const benchArticles = 10_000

// generateArticles returns n articles generated from the bundled ones.
func generateArticles(tb testing.TB, n int) []kb.Article {
	tb.Helper()
	arts, err := kbtest.Articles(n)
	if err != nil {
		tb.Fatalf("kbtest.Articles: %v", err)
	}
	return arts
}

// Building an index of benchArticles takes long, so one is kept for the process: the
// testing package calls each benchmark more than once, and BenchmarkSearch10k needs one
// too.
var (
	index10kMu sync.Mutex // guards index10k
	index10k   *kb.Index
)

// shared10k returns the process's index of benchArticles generated articles, building
// it if no benchmark has yet.
func shared10k(b *testing.B) *kb.Index {
	b.Helper()
	index10kMu.Lock()
	defer index10kMu.Unlock()
	if index10k != nil {
		return index10k
	}
	arts := generateArticles(b, benchArticles)
	start := time.Now()
	x, err := kbtest.NewIndex(arts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built an index of %d articles in %v", len(arts), time.Since(start).Round(time.Millisecond))
	index10k = x
	return x
}

// swap10k makes x (nil for none) the process's index of benchArticles articles and
// closes the one it replaces.
func swap10k(b *testing.B, x *kb.Index) {
	b.Helper()
	index10kMu.Lock()
	old := index10k
	index10k = x
	index10kMu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			b.Errorf("Close: %v", err)
		}
	}
}

// BenchmarkIndexBuild10k times putting 10,000 articles into a fresh in-memory index in one
// call, as the server does at start. The index built last is kept for
// BenchmarkSearch10k; the one kept before is closed ahead of each build, so that no
// other large index is in the heap while one is timed.
func BenchmarkIndexBuild10k(b *testing.B) {
	arts := generateArticles(b, benchArticles)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		swap10k(b, nil)
		x, err := kb.New(kb.Config{})
		if err != nil {
			b.Fatalf("kb.New: %v", err)
		}
		b.StartTimer()
		if err := x.Put(ctx, arts...); err != nil {
			x.Close()
			b.Fatalf("Put: %v", err)
		}
		b.StopTimer()
		swap10k(b, x)
		b.StartTimer()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/build")
	b.ReportMetric(float64(len(arts))/secs, "articles/s")
}

// benchQueries are shoppers' questions for BenchmarkSearch10k: some close to an article,
// some loose, one off topic, two in English.
var benchQueries = []string{
	"可以开发票吗",
	"羽绒服能开专票吗？",
	"付款后几天发货",
	"我的快递到哪了，三天了还没动",
	"退货运费谁出",
	"买的运动鞋尺码小了能换吗",
	"优惠券为什么用不了",
	"能发顺丰吗",
	"退款多久到账",
	"今天天气怎么样",
	"Do you issue invoices?",
	"where is my parcel",
}

// BenchmarkSearch10k times kb.Search (k=5) in an index of 10,000 articles.
func BenchmarkSearch10k(b *testing.B) {
	x := shared10k(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := x.Search(ctx, benchQueries[i%len(benchQueries)], 5); err != nil {
			b.Fatalf("Search: %v", err)
		}
	}
}

// BenchmarkStart times what a node does at start with its index on disk, for the
// bundled articles and for benchArticles generated ones: opening the index and the
// Follower's Sync, which builds the index anew ("build": the articles changed, or the
// first start) or reuses the documents on disk and builds only the memory ("reused").
// The store is an embedded one holding the articles, published.
func BenchmarkStart(b *testing.B) {
	bundled, err := kbtest.Bundled()
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range []struct {
		name string
		arts []kb.Article
	}{{"bundled", bundled}, {"10k", generateArticles(b, benchArticles)}} {
		store := kbtest.Store(b)
		es := make([]kb.Entry, len(set.arts))
		for i, a := range set.arts {
			es[i] = kb.Entry{Article: a, Status: kb.StatusPublished}
		}
		if _, err := store.Seed(context.Background(), "bench", es, "bench"); err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "index")
		for _, reuse := range []bool{false, true} {
			name := set.name + "/build"
			if reuse {
				name = set.name + "/reused"
			}
			b.Run(name, func(b *testing.B) {
				for range b.N {
					if !reuse {
						b.StopTimer()
						if err := os.RemoveAll(path); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					startIndex(b, path, store)
				}
			})
		}
	}
}

// startIndex opens the index at path, syncs it with store and closes it.
func startIndex(b *testing.B, path string, store kb.Store) {
	x, err := kb.New(kb.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	f, err := kb.NewFollower(kb.FollowerConfig{Store: store, Index: x})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSeedRedis50k seeds 50,000 generated articles into an empty Redis store, as
// the first node of a big shop does, and reports the longest Redis held every other
// client meanwhile: the slowest command of the seed by Redis's SLOWLOG (a script, or
// the EXEC of a MULTI), in milliseconds, beside the seed's own time.
func BenchmarkSeedRedis50k(b *testing.B) {
	arts := generateArticles(b, 50_000)
	es := make([]kb.Entry, len(arts))
	for i, a := range arts {
		es[i] = kb.Entry{Article: a, Status: kb.StatusPublished}
	}
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	for _, kv := range [][2]string{{"slowlog-log-slower-than", "0"}, {"slowlog-max-len", "1000000"}} {
		if err := rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			b.Fatal(err)
		}
	}
	var slowest time.Duration
	var seedTime time.Duration
	for i := range b.N {
		store, err := kb.NewRedisStore(kb.RedisConfig{Client: rdb, Prefix: fmt.Sprintf("seed%d:", i)})
		if err != nil {
			b.Fatal(err)
		}
		if err := rdb.SlowLogReset(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		created, err := store.Seed(ctx, "bench", es, "bench")
		seedTime += time.Since(start)
		if err != nil || len(created) != len(es) {
			b.Fatalf("Seed = %d created, %v", len(created), err)
		}
		log, err := rdb.SlowLogGet(ctx, -1).Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range log {
			slowest = max(slowest, l.Duration)
		}
	}
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "max-block-ms")
	b.ReportMetric(seedTime.Seconds()/float64(b.N), "s/seed")
}
