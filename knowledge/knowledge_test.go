package knowledge_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
	"github.com/kefu-im/kefu/knowledge"
	"gopkg.in/yaml.v3"
)

func bundled(t *testing.T) []kb.Article {
	t.Helper()
	arts, err := knowledge.Bundled()
	if err != nil {
		t.Fatalf("Bundled: %v", err)
	}
	return arts
}

func TestBundled(t *testing.T) {
	arts := bundled(t)
	if len(arts) < 30 {
		t.Errorf("Bundled has %d articles, want at least 30", len(arts))
	}
	byID := make(map[string]kb.Article)
	perCategory := make(map[string]int)
	for _, a := range arts {
		if _, dup := byID[a.ID]; dup {
			t.Errorf("id %q is used twice", a.ID)
		}
		byID[a.ID] = a
		perCategory[a.Category]++
		if err := a.Validate(); err != nil {
			t.Errorf("%s: %v", a.ID, err)
		}
		if len(a.Questions) < 3 {
			t.Errorf("%s has %d questions, want at least 3", a.ID, len(a.Questions))
		}
	}
	for _, c := range []string{kb.CategoryPresale, kb.CategoryInsale, kb.CategoryAftersale} {
		if perCategory[c] == 0 {
			t.Errorf("no article in category %s", c)
		}
	}
	for c := range perCategory {
		switch c {
		case kb.CategoryPresale, kb.CategoryInsale, kb.CategoryAftersale, kb.CategoryPolicy:
		default:
			t.Errorf("unknown category %q", c)
		}
	}

	// After-sales procedures are explained by the bot and still handed to an agent.
	for _, id := range []string{"return-procedure", "exchange-procedure", "refund-procedure", "repair-warranty", "damaged-item", "wrong-item"} {
		a, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("no article %s", id)
		case !a.AfterSales:
			t.Errorf("%s: AfterSales = false, want true", id)
		case a.Category != kb.CategoryAftersale:
			t.Errorf("%s: category %q, want %q", id, a.Category, kb.CategoryAftersale)
		}
	}
}

func TestBundledAnswers(t *testing.T) {
	phone := regexp.MustCompile(`\d{7,}`)
	for _, a := range bundled(t) {
		if n := utf8.RuneCountInString(a.Answer); n <= 10 {
			t.Errorf("%s: answer %q has %d characters, want more than 10", a.ID, a.Answer, n)
		}
		if m := phone.FindString(a.Answer); m != "" {
			t.Errorf("%s: answer contains a phone number %q", a.ID, m)
		}
		// Shoppers are served in the chat window only; an answer never points elsewhere.
		for _, w := range []string{"微信", "QQ", "http"} {
			if strings.Contains(strings.ToLower(a.Answer), strings.ToLower(w)) {
				t.Errorf("%s: answer mentions %q", a.ID, w)
			}
		}
	}
}

func TestPhrases(t *testing.T) {
	p, err := knowledge.Phrases()
	if err != nil {
		t.Fatalf("Phrases: %v", err)
	}
	for _, key := range []string{"greeting", "transfer_presale", "transfer_aftersale", "agent_joined", "closing", "clarify"} {
		if strings.TrimSpace(p[key]) == "" {
			t.Errorf("phrase %q is missing or empty", key)
		}
	}
	if !strings.Contains(p["agent_joined"], "{agent}") {
		t.Errorf("agent_joined %q has no {agent} placeholder", p["agent_joined"])
	}
}

// TestSmallTalkPhrases: every reply to small talk is in phrases.yaml and, under the same
// key, in phrases.en.yaml, and none is a one-word reply.
func TestSmallTalkPhrases(t *testing.T) {
	zh, err := knowledge.Phrases()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("phrases.en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]any
	if err := yaml.Unmarshal(b, &en); err != nil {
		t.Fatalf("parsing phrases.en.yaml: %v", err)
	}
	for _, key := range []string{"smalltalk_greeting", "smalltalk_thanks", "smalltalk_thanks_more", "smalltalk_goodbye",
		"smalltalk_presence", "smalltalk_presence_queued", "smalltalk_queued", "smalltalk_ack"} {
		e, _ := en[key].(string)
		for lang, text := range map[string]string{"zh": zh[key], "en": e} {
			if utf8.RuneCountInString(strings.TrimSpace(text)) < 6 {
				t.Errorf("%s phrase %q is missing or too short: %q", lang, key, text)
			}
		}
	}
}

// writeFiles writes files (name → content) into a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	invoiceMD  = "---\nid: invoice\ntitle: 可以开发票吗？\ncategory: presale\nquestions: [能开发票不]\n---\n可以的亲，本店所有商品都可以开具发票。\n"
	trackingMD = "---\nid: tracking\ntitle: 我的快递到哪了？\ncategory: insale\nquestions: [物流到哪了]\n---\n亲，您可以在订单详情中查看物流信息。\n"
)

func TestLoadDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b-tracking.md": trackingMD,
		"a-invoice.md":  invoiceMD,
		"README.md":     "# Knowledge\n\nOne article per file, with front matter.\n",
		"notes.txt":     "not an article",
	})
	arts, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	var got []string
	for _, a := range arts {
		got = append(got, a.ID)
	}
	if strings.Join(got, ",") != "invoice,tracking" {
		t.Errorf("LoadDir loaded %v, want [invoice tracking] in file name order", got)
	}
}

