package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
)

// Default thresholds of bot.Config, named here so that the tests say what they rely on.
const (
	answerThreshold  = 0.55
	clarifyThreshold = 0.35
)

var (
	invoice = kb.Article{
		ID: "invoice", Title: "可以开发票吗？", Category: kb.CategoryPresale,
		Questions: []string{"能开发票不", "买了东西可以开票吗？", "开发票"},
		Answer:    "可以的亲，本店所有商品都可以开具发票，开公司抬头时请填写纳税人识别号。",
		Tags:      []string{"发票"},
	}
	shippingTime = kb.Article{
		ID: "shipping-time", Title: "付款后多久发货？", Category: kb.CategoryPresale,
		Questions: []string{"什么时候发货", "几天能到啊", "发货要几天"},
		Answer:    "亲，正常情况下本店会在您付款后48小时内发货，偏远地区运输会稍久一些。",
	}
	coupon = kb.Article{
		ID: "coupon", Title: "优惠券怎么使用？", Category: kb.CategoryPresale,
		Questions: []string{"怎么领券", "优惠券怎么用", "下单怎么抵扣"},
		Answer:    "亲，您可以在商品详情页领取优惠券，下单结算时系统会自动选择可用的最优券。",
	}
	returnProcedure = kb.Article{
		ID: "return-procedure", Title: "怎么退货？", Category: kb.CategoryAftersale,
		Questions:  []string{"退货流程", "退货咋操作", "退货地址是哪里"},
		Answer:     "亲，请在「我的订单」中申请售后并选择「退货退款」，按页面给出的地址寄回商品，售后专员会全程跟进。",
		AfterSales: true,
	}
	tracking = kb.Article{
		ID: "tracking", Title: "我的快递到哪了？", Category: kb.CategoryInsale,
		Questions: []string{"物流到哪了", "查下快递", "我的包裹呢？"},
		Answer:    "亲，您可以在「我的订单」的订单详情中查看运单号和实时物流信息。",
	}
)

// newIndex returns an in-memory index holding arts.
func newIndex(t *testing.T, arts ...kb.Article) *kb.Index {
	t.Helper()
	return kbtest.Index(t, arts...)
}

