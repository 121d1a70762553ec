package kb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/kb"
)

// testArticles is a small knowledge base in the shape of the bundled one.
func testArticles() []kb.Article {
	return []kb.Article{
		{
			ID: "invoice", Title: "可以开发票吗？", Category: kb.CategoryPresale,
			Questions: []string{"能开发票不", "买了东西可以开票吗？", "开发票"},
			Answer:    "可以的亲，本店所有商品都可以开具发票，开公司抬头时请填写纳税人识别号。",
			Tags:      []string{"发票"},
		},
		{
			ID: "shipping-time", Title: "付款后多久发货？", Category: kb.CategoryPresale,
			Questions: []string{"什么时候发货", "几天能到啊", "发货要几天"},
			Answer:    "亲，正常情况下本店会在您付款后48小时内发货，偏远地区运输会稍久一些。",
			Tags:      []string{"时效"},
		},
		{
			ID: "coupon", Title: "优惠券怎么使用？", Category: kb.CategoryPresale,
			Questions: []string{"怎么领券", "优惠券怎么用", "下单怎么抵扣"},
			Answer:    "亲，您可以在商品详情页领取优惠券，下单结算时系统会自动选择可用的最优券。",
		},
		{
			ID: "tracking", Title: "我的快递到哪了？", Category: kb.CategoryInsale,
			Questions: []string{"物流到哪了", "查下快递", "我的包裹呢？"},
			Answer:    "亲，您可以在「我的订单」的订单详情中查看运单号和实时物流信息。",
		},
		{
			ID: "return-procedure", Title: "怎么退货？", Category: kb.CategoryAftersale,
			Questions:  []string{"退货流程", "我要退货", "退货地址是哪里"},
			Answer:     "亲，请在「我的订单」中申请售后并选择「退货退款」，按页面给出的地址寄回商品。",
			AfterSales: true,
		},
		{
			ID: "invoice-en", Title: "Can I get an Invoice?", Category: kb.CategoryPresale, Lang: "en",
			Questions: []string{"Do you issue invoices", "VAT invoice for my order"},
			Answer:    "Yes. Every order can have an invoice; request it on the order page.",
		},
	}
}

// newIndex returns an index of cfg holding arts, closed when the test ends.
func newIndex(t *testing.T, cfg kb.Config, arts ...kb.Article) *kb.Index {
	t.Helper()
	x, err := kb.New(cfg)
	if err != nil {
		t.Fatalf("kb.New: %v", err)
	}
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := x.Put(context.Background(), arts...); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return x
}

func search(t *testing.T, x *kb.Index, q string) []kb.Hit {
	t.Helper()
	hits, err := x.Search(context.Background(), q, 5)
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	return hits
}

func ids(hits []kb.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Article.ID)
	}
	return out
}

func hasID(hits []kb.Hit, id string) bool {
	for _, h := range hits {
		if h.Article.ID == id {
			return true
		}
	}
	return false
}

func TestSearchRanksTheRightArticleFirst(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	tests := []struct {
		query string
		want  string
	}{
		{"可以开发票吗？", "invoice"},
		{"你们能开发票不", "invoice"},
		{"付款后什么时候发货", "shipping-time"},
		{"优惠券怎么用啊", "coupon"},
		{"我的快递到哪了", "tracking"},
		{"退货地址是哪里？", "return-procedure"},
		{"can I get an invoice?", "invoice-en"},
		{"DO YOU ISSUE INVOICES", "invoice-en"},
		{"vat Invoice", "invoice-en"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits := search(t, x, tt.query)
			if len(hits) == 0 || hits[0].Article.ID != tt.want {
				t.Fatalf("Search(%q) = %v, want %s first", tt.query, ids(hits), tt.want)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Errorf("hit %d (%s) scores %v, above hit %d (%v)", i, hits[i].Article.ID, hits[i].Score, i-1, hits[i-1].Score)
				}
			}
		})
	}
}

