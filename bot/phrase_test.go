package bot

import (
	"context"
	"errors"
	"github.com/kefu-im/kefu/internal/contactguard"
	"testing"

	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
)

// fakePhraser is a Phraser with a fixed reply; it records the articles it was given.
type fakePhraser struct {
	reply Phrasing
	err   error
	got   []kb.Article
}

func (f *fakePhraser) Phrase(_ context.Context, _ string, arts []kb.Article) (Phrasing, error) {
	f.got = arts
	return f.reply, f.err
}

func TestPhrasedAnswers(t *testing.T) {
	inv := kb.Article{ID: "invoice", Title: "可以开发票吗", Category: kb.CategoryPresale, Questions: []string{"能开发票吗", "发票怎么开"}, Answer: "可以的，下单时填写发票信息即可。"}
	ship := kb.Article{ID: "shipping", Title: "多久发货", Category: kb.CategoryPresale, Questions: []string{"什么时候发货"}, Answer: "付款后48小时内发货。"}
	idx := kbtest.Index(t, inv, ship)
	tests := []struct {
		name       string
		phraser    *fakePhraser
		wantAction triage.Action
		wantText   string
		wantPhrase bool
	}{
		{"worded", &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "invoice", Text: "亲，可以开发票的，下单时填写发票信息就好。"}}, triage.Answer, "亲，可以开发票的，下单时填写发票信息就好。", true},
		{"not covered", &fakePhraser{reply: Phrasing{Covered: false}}, triage.Handoff, "", false},
		{"model fails", &fakePhraser{err: errors.New("timeout")}, triage.Answer, inv.Answer, false},
		{"words a phone number", &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "invoice", Text: "亲，开发票请拨打 138\u200b1234\u200b5678"}}, triage.Answer, inv.Answer, false},
		{"words a WeChat id", &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "invoice", Text: "亲，加 wei xin：kefu_shop 开发票"}}, triage.Answer, inv.Answer, false},
		{"words a link", &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "invoice", Text: "亲，去 evil。com 开发票"}}, triage.Answer, inv.Answer, false},
		{"cites an article it was not given", &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "nope", Text: "编造的答案"}}, triage.Answer, inv.Answer, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(Config{Searcher: idx, Phraser: tt.phraser})
			if err != nil {
				t.Fatal(err)
			}
			d, err := b.Decide(context.Background(), Input{Text: "可以开发票吗？"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.wantAction || d.Text != tt.wantText || d.Phrased != tt.wantPhrase {
				t.Errorf("decision %s %q phrased=%v, want %s %q phrased=%v", d.Action, d.Text, d.Phrased, tt.wantAction, tt.wantText, tt.wantPhrase)
			}
			if len(tt.phraser.got) == 0 || tt.phraser.got[0].ID != "invoice" {
				t.Errorf("phraser got %v, want the ranked articles, invoice first", tt.phraser.got)
			}
		})
	}
	// After-sales cases never reach the model: the rules hand them off first.
	p := &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "invoice", Text: "x"}}
	b, _ := New(Config{Searcher: idx, Phraser: p})
	if d, _ := b.Decide(context.Background(), Input{Text: "我要退货"}); d.Action != triage.Handoff || p.got != nil {
		t.Errorf("after-sales: %s, phraser called with %v; want a hand-off without the model", d.Action, p.got)
	}
	// A link to one of the shop's own hosts is the model's to give.
	text := "亲，发票在 https://shop.example.com/invoice 申请"
	p = &fakePhraser{reply: Phrasing{Covered: true, ArticleID: "invoice", Text: text}}
	b, _ = New(Config{Searcher: idx, Phraser: p, ContactGuard: contactguard.New([]string{"shop.example.com"})})
	if d, _ := b.Decide(context.Background(), Input{Text: "能开发票吗"}); d.Text != text || !d.Phrased {
		t.Errorf("a link to the shop: %q phrased=%v, want the wording kept", d.Text, d.Phrased)
	}
}

func TestCategoryThresholds(t *testing.T) {
	inv := kb.Article{ID: "invoice", Title: "可以开发票吗", Category: kb.CategoryPresale, Questions: []string{"能开发票吗"}, Answer: "可以的，下单时填写发票信息即可。"}
	idx := kbtest.Index(t, inv)
	strict, err := New(Config{Searcher: idx, CategoryThresholds: map[string]float64{kb.CategoryPresale: 1}})
	if err != nil {
		t.Fatal(err)
	}
	loose, _ := New(Config{Searcher: idx})
	q := Input{Text: "开发票"}
	if d, _ := loose.Decide(context.Background(), q); d.Action != triage.Answer || d.Confidence >= 1 {
		t.Fatalf("default threshold: %s at %.2f, want an answer below confidence 1", d.Action, d.Confidence)
	}
	if d, _ := strict.Decide(context.Background(), q); d.Action == triage.Answer {
		t.Errorf("presale threshold 1: the bot answered at %.2f", d.Confidence)
	}
	if _, err := New(Config{Searcher: idx, CategoryThresholds: map[string]float64{"policy": 0.1}}); err == nil {
		t.Error("a category threshold below the clarify threshold was accepted")
	}
}