// newBot returns a bot over the five test articles with cfg's thresholds.
func newBot(t *testing.T, cfg bot.Config) *bot.Bot {
	t.Helper()
	if cfg.Searcher == nil {
		cfg.Searcher = newIndex(t, invoice, shippingTime, coupon, returnProcedure, tracking)
	}
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// checkInvariants checks what every decision promises.
func checkInvariants(t *testing.T, in bot.Input, d bot.Decision) {
	t.Helper()
	if d.Confidence < 0 || d.Confidence > 1 {
		t.Errorf("Decide(%+v): confidence %v outside [0, 1]", in, d.Confidence)
	}
	for i := 1; i < len(d.Hits); i++ {
		if d.Hits[i].Score > d.Hits[i-1].Score {
			t.Errorf("Decide(%+v): hit %d (%s) scores %v, above hit %d (%v)", in, i, d.Hits[i].ID, d.Hits[i].Score, i-1, d.Hits[i-1].Score)
		}
	}
	if len(d.Hits) > 0 && (d.Article == nil || d.Article.ID != d.Hits[0].ID) {
		t.Errorf("Decide(%+v): article %+v is not the top hit %s", in, d.Article, d.Hits[0].ID)
	}
	switch d.Action {
	case triage.Answer:
		if d.Article == nil {
			t.Errorf("Decide(%+v): an answer without an article", in)
		}
		if utf8.RuneCountInString(strings.TrimSpace(d.Text)) < 2 {
			t.Errorf("Decide(%+v): answer text %q is empty or one character", in, d.Text)
		}
		if d.Reason != "" {
			t.Errorf("Decide(%+v): an answer with hand-off reason %q", in, d.Reason)
		}
	case triage.Clarify:
		if n := len(d.Suggestions); n < 2 || n > 3 {
			t.Errorf("Decide(%+v): clarify with %d suggestions, want 2 or 3", in, n)
		}
	case triage.Handoff:
		if d.Reason == "" {
			t.Errorf("Decide(%+v): a hand-off without a reason", in)
		}
	case triage.SmallTalk:
		if !d.Intent.SmallTalk() || d.Reason != "" || d.Article != nil || len(d.Hits) > 0 || d.Text != "" {
			t.Errorf("Decide(%+v): small talk %+v: want a small-talk intent, no text (the desk words it), reason, article or hits", in, d)
		}
		return
	default:
		t.Errorf("Decide(%+v): unknown action %q", in, d.Action)
	}
	switch d.Intent {
	case triage.IntentPresale, triage.IntentInsale, triage.IntentAftersale, triage.IntentOther:
	default:
		t.Errorf("Decide(%+v): unknown intent %q", in, d.Intent)
	}
}

func TestDecide(t *testing.T) {
	answers := map[string]string{}
	for _, a := range []kb.Article{invoice, shippingTime, coupon, returnProcedure, tracking} {
		answers[a.ID] = a.Answer
	}
	tests := []struct {
		name string
		in   bot.Input

		action triage.Action
		reason triage.Reason
		intent triage.Intent
		// article is the expected top article; empty means not checked.
		article string
		// text is the expected text; "-" means empty, "" means not checked.
		text string
		// minConfidence is checked when not zero.
		minConfidence float64
	}{
		{name: "invoice", in: bot.Input{Text: "可以开发票吗？"},
			action: triage.Answer, intent: triage.IntentPresale, article: "invoice", text: invoice.Answer, minConfidence: answerThreshold},
		{name: "invoice full-width", in: bot.Input{Text: "（能开发票不？）"},
			action: triage.Answer, intent: triage.IntentPresale, article: "invoice", text: invoice.Answer, minConfidence: answerThreshold},
		{name: "shipping time", in: bot.Input{Text: "什么时候发货？"},
			action: triage.Answer, intent: triage.IntentPresale, article: "shipping-time", text: shippingTime.Answer, minConfidence: answerThreshold},
		{name: "tracking", in: bot.Input{Text: "我的快递到哪了"},
			action: triage.Answer, intent: triage.IntentInsale, article: "tracking", text: tracking.Answer, minConfidence: answerThreshold},

		{name: "转人工", in: bot.Input{Text: "转人工"},
			action: triage.Handoff, reason: triage.ReasonRequested, text: "-"},
		{name: "人工客服", in: bot.Input{Text: "我要人工客服！"},
			action: triage.Handoff, reason: triage.ReasonRequested, text: "-"},
		{name: "talk to a human", in: bot.Input{Text: "Can I talk to a Human please"},
			action: triage.Handoff, reason: triage.ReasonRequested, text: "-"},
		{name: "request beats a good match", in: bot.Input{Text: "开发票的事转人工"},
			action: triage.Handoff, reason: triage.ReasonRequested, article: "invoice", text: "-"},

		{name: "投诉", in: bot.Input{Text: "我要投诉你们"},
			action: triage.Handoff, reason: triage.ReasonNegativeSentiment, text: "-"},
		{name: "差评", in: bot.Input{Text: "发货这么慢，给你们差评"},
			action: triage.Handoff, reason: triage.ReasonNegativeSentiment, text: "-"},

		{name: "english complaint", in: bot.Input{Text: "This shop is a SCAM"},
			action: triage.Handoff, reason: triage.ReasonNegativeSentiment, text: "-"},

		{name: "我要退货", in: bot.Input{Text: "我要退货"},
			action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale},
		{name: "退款", in: bot.Input{Text: "退款"},
			action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale},
		{name: "english refund", in: bot.Input{Text: "I want a refund"},
			action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale},
		{name: "after-sales words beat a presale match", in: bot.Input{Text: "开发票以后还能退款吗"},
			action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale},
		{name: "return procedure is explained", in: bot.Input{Text: "怎么退货？"},
			action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale,
			article: "return-procedure", text: returnProcedure.Answer, minConfidence: answerThreshold},

		{name: "weather", in: bot.Input{Text: "今天天气怎么样"},
			action: triage.Handoff, reason: triage.ReasonOutOfScope, intent: triage.IntentOther, text: "-"},
		{name: "nothing to search", in: bot.Input{Text: "？？？"},
			action: triage.Handoff, reason: triage.ReasonOutOfScope, intent: triage.IntentOther, text: "-"},

		{name: "picked suggestion", in: bot.Input{Text: "优惠券", ArticleID: "coupon"},
			action: triage.Answer, intent: triage.IntentPresale, article: "coupon", text: coupon.Answer, minConfidence: answerThreshold},
		{name: "picked suggestion without text", in: bot.Input{ArticleID: "tracking"},
			action: triage.Answer, intent: triage.IntentInsale, article: "tracking", text: tracking.Answer},
		{name: "picked after-sales suggestion", in: bot.Input{ArticleID: "return-procedure"},
			action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale,
			article: "return-procedure", text: returnProcedure.Answer},
		{name: "unknown suggestion falls back to the text", in: bot.Input{Text: "可以开发票吗", ArticleID: "no-such-article"},
			action: triage.Answer, intent: triage.IntentPresale, article: "invoice", text: invoice.Answer, minConfidence: answerThreshold},
	}
	b := newBot(t, bot.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := b.Decide(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			checkInvariants(t, tt.in, d)
			if d.Action != tt.action || d.Reason != tt.reason {
				t.Errorf("action %q reason %q, want %q %q (confidence %.2f, hits %v)", d.Action, d.Reason, tt.action, tt.reason, d.Confidence, d.Hits)
			}
			if tt.intent != "" && d.Intent != tt.intent {
				t.Errorf("intent %q, want %q", d.Intent, tt.intent)
			}
			if tt.article != "" {
				if d.Article == nil || d.Article.ID != tt.article {
					t.Errorf("article %+v, want %s", d.Article, tt.article)
				}
				if len(d.Hits) == 0 {
					t.Errorf("no hits, want %s among them", tt.article)
				}
			}
			switch tt.text {
			case "":
			case "-":
				if d.Text != "" {
					t.Errorf("text %q, want none", d.Text)
				}
			default:
				if d.Text != tt.text {
					t.Errorf("text %q, want %q", d.Text, tt.text)
				}
			}
			if d.Action == triage.Answer && d.Article != nil && d.Text != answers[d.Article.ID] {
				t.Errorf("answer %q is not the text of article %s", d.Text, d.Article.ID)
			}
			if tt.minConfidence != 0 && d.Confidence < tt.minConfidence {
				t.Errorf("confidence %.2f, want at least %.2f", d.Confidence, tt.minConfidence)
			}
		})
	}
}