func TestSearchFoldsFullWidth(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	tests := []struct{ full, half string }{
		{"（可以开发票吗？）", "(可以开发票吗?)"},
		{"ＤＯ　ＹＯＵ　ＩＳＳＵＥ　ＩＮＶＯＩＣＥＳ", "do you issue invoices"},
		{"ＶＡＴ发票", "VAT发票"},
	}
	for _, tt := range tests {
		t.Run(tt.half, func(t *testing.T) {
			full, half := search(t, x, tt.full), search(t, x, tt.half)
			if len(half) == 0 {
				t.Fatalf("Search(%q) has no hits", tt.half)
			}
			if len(full) != len(half) {
				t.Fatalf("Search(%q) = %v, Search(%q) = %v; want the same hits", tt.full, ids(full), tt.half, ids(half))
			}
			for i := range half {
				if full[i].Article.ID != half[i].Article.ID || full[i].Score != half[i].Score || full[i].Coverage != half[i].Coverage {
					t.Errorf("hit %d: full-width %s (score %v, coverage %v), half-width %s (score %v, coverage %v)",
						i, full[i].Article.ID, full[i].Score, full[i].Coverage, half[i].Article.ID, half[i].Score, half[i].Coverage)
				}
			}
		})
	}
}

func TestSearchCoverage(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)

	for _, q := range []string{"能开发票不", "开发票", "买了东西可以开票吗"} {
		hits := search(t, x, q)
		if len(hits) == 0 || hits[0].Article.ID != "invoice" {
			t.Fatalf("Search(%q) = %v, want invoice first", q, ids(hits))
		}
		if hits[0].Coverage != 1 {
			t.Errorf("Search(%q): coverage %v, want 1 since every term is in the article's questions", q, hits[0].Coverage)
		}
	}

	// The invoice answer mentions 纳税人识别号, so the article is a hit, but the
	// question is not one of its questions.
	const unrelated = "纳税人识别号是什么意思"
	hits := search(t, x, unrelated)
	if !hasID(hits, "invoice") {
		t.Fatalf("Search(%q) = %v, want invoice among the hits", unrelated, ids(hits))
	}
	for _, h := range hits {
		if h.Coverage < 0 || h.Coverage >= 0.5 {
			t.Errorf("Search(%q): %s has coverage %v, want [0, 0.5)", unrelated, h.Article.ID, h.Coverage)
		}
	}
}

func TestSearchFields(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	tests := []struct {
		query string
		want  []string
	}{
		{"发票", []string{"answer", "questions", "tags", "title"}},
		{"纳税人识别号", []string{"answer"}},
		// 物流 in the answer is a synonym of 快递, so the answer matches too.
		{"查下快递", []string{"answer", "questions", "title"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits := search(t, x, tt.query)
			if len(hits) == 0 {
				t.Fatalf("Search(%q) has no hits", tt.query)
			}
			if !reflect.DeepEqual(hits[0].Fields, tt.want) {
				t.Errorf("Search(%q): %s matched fields %v, want %v", tt.query, hits[0].Article.ID, hits[0].Fields, tt.want)
			}
		})
	}
}

func TestSearchNoHits(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	tests := []struct {
		query string
		k     int
	}{
		{"", 5},
		{"  \t\u3000", 5},
		{"？！", 5},
		{"可以开发票吗", 0},
		{"可以开发票吗", -1},
	}
	for _, tt := range tests {
		hits, err := x.Search(context.Background(), tt.query, tt.k)
		if err != nil || len(hits) != 0 {
			t.Errorf("Search(%q, %d) = %v, %v; want no hits and no error", tt.query, tt.k, ids(hits), err)
		}
	}
}

func TestSearchLimit(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	// 发货 and 货 are in several articles' text.
	hits, err := x.Search(context.Background(), "发票 发货 快递 退货", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Errorf("Search with k=2 = %v, want 2 hits", ids(hits))
	}
}