func TestLoadDirDuplicateID(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"invoice.md":  invoiceMD,
		"invoice2.md": strings.Replace(invoiceMD, "title: 可以开发票吗？", "title: 能开票吗？", 1),
	})
	arts, err := knowledge.LoadDir(dir)
	if !errors.Is(err, kb.ErrInvalid) {
		t.Fatalf("LoadDir = %d articles, %v; want an error wrapping ErrInvalid", len(arts), err)
	}
	if !strings.Contains(err.Error(), "invoice.md") || !strings.Contains(err.Error(), "invoice2.md") {
		t.Errorf("error %q does not name both files", err)
	}
}

func TestLoadDirInvalidArticle(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"invoice.md": invoiceMD,
		"broken.md":  "no front matter here\n",
	})
	if _, err := knowledge.LoadDir(dir); !errors.Is(err, kb.ErrInvalid) || !strings.Contains(err.Error(), "broken.md") {
		t.Errorf("LoadDir = %v, want an error wrapping ErrInvalid that names broken.md", err)
	}
}

func TestLoadDirMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	if arts, err := knowledge.LoadDir(dir); err == nil {
		t.Errorf("LoadDir(%s) = %d articles, nil; want an error", dir, len(arts))
	}
}

// TestBundledBot runs the bot over the bundled knowledge: the promise of the product is
// that a shopper's common questions are answered and after-sales cases reach an agent.
func TestBundledBot(t *testing.T) {
	ctx := context.Background()
	arts := bundled(t)
	x := kbtest.Index(t, arts...)
	if x.Len() != len(arts) {
		t.Fatalf("index holds %d articles, want %d", x.Len(), len(arts))
	}
	phrases, err := knowledge.Phrases()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.Config{Searcher: x, ClarifyText: phrases["clarify"]})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		text    string
		action  triage.Action
		reason  triage.Reason
		article string
		intent  triage.Intent
	}{
		{text: "可以开发票吗？", action: triage.Answer, article: "invoice-available", intent: triage.IntentPresale},
		{text: "我要退货", action: triage.Handoff, reason: triage.ReasonAfterSales, intent: triage.IntentAftersale},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			d, err := b.Decide(ctx, bot.Input{Text: tt.text})
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if d.Action != tt.action || d.Reason != tt.reason || d.Intent != tt.intent {
				t.Errorf("Decide(%q) = %s/%s intent %s (confidence %.2f, hits %v), want %s/%s intent %s",
					tt.text, d.Action, d.Reason, d.Intent, d.Confidence, d.Hits, tt.action, tt.reason, tt.intent)
			}
			if tt.article != "" {
				a, err := x.Article(tt.article)
				if err != nil {
					t.Fatal(err)
				}
				if d.Article == nil || d.Article.ID != tt.article || d.Text != a.Answer {
					t.Errorf("Decide(%q): article %+v text %q, want %s and its answer", tt.text, d.Article, d.Text, tt.article)
				}
			}
		})
	}
}

// TestEvalSetNotCopied keeps the project's labelled set honest: no question of it may be
// one of the bundled articles' own questions, or that question with a word or two added
// or left out (one contains the other and is at most a fifth longer), after the bot's
// normalisation (full-width, case, punctuation).
func TestEvalSetNotCopied(t *testing.T) {
	f, err := os.Open(filepath.Join("eval", "questions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs, err := bot.ReadQuestions(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 300 {
		t.Errorf("eval set has %d questions, want at least 300", len(qs))
	}
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r
			}
			return -1
		}, bot.Normalize(s))
	}
	var own []string
	for _, a := range bundled(t) {
		for _, q := range append([]string{a.Title}, a.Questions...) {
			if s := strip(q); utf8.RuneCountInString(s) >= 4 {
				own = append(own, s)
			}
		}
	}
	for _, q := range qs {
		e := strip(q.Text)
		if e == "" {
			continue // "？？？", "👍": nothing to copy
		}
		for _, o := range own {
			short, long := e, o
			if len(short) > len(long) {
				short, long = long, short
			}
			if strings.Contains(long, short) && utf8.RuneCountInString(long)*4 <= utf8.RuneCountInString(short)*5 {
				t.Errorf("eval question %q copies article question %q", q.Text, o)
				break
			}
		}
	}
}

// TestSmallTalkEvalSet: the labelled small-talk set reads, and holds small talk of every
// intent and real questions around small talk (the negatives).
func TestSmallTalkEvalSet(t *testing.T) {
	f, err := os.Open(filepath.Join("eval", "smalltalk.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs, err := bot.ReadQuestions(f)
	if err != nil {
		t.Fatal(err)
	}
	intents := map[triage.Intent]int{}
	for _, q := range qs {
		switch q.Expect {
		case triage.SmallTalk:
			intents[q.Intent]++
		case bot.ExpectQuestion:
			intents[""]++
		default:
			t.Errorf("%q expects %s, want smalltalk or question", q.Text, q.Expect)
		}
	}
	for _, i := range []triage.Intent{triage.IntentGreeting, triage.IntentThanks, triage.IntentGoodbye, triage.IntentPresence, triage.IntentAck} {
		if intents[i] < 10 {
			t.Errorf("%d messages of intent %s, want at least 10", intents[i], i)
		}
	}
	if intents[""] < 50 {
		t.Errorf("%d negatives, want at least 50", intents[""])
	}
}
