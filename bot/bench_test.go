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

// shopperQuestions are typical shopper messages: mostly invoices, shipping and returns,
// some other questions, a few in English, and chit-chat that no article answers.
var shopperQuestions = []string{
	// Invoices.
	"可以开发票吗",
	"能开专票吗？公司要报销",
	"发票抬头写公司可以吗",
	"收到货了还能补开发票吗",
	"开票要加税点吗",
	"电子发票在哪里下载",
	"买的羽绒服能开发票不",
	// Shipping.
	"付款后多久发货",
	"今天下单明天能到吗",
	"我的快递到哪了",
	"物流三天没动了",
	"能发顺丰吗？",
	"新疆包邮吗",
	"可以寄到香港吗",
	"预售的连衣裙什么时候发货",
	"怎么还没发货啊",
	"显示签收了但是我没收到",
	"运费多少钱",
	// Returns, refunds and after-sales.
	"我要退货",
	"退货运费谁出",
	"支持七天无理由吗",
	"退款多久到账",
	"怎么申请退款",
	"鞋子尺码小了能换大一码吗",
	"收到的耳机是坏的",
	"少发了一件",
	"发错颜色了",
	"手机壳裂了，包装也破了",
	"保温杯不保温，质量太差了",
	// Other questions.
	"优惠券怎么用",
	"优惠券能叠加吗",
	"刚买就降价了，能补差价吗",
	"积分有什么用",
	"怎么改收货地址",
	"付款失败了怎么办",
	"支持花呗吗",
	"是正品吗",
	"这个羊毛衫怎么洗",
	"没货了还补吗",
	"能帮忙包装成礼物吗",
	"客服几点上班",
	"转人工",
	// English.
	"Do you issue invoices?",
	"When will my order ship?",
	"How do I return an item?",
	"Where is my package",
	// Chit-chat and questions no article answers.
	"在吗",
	"你好",
	"今天天气怎么样",
	"你是机器人吗",
	"哈哈哈",
	"推荐一款适合送女朋友的礼物",
}

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