func TestPutInvalidIndexesNothing(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, kb.Config{}, testArticles()...)
	before := x.Len()

	bad := kb.Article{ID: "Gift Wrap", Title: "可以礼品包装吗？", Category: kb.CategoryPresale,
		Questions: []string{"能包装成礼物吗"}, Answer: "可以在订单备注中写明送礼需求。"}
	good := kb.Article{ID: "gift-wrap", Title: "可以礼品包装吗？", Category: kb.CategoryPresale,
		Questions: []string{"能包装成礼物吗"}, Answer: "可以在订单备注中写明送礼需求。"}

	if err := x.Put(ctx, bad); !errors.Is(err, kb.ErrInvalid) {
		t.Errorf("Put(invalid) = %v, want ErrInvalid", err)
	}
	if err := x.Put(ctx, good, bad); !errors.Is(err, kb.ErrInvalid) {
		t.Errorf("Put(valid, invalid) = %v, want ErrInvalid", err)
	}
	if got := x.Len(); got != before {
		t.Errorf("Len = %d after failed Puts, want %d", got, before)
	}
	if hits := search(t, x, "能包装成礼物吗"); hasID(hits, good.ID) || hasID(hits, bad.ID) {
		t.Errorf("Search finds %v after failed Puts", ids(hits))
	}
	if _, err := x.Article(good.ID); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("Article(%q) = %v, want ErrNotFound", good.ID, err)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, kb.Config{}, testArticles()...)
	before := x.Len()
	if hits := search(t, x, "物流到哪了"); !hasID(hits, "tracking") {
		t.Fatalf("Search before Delete = %v, want tracking", ids(hits))
	}

	if err := x.Delete(ctx, "tracking"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if hits := search(t, x, "物流到哪了"); hasID(hits, "tracking") {
		t.Errorf("Search after Delete = %v, still finds tracking", ids(hits))
	}
	if _, err := x.Article("tracking"); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("Article after Delete = %v, want ErrNotFound", err)
	}
	if got := x.Len(); got != before-1 {
		t.Errorf("Len = %d after Delete, want %d", got, before-1)
	}
	for _, a := range x.Articles() {
		if a.ID == "tracking" {
			t.Errorf("Articles still lists tracking")
		}
	}

	if err := x.Delete(ctx, "tracking"); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if err := x.Delete(ctx, "no-such-article"); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("Delete(unknown) = %v, want ErrNotFound", err)
	}
}

func TestPutReplaces(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, kb.Config{}, testArticles()...)
	before := x.Len()

	repl := kb.Article{ID: "invoice", Title: "支持哪些付款方式？", Category: kb.CategoryPresale,
		Questions: []string{"可以用花呗吗", "支持信用卡吗"}, Answer: "支持支付宝、花呗和银行卡付款。"}
	if err := x.Put(ctx, repl); err != nil {
		t.Fatalf("Put: %v", err)
	}

	if got := x.Len(); got != before {
		t.Errorf("Len = %d after replacing, want %d", got, before)
	}
	hits := search(t, x, "可以用花呗吗")
	if len(hits) == 0 || hits[0].Article.ID != "invoice" || hits[0].Article.Title != repl.Title {
		t.Errorf("Search(new text) = %v, want the replaced invoice article first", hits)
	}
	if hits := search(t, x, "能开发票不"); hasID(hits, "invoice") {
		t.Errorf("Search(old text) = %v, still finds the replaced article", ids(hits))
	}
	got, err := x.Article("invoice")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, repl) {
		t.Errorf("Article = %+v, want %+v", got, repl)
	}
}

func TestArticles(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	got := x.Articles()
	want := testArticles()
	if len(got) != len(want) {
		t.Fatalf("Articles has %d articles, want %d", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].ID >= got[i].ID {
			t.Errorf("Articles not sorted by id: %s before %s", got[i-1].ID, got[i].ID)
		}
	}
	a, err := x.Article("return-procedure")
	if err != nil {
		t.Fatal(err)
	}
	if !a.AfterSales {
		t.Errorf("Article(return-procedure).AfterSales = false, want true")
	}
}

func TestOnDiskIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idx")
	x := newIndex(t, kb.Config{Path: path}, testArticles()...)
	hits := search(t, x, "可以开发票吗？")
	if len(hits) == 0 || hits[0].Article.ID != "invoice" {
		t.Fatalf("Search = %v, want invoice first", ids(hits))
	}
	if err := x.Delete(context.Background(), "invoice"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if hits := search(t, x, "可以开发票吗？"); hasID(hits, "invoice") {
		t.Errorf("Search after Delete = %v", ids(hits))
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("no index directory at %s: %v", path, err)
	}
}