func TestDecideInvariants(t *testing.T) {
	b := newBot(t, bot.Config{})
	inputs := []string{
		"可以开发票吗", "发票", "票", "开", "能开发票不能开发票不能开发票不", "什么时候发货",
		"几天能到", "优惠券", "券", "物流", "快递到哪了", "包裹", "退货", "怎么退货",
		"你好", "在吗", "谢谢", "？", "🙂🙂", "hello", "INVOICE", "where is my parcel",
		"优惠券怎么用 发票怎么开 快递到哪了", strings.Repeat("发票", 200),
		"ＡＢＣ　１２３", "\u3000", "12345678901", "<script>alert(1)</script>",
	}
	for _, s := range inputs {
		in := bot.Input{Text: s}
		d, err := b.Decide(context.Background(), in)
		if err != nil {
			t.Errorf("Decide(%q): %v", s, err)
			continue
		}
		checkInvariants(t, in, d)
	}
}

func TestDecideClarify(t *testing.T) {
	// Two articles that a short question about coupons matches about equally well.
	couponStore := kb.Article{
		ID: "coupon-store", Title: "店铺优惠券怎么用？", Category: kb.CategoryPresale,
		Questions: []string{"店铺优惠券怎么用", "店铺券在哪里领"},
		Answer:    "亲，店铺券可以在店铺首页领取，下单时选择使用即可。",
	}
	couponPlatform := kb.Article{
		ID: "coupon-platform", Title: "平台优惠券怎么用？", Category: kb.CategoryPresale,
		Questions: []string{"平台优惠券怎么用", "平台券在哪里领"},
		Answer:    "亲，平台券可以在活动会场领取，结算页会自动抵扣。",
	}
	x := newIndex(t, couponStore, couponPlatform, invoice, tracking)
	cfg := bot.Config{Searcher: x, AnswerThreshold: 0.9, ClarifyThreshold: 0.3, ClarifyText: "请问您想问哪一个？"}
	b := newBot(t, cfg)

	in := bot.Input{Text: "优惠券怎么用"}
	d, err := b.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, d)
	if d.Action != triage.Clarify {
		t.Fatalf("action %q reason %q (confidence %.2f, hits %v), want clarify", d.Action, d.Reason, d.Confidence, d.Hits)
	}
	if d.Text != cfg.ClarifyText {
		t.Errorf("text %q, want %q", d.Text, cfg.ClarifyText)
	}
	if d.Confidence < cfg.ClarifyThreshold || d.Confidence >= cfg.AnswerThreshold {
		t.Errorf("confidence %.2f, want in [%.2f, %.2f)", d.Confidence, cfg.ClarifyThreshold, cfg.AnswerThreshold)
	}
	got := map[string]bool{}
	for _, s := range d.Suggestions {
		got[s.ID] = true
	}
	if !got[couponStore.ID] || !got[couponPlatform.ID] {
		t.Errorf("suggestions %v, want both coupon articles", d.Suggestions)
	}
	for i, s := range d.Suggestions {
		if i < len(d.Hits) && s.ID != d.Hits[i].ID {
			t.Errorf("suggestion %d is %s, want hit %d %s", i, s.ID, i, d.Hits[i].ID)
		}
	}

	// Picking a suggestion answers with it.
	in = bot.Input{Text: "优惠券怎么用", ArticleID: couponPlatform.ID}
	d, err = b.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, d)
	if d.Action != triage.Answer || d.Text != couponPlatform.Answer {
		t.Errorf("after picking %s: action %q text %q, want its answer", couponPlatform.ID, d.Action, d.Text)
	}
}

