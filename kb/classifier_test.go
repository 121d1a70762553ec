package kb_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
)

// bundledIndex returns an index of the bundled knowledge, closed when the test ends.
func bundledIndex(t *testing.T) (*kb.Index, []kb.Article) {
	t.Helper()
	arts, err := kbtest.Bundled()
	if err != nil {
		t.Fatalf("kbtest.Bundled: %v", err)
	}
	return newIndex(t, kb.Config{}, arts...), arts
}

// The classifier tells apart articles that share most of their words: both articles
// below are about refunds, and what decides is 多久/几天 against 哪里/原路.
func TestClassifierWeighsTheTellingWords(t *testing.T) {
	x := newIndex(t, kb.Config{},
		kb.Article{ID: "refund-timing", Title: "退款多久到账？", Category: kb.CategoryAftersale,
			Questions: []string{"退款几天能到", "钱多久退回来", "退款要等多长时间", "退款什么时候到账"},
			Answer:    "亲，退款审核通过后，原路退回一般1-3个工作日到账。"},
		kb.Article{ID: "refund-where", Title: "退款退到哪里？", Category: kb.CategoryAftersale,
			Questions: []string{"退款退到哪", "钱退到哪个账户", "退款是原路返回吗", "退款会退到余额吗"},
			Answer:    "亲，退款会原路退回到您付款的账户。"},
		kb.Article{ID: "invoice", Title: "可以开发票吗？", Category: kb.CategoryPresale,
			Questions: []string{"能开发票不", "开发票"}, Answer: "可以的亲。"},
	)
	for q, want := range map[string]string{
		"我的退款几天能到账啊": "refund-timing",
		"退款退回哪个账户了":  "refund-where",
	} {
		hits := search(t, x, q)
		if len(hits) < 2 || hits[0].Article.ID != want {
			t.Errorf("Search(%q) = %v, want %s first", q, ids(hits), want)
			continue
		}
		if hits[0].Prob <= hits[1].Prob || hits[0].Prob < 0.5 {
			t.Errorf("Search(%q): probabilities %.2f, %.2f: want the first above one half and above the second", q, hits[0].Prob, hits[1].Prob)
		}
	}
}

// A question the knowledge does not cover, and small talk, is no article's: the
// background messages teach every model that 「今天」「怎么」「谢谢」 are no evidence.
func TestClassifierSmallTalkClaimsNoArticle(t *testing.T) {
	x, _ := bundledIndex(t)
	for _, q := range []string{"谢谢你呀", "今天天气怎么样", "你吃饭了吗", "thank you so much", "what is the weather like"} {
		for _, h := range search(t, x, q) {
			if h.Prob >= 0.5 {
				t.Errorf("Search(%q): %s has probability %.2f, want below one half", q, h.Article.ID, h.Prob)
			}
		}
	}
}

// The same articles give the same models, whatever order they are put in.
func TestClassifierIsDeterministic(t *testing.T) {
	arts := testArticles()
	rev := slices.Clone(arts)
	slices.Reverse(rev)
	a, b := newIndex(t, kb.Config{}, arts...), newIndex(t, kb.Config{}, rev...)
	for _, q := range []string{"能开发票吗", "几天发货", "我要退货", "invoice please"} {
		ha, hb := search(t, a, q), search(t, b, q)
		if len(ha) != len(hb) {
			t.Fatalf("Search(%q): %v and %v", q, ids(ha), ids(hb))
		}
		for i := range ha {
			if ha[i].Article.ID != hb[i].Article.ID || ha[i].Prob != hb[i].Prob {
				t.Errorf("Search(%q) hit %d: %s %.6f and %s %.6f", q, i, ha[i].Article.ID, ha[i].Prob, hb[i].Article.ID, hb[i].Prob)
			}
		}
	}
}

// An edit retrains the article at once: a question added to it is its own right after
// Put, and a deleted article's neighbours forget it.
func TestClassifierFollowsEdits(t *testing.T) {
	x, arts := bundledIndex(t)
	const q = "蓝牙耳机一只没声音了能修吗"
	i := slices.IndexFunc(arts, func(a kb.Article) bool { return a.ID == "repair-electronics" })
	if i < 0 {
		t.Fatal("bundled article repair-electronics is missing")
	}
	before := search(t, x, q)
	a := arts[i]
	a.Questions = append(slices.Clone(a.Questions), q)
	if err := x.Put(context.Background(), a); err != nil {
		t.Fatalf("Put: %v", err)
	}
	after := search(t, x, q)
	if len(after) == 0 || after[0].Article.ID != a.ID || after[0].Prob < 0.9 {
		t.Fatalf("after adding the question: %v (first %.2f), want %s first and sure; before: %v", ids(after), after[0].Prob, a.ID, ids(before))
	}
	if err := x.Delete(context.Background(), a.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, h := range search(t, x, q) {
		if h.Article.ID == a.ID {
			t.Errorf("deleted article %s still found", a.ID)
		}
	}
}

// A Chinese question prefers the Chinese article to its English twin, and an English
// question the English one, though both share the word.
func TestSearchPrefersTheQuestionsLanguage(t *testing.T) {
	x := newIndex(t, kb.Config{}, testArticles()...)
	for q, want := range map[string]string{
		"能开invoice吗":           "invoice",
		"can I get an invoice": "invoice-en",
	} {
		if hits := search(t, x, q); len(hits) == 0 || hits[0].Article.ID != want {
			t.Errorf("Search(%q) = %v, want %s first", q, ids(hits), want)
		}
	}
}