// TestOnDiskIndexOpenedAgain opens an index kept on disk without a Follower: it serves
// nothing, and its first write drops the documents it was not given again.
func TestOnDiskIndexOpenedAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idx")
	first, err := kb.New(kb.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Put(context.Background(), testArticles()...); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	x := newIndex(t, kb.Config{Path: path})
	if x.Len() != 0 {
		t.Errorf("Len = %d for an index opened again, want 0", x.Len())
	}
	if hits := search(t, x, "可以开发票吗"); len(hits) != 0 {
		t.Errorf("Search of an index opened again = %v, want no hits", ids(hits))
	}
	one := testArticles()[1]
	if err := x.Put(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	if hits := search(t, x, "可以开发票吗"); len(hits) != 0 || x.Len() != 1 {
		t.Errorf("after one Put: Search = %v, %d articles; want no hits, 1", ids(hits), x.Len())
	}
	if hits := search(t, x, one.Title); len(hits) != 1 {
		t.Errorf("Search for the article put = %v, want it alone", ids(hits))
	}
}

func TestOnDiskIndexKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "conversations.db")
	if err := os.WriteFile(keep, []byte("not an index"), 0o600); err != nil {
		t.Fatal(err)
	}
	x, err := kb.New(kb.Config{Path: dir})
	if err == nil {
		x.Close()
		t.Errorf("kb.New on a directory holding other files succeeded")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("kb.New removed a file that is not part of an index: %v", err)
	}
}

func TestConcurrentSearchAndPut(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, kb.Config{}, testArticles()...)
	const (
		writers  = 2
		readers  = 4
		rounds   = 20
		articles = 3
	)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				a := kb.Article{
					ID: fmt.Sprintf("extra-%d", (w*rounds+i)%articles), Title: fmt.Sprintf("会员积分怎么用？%d", i),
					Category: kb.CategoryPolicy, Questions: []string{"积分怎么用", "积分可以抵现吗"},
					Answer: "亲，积分可以在下单时抵扣现金。",
				}
				if err := x.Put(ctx, a); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		}()
	}
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for _, q := range []string{"可以开发票吗", "积分怎么用"} {
					hits, err := x.Search(ctx, q, 5)
					if err != nil {
						t.Errorf("Search(%q): %v", q, err)
						return
					}
					for _, h := range hits {
						if h.Coverage < 0 || h.Coverage > 1 {
							t.Errorf("Search(%q): %s has coverage %v", q, h.Article.ID, h.Coverage)
						}
					}
				}
				_ = x.Articles()
				_ = x.Len()
			}
		}()
	}
	wg.Wait()

	if got, want := x.Len(), len(testArticles())+articles; got != want {
		t.Errorf("Len = %d after concurrent Puts, want %d", got, want)
	}
	hits := search(t, x, "可以开发票吗")
	if len(hits) == 0 || hits[0].Article.ID != "invoice" {
		t.Errorf("Search after concurrent Puts = %v, want invoice first", ids(hits))
	}
}

func TestSearchToleratesTypos(t *testing.T) {
	x := newIndex(t, kb.Config{}, kb.Article{
		ID: "mattress-size", Title: "Mattress sizes", Category: kb.CategoryPresale, Answer: "We make single, double, queen and king sizes.",
		Questions: []string{"what sizes does the mattress come in", "available mattress dimensions"},
	}, kb.Article{
		ID: "delivery", Title: "Delivery time", Category: kb.CategoryInsale, Answer: "Orders ship within 48 hours.",
		Questions: []string{"when will my order arrive"},
	})
	hits := search(t, x, "matress dimensons")
	if len(hits) == 0 || hits[0].Article.ID != "mattress-size" {
		t.Fatalf("Search with two typos = %v, want mattress-size first", ids(hits))
	}
}

// Articles that score alike are cut, at the number of documents the search takes from
// bleve (20 for five hits), by id: the same articles are found however the index was
// built. Fifty articles of the same text, put one by one from the last id to the first
// (each put is a bleve segment of its own), are all tied, more of them than the search
// asks bleve for at first; the five hits come from the twenty of the lowest ids.
func TestSearchBreaksTiesByID(t *testing.T) {
	x := newIndex(t, kb.Config{})
	ctx := context.Background()
	for i := 49; i >= 0; i-- {
		a := kb.Article{
			ID: fmt.Sprintf("tie-%02d", i), Title: "可以开发票吗？", Category: kb.CategoryPresale,
			Questions: []string{"能开发票不"}, Answer: "可以的亲。",
		}
		if err := x.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := x.Search(ctx, "开发票", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 {
		t.Fatalf("got %d hits, want 5", len(hits))
	}
	for _, h := range hits {
		if h.Article.ID >= "tie-20" {
			t.Errorf("hit %s: ties at the cut must go to the lowest ids", h.Article.ID)
		}
	}
}
