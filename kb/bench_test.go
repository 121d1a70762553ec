package kb_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
)

// benchArticles is the size of the knowledge base of the latency target.
const benchArticles = 10_000

// benchNouns are products a shopper names in a question; with benchShapes they vary the
// generated copies of an article so that no two documents are identical.
var benchNouns = []string{
	"羽绒服", "运动鞋", "连衣裙", "手机壳", "保温杯", "牛仔裤", "背包", "床单", "耳机", "台灯",
	"卫衣", "衬衫", "毛衣", "风衣", "围巾", "帽子", "袜子", "拖鞋", "行李箱", "钱包",
	"手表", "项链", "口红", "面霜", "洗发水", "牙刷", "毛巾", "枕头", "被子", "窗帘",
	"电饭煲", "吹风机", "充电宝", "数据线", "键盘", "鼠标", "水杯", "玩具", "奶粉", "茶叶",
}

// benchShapes are the ways a product word goes before the question.
var benchShapes = []string{"%s", "这件%s", "买的%s", "%s订单", "那个%s", "%s的订单"}

// benchPhrase is the k-th product phrase; the first len(benchNouns)*len(benchShapes)
// are all different.
func benchPhrase(k int) string {
	shape := benchShapes[(k/len(benchNouns))%len(benchShapes)]
	return fmt.Sprintf(shape, benchNouns[k%len(benchNouns)])
}

// generateArticles returns n articles: the bundled ones as they are, then copies of them
// (id "<id>-<i>") whose title and questions name a product, category and answer kept.
// The result is the same on every call.
func generateArticles(tb testing.TB, n int) []kb.Article {
	tb.Helper()
	bundled, err := knowledge.Bundled()
	if err != nil {
		tb.Fatalf("knowledge.Bundled: %v", err)
	}
	out := make([]kb.Article, 0, n)
	for i := 0; len(out) < n; i++ {
		for _, a := range bundled {
			if len(out) == n {
				break
			}
			if i == 0 {
				out = append(out, a)
				continue
			}
			c := a
			c.ID = a.ID + "-" + strconv.Itoa(i)
			c.Title = benchPhrase(i) + c.Title
			c.Questions = make([]string, len(a.Questions))
			for j, q := range a.Questions {
				c.Questions[j] = benchPhrase(i+7*(j+1)) + q
			}
			out = append(out, c)
		}
	}
	return out
}

// BenchmarkIndexBuild10k times putting 10,000 articles into a fresh in-memory index in one
// call, as the server does at start.
func BenchmarkIndexBuild10k(b *testing.B) {
	arts := generateArticles(b, benchArticles)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		x, err := kb.New(kb.Config{})
		if err != nil {
			b.Fatalf("kb.New: %v", err)
		}
		b.StartTimer()
		if err := x.Put(ctx, arts...); err != nil {
			b.Fatalf("Put: %v", err)
		}
		b.StopTimer()
		if err := x.Close(); err != nil {
			b.Fatalf("Close: %v", err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/build")
	b.ReportMetric(float64(len(arts))/secs, "articles/s")
}

// benchQueries are shoppers' questions for BenchmarkSearch10k: some close to an article,
// some loose, one off topic.
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
	"收到的耳机是坏的",
}

var (
	searchIndexOnce sync.Once
	searchIndex     *kb.Index
	searchIndexErr  error
)

// benchIndex returns an index of benchArticles generated articles, built once per
// process: the testing package calls a benchmark more than once.
func benchIndex(b *testing.B) *kb.Index {
	b.Helper()
	arts := generateArticles(b, benchArticles)
	searchIndexOnce.Do(func() {
		start := time.Now()
		searchIndex, searchIndexErr = kb.New(kb.Config{})
		if searchIndexErr == nil {
			searchIndexErr = searchIndex.Put(context.Background(), arts...)
		}
		b.Logf("built an index of %d articles in %v", len(arts), time.Since(start).Round(time.Millisecond))
	})
	if searchIndexErr != nil {
		b.Fatalf("building the index: %v", searchIndexErr)
	}
	return searchIndex
}

// BenchmarkSearch10k times kb.Search (k=5) in an index of 10,000 articles.
func BenchmarkSearch10k(b *testing.B) {
	x := benchIndex(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := x.Search(ctx, benchQueries[i%len(benchQueries)], 5); err != nil {
			b.Fatalf("Search: %v", err)
		}
	}
}