func TestDecideLowConfidence(t *testing.T) {
	// With thresholds no match can reach, a question the index knows is handed off for
	// low confidence, keeping the top article for the agent.
	b := newBot(t, bot.Config{AnswerThreshold: 1, ClarifyThreshold: 1, OutOfScopeThreshold: 0.01})
	in := bot.Input{Text: "开发票要多久"}
	d, err := b.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, d)
	if d.Action != triage.Handoff || d.Reason != triage.ReasonLowConfidence {
		t.Errorf("action %q reason %q (confidence %.2f), want handoff low_confidence", d.Action, d.Reason, d.Confidence)
	}
	if d.Article == nil || d.Article.ID != "invoice" {
		t.Errorf("article %+v, want invoice", d.Article)
	}
}

// failingSearcher is a Searcher whose search fails.
type failingSearcher struct{ err error }

func (f failingSearcher) Search(context.Context, string, int) ([]kb.Hit, error) { return nil, f.err }
func (f failingSearcher) Article(id string) (kb.Article, error) {
	return kb.Article{}, kb.ErrNotFound
}

func TestDecideSearchError(t *testing.T) {
	errDown := errors.New("index unavailable")
	b := newBot(t, bot.Config{Searcher: failingSearcher{err: errDown}})
	for _, in := range []bot.Input{{Text: "可以开发票吗"}, {Text: "转人工"}, {Text: "可以开发票吗", ArticleID: "invoice"}} {
		if d, err := b.Decide(context.Background(), in); !errors.Is(err, errDown) {
			t.Errorf("Decide(%+v) = %+v, %v; want the search error", in, d, err)
		}
	}
}

