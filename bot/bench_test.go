package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/benchtest"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
)

// benchArticles is the size of the knowledge base of the latency target: p99 of
// Decide under 2 ms with 10,000 articles.
const benchArticles = 10_000

// shopperQuestions are the benchmark's questions (kbtest.ShopperQuestions).
var shopperQuestions = kbtest.ShopperQuestions

// The index of benchArticles articles, built once per process and kept: the testing
// package calls a benchmark more than once, and building it takes long.
var (
	bigIndexOnce sync.Once
	bigIndex     *kb.Index
	bigIndexErr  error
)

// newBenchBot returns a bot with the default thresholds that searches x.
func newBenchBot(b *testing.B, x *kb.Index) *bot.Bot {
	b.Helper()
	bt, err := bot.New(bot.Config{Searcher: x})
	if err != nil {
		b.Fatalf("bot.New: %v", err)
	}
	return bt
}

// buildIndex returns an in-memory index holding arts.
func buildIndex(b *testing.B, arts []kb.Article) *kb.Index {
	b.Helper()
	x, err := kbtest.NewIndex(arts...)
	if err != nil {
		b.Fatal(err)
	}
	return x
}

// BenchmarkDecideBundled measures the latency of Decide with the bundled articles only.
// It comes before BenchmarkDecide10k, whose index stays in the heap once built and would
// slow every later benchmark of the process through the garbage collector.
func BenchmarkDecideBundled(b *testing.B) {
	bundled, err := kbtest.Bundled()
	if err != nil {
		b.Fatalf("kbtest.Bundled: %v", err)
	}
	x := buildIndex(b, bundled)
	defer x.Close()
	benchDecide(b, newBenchBot(b, x))
}

// BenchmarkDecide10k measures the latency of Decide with 10,000 articles in the index;
// building the index is not timed.
func BenchmarkDecide10k(b *testing.B) {
	bigIndexOnce.Do(func() {
		arts, err := kbtest.Articles(benchArticles)
		if err != nil {
			bigIndexErr = err
			return
		}
		start := time.Now()
		bigIndex, bigIndexErr = kbtest.NewIndex(arts...)
		b.Logf("built an index of %d articles in %v", len(arts), time.Since(start).Round(time.Millisecond))
	})
	if bigIndexErr != nil {
		b.Fatalf("building the index: %v", bigIndexErr)
	}
	benchDecide(b, newBenchBot(b, bigIndex))
}

// benchDecide runs Decide b.N times over shopperQuestions and reports, besides the
// mean, the median and 99th percentile of the calls' latencies, since a shopper waits
// for one call, not for the mean.
func benchDecide(b *testing.B, bt *bot.Bot) {
	ctx := context.Background()
	// Warm up for a second, as a running server has answered questions before: a fresh
	// index also merges its segments in the background for a while after it is built.
	for start := time.Now(); time.Since(start) < time.Second; {
		for _, q := range shopperQuestions {
			if _, err := bt.Decide(ctx, bot.Input{Text: q}); err != nil {
				b.Fatalf("Decide(%q): %v", q, err)
			}
		}
	}
	samples := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		in := bot.Input{Text: shopperQuestions[i%len(shopperQuestions)]}
		start := time.Now()
		_, err := bt.Decide(ctx, in)
		samples[i] = time.Since(start)
		if err != nil {
			b.Fatalf("Decide(%q): %v", in.Text, err)
		}
	}
	b.StopTimer()
	benchtest.ReportLatency(b, samples)
}
