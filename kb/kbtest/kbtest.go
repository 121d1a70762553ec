// Package kbtest helps the tests of kb and of the packages that use it: an empty
// article store, an index holding given articles, the bundled articles, and large knowledge bases generated from them
// for the benchmarks (the latency target is set at 10,000 articles).
//
// The bundled articles are read from the files of knowledge/articles in the source tree,
// not through package knowledge, which embeds them: kb and bot import no package that
// depends on them, in their tests neither.
package kbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/kb"
)

// Store returns an empty article store in a throwaway embedded database, closed when
// the test ends.
func Store(t testing.TB) *kb.BoltStore {
	t.Helper()
	s, err := kb.NewBoltStore(kb.BoltConfig{DB: bolttest.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Index returns an in-memory index holding arts, closed when the test ends.
func Index(tb testing.TB, arts ...kb.Article) *kb.Index {
	tb.Helper()
	x, err := NewIndex(arts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	return x
}

// NewIndex returns an in-memory index holding arts, for an index that outlives a test
// (a benchmark's, shared by the process); the caller closes it.
func NewIndex(arts ...kb.Article) (*kb.Index, error) {
	x, err := kb.New(kb.Config{})
	if err != nil {
		return nil, fmt.Errorf("kb.New: %w", err)
	}
	if err := x.Put(context.Background(), arts...); err != nil {
		x.Close()
		return nil, fmt.Errorf("Put: %w", err)
	}
	return x, nil
}

// Bundled returns the articles that ship with Kefu, read from knowledge/articles.
func Bundled() ([]kb.Article, error) {
	dir, err := articlesDir()
	if err != nil {
		return nil, err
	}
	return kb.ReadMarkdownFS(os.DirFS(dir))
}

// articlesDir returns the directory of the bundled articles: knowledge/articles beside
// the go.mod found above the working directory, which go test sets to the directory of
// the package under test.
func articlesDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "knowledge", "articles"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kbtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// benchNouns are products a shopper names in a question, by language; with benchShapes
// they vary the generated copies of an article so that no two documents are identical.
var benchNouns = map[string][]string{
	"zh": {
		"羽绒服", "运动鞋", "连衣裙", "手机壳", "保温杯", "牛仔裤", "背包", "床单", "耳机", "台灯",
		"卫衣", "衬衫", "毛衣", "风衣", "围巾", "帽子", "袜子", "拖鞋", "行李箱", "钱包",
		"手表", "项链", "口红", "面霜", "洗发水", "牙刷", "毛巾", "枕头", "被子", "窗帘",
		"电饭煲", "吹风机", "充电宝", "数据线", "键盘", "鼠标", "水杯", "玩具", "奶粉", "茶叶",
	},
	"en": {
		"down jacket", "sneakers", "dress", "phone case", "thermos", "jeans", "backpack", "bed sheet", "earbuds", "desk lamp",
		"hoodie", "shirt", "sweater", "trench coat", "scarf", "hat", "socks", "slippers", "suitcase", "wallet",
		"watch", "necklace", "lipstick", "face cream", "shampoo", "toothbrush", "towel", "pillow", "duvet", "curtains",
		"rice cooker", "hair dryer", "power bank", "usb cable", "keyboard", "mouse", "water bottle", "toy", "baby formula", "tea",
	},
}

// benchShapes are the ways a product word goes before the question, by language.
var benchShapes = map[string][]string{
	"zh": {"%s", "这件%s", "买的%s", "%s订单", "那个%s", "%s的订单"},
	"en": {"%s: ", "my %s: ", "the %s - ", "%s order: ", "about the %s: ", "re my %s order, "},
}

// benchKinds are what a product is like, by language: past the first
// len(nouns)*len(shapes) phrases, a kind goes before the product, so that the phrases of
// a knowledge base of 50,000 articles are all different too.
var benchKinds = map[string][]string{
	"zh": {"", "黑色", "白色", "红色", "蓝色", "大号", "小号", "新款", "儿童", "加厚", "轻薄", "礼盒装"},
	"en": {"", "black", "white", "red", "blue", "large", "small", "new", "kids'", "thick", "light", "gift-boxed"},
}

// benchPhrase is the k-th product phrase of a language ("" is zh); the first
// len(nouns)*len(shapes)*len(kinds) are all different.
func benchPhrase(lang string, k int) string {
	if lang != "en" {
		lang = "zh"
	}
	nouns, shapes, kinds := benchNouns[lang], benchShapes[lang], benchKinds[lang]
	noun := nouns[k%len(nouns)]
	if kind := kinds[(k/(len(nouns)*len(shapes)))%len(kinds)]; kind != "" {
		sep := ""
		if lang == "en" {
			sep = " "
		}
		noun = kind + sep + noun
	}
	return fmt.Sprintf(shapes[(k/len(nouns))%len(shapes)], noun)
}

// Articles returns n articles: the bundled ones as they are, then copies of them
// (id "<id>-<i>") whose title and questions name a product in the article's language,
// category and answer kept. No two titles are the same up to 50,000 articles and well
// beyond. The result is the same on every call.
func Articles(n int) ([]kb.Article, error) {
	bundled, err := Bundled()
	if err != nil {
		return nil, err
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
			c.Title = benchPhrase(a.Lang, i) + c.Title
			c.Questions = make([]string, len(a.Questions))
			for j, q := range a.Questions {
				c.Questions[j] = benchPhrase(a.Lang, i+7*(j+1)) + q
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// ShopperQuestions are typical shopper messages, the questions of the Decide
// benchmarks: mostly invoices, shipping and returns, some other questions, a few in
// English, and chit-chat that no article answers.
var ShopperQuestions = []string{
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