func TestDecideCanceled(t *testing.T) {
	b := newBot(t, bot.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Decide(ctx, bot.Input{Text: "可以开发票吗"}); err == nil {
		t.Errorf("Decide with a canceled context succeeded")
	}
}

func TestNew(t *testing.T) {
	x := newIndex(t, invoice)
	tests := []struct {
		name string
		cfg  bot.Config
		ok   bool
	}{
		{"defaults", bot.Config{Searcher: x}, true},
		{"equal thresholds", bot.Config{Searcher: x, AnswerThreshold: 0.5, ClarifyThreshold: 0.5}, true},
		{"no searcher", bot.Config{}, false},
		{"clarify above answer", bot.Config{Searcher: x, AnswerThreshold: 0.4, ClarifyThreshold: 0.6}, false},
		{"clarify above default answer", bot.Config{Searcher: x, ClarifyThreshold: 0.8}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bot.New(tt.cfg)
			if tt.ok && (err != nil || b == nil) {
				t.Errorf("New = %v, %v; want a bot", b, err)
			}
			if !tt.ok && (err == nil || b != nil) {
				t.Errorf("New = %v, %v; want an error", b, err)
			}
		})
	}
}

// An after-sales policy (who pays the return postage) is the bot's to answer when an
// article that is not a procedure answers it with confidence in the shopper's own
// words; a case, a complaint or a request for a person still goes to a person.
func TestDecideAfterSalesPolicy(t *testing.T) {
	returnFee := kb.Article{
		ID: "return-shipping-fee", Title: "退货运费谁出？", Category: kb.CategoryAftersale,
		Questions: []string{"退货运费谁承担", "退货邮费谁出", "七天无理由退货要我出运费吗", "退货的快递费谁付"},
		Answer:    "亲，商品质量问题的退货运费由本店承担；七天无理由退货的寄回运费由您承担。",
	}
	b := newBot(t, bot.Config{Searcher: newIndex(t, invoice, shippingTime, coupon, returnProcedure, tracking, returnFee)})
	for _, tt := range []struct {
		text    string
		action  triage.Action
		reason  triage.Reason
		article string
	}{
		{"退货运费谁出？", triage.Answer, "", "return-shipping-fee"},
		{"我要退货", triage.Handoff, triage.ReasonAfterSales, "return-procedure"},
		{"退货运费谁出 转人工", triage.Handoff, triage.ReasonRequested, ""},
		{"退货运费谁出 我要投诉", triage.Handoff, triage.ReasonNegativeSentiment, ""},
	} {
		d, err := b.Decide(context.Background(), bot.Input{Text: tt.text})
		if err != nil {
			t.Fatalf("Decide(%q): %v", tt.text, err)
		}
		checkInvariants(t, bot.Input{Text: tt.text}, d)
		if d.Action != tt.action || d.Reason != tt.reason || tt.article != "" && (d.Article == nil || d.Article.ID != tt.article) {
			t.Errorf("Decide(%q) = %s %s %+v (confidence %.2f), want %s %s %s", tt.text, d.Action, d.Reason, d.Article, d.Confidence, tt.action, tt.reason, tt.article)
		}
		if d.Action == triage.Answer && d.Text != returnFee.Answer {
			t.Errorf("Decide(%q) says %q, want the article's answer", tt.text, d.Text)
		}
	}
}
