package bot

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/triage"
)

// fixedDecider answers each text with a prepared decision.
type fixedDecider map[string]Decision

func (f fixedDecider) Decide(_ context.Context, in Input) (Decision, error) { return f[in.Text], nil }

func hitsOf(ids ...string) []ScoredHit {
	out := make([]ScoredHit, len(ids))
	for i, id := range ids {
		out[i] = ScoredHit{ArticleRef: triage.ArticleRef{ID: id}}
	}
	return out
}

func TestEvaluateMetrics(t *testing.T) {
	a, b := &triage.ArticleRef{ID: "a"}, &triage.ArticleRef{ID: "b"}
	dec := fixedDecider{
		"right":   {Action: triage.Answer, Article: a, Hits: hitsOf("a", "b")},
		"second":  {Action: triage.Answer, Article: b, Hits: hitsOf("b", "a")},
		"unsure":  {Action: triage.Clarify, Article: b, Suggestions: []triage.ArticleRef{*b, *a}, Hits: hitsOf("b", "a")},
		"gaveup":  {Action: triage.Handoff, Reason: triage.ReasonLowConfidence, Article: a, Hits: hitsOf("a")},
		"return":  {Action: triage.Handoff, Reason: triage.ReasonAfterSales, Article: a, Hits: hitsOf("a")},
		"weather": {Action: triage.Handoff, Reason: triage.ReasonOutOfScope, Hits: hitsOf("b")},
		"chat":    {Action: triage.Answer, Article: b, Hits: hitsOf("b")},
	}
	qs := []Question{
		{Text: "right", Expect: triage.Answer, Article: "a"},                                    // p@1, answered right
		{Text: "second", Expect: triage.Answer, Article: "a"},                                   // rank 2
		{Text: "unsure", Expect: triage.Answer, Article: "b"},                                   // rank 1, clarify
		{Text: "gaveup", Expect: triage.Answer, Article: "a"},                                   // rank 1, wrongly handed off
		{Text: "return", Expect: triage.Handoff, Reason: triage.ReasonAfterSales, Article: "a"}, // recall hit
		{Text: "weather", Expect: triage.Handoff, Reason: triage.ReasonOutOfScope},              // recall hit
		{Text: "chat", Expect: triage.Handoff, Reason: triage.ReasonOutOfScope},                 // recall miss
	}
	rep, err := Evaluate(context.Background(), dec, qs)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Metrics()
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("precision@1", m.PrecisionAt1, 4.0/5)            // right, unsure, gaveup, return of 5 with an article
	near("MRR", m.MRR, (1+0.5+1+1+1)/5.0)                 //
	near("answered right", m.AnsweredRight, 1.0/4)        // only "right"
	near("wrongly handed off", m.WronglyHandedOff, 1.0/4) // "gaveup"
	near("after-sales recall", m.AfterSalesRecall, 1)     //
	near("out-of-scope recall", m.OutOfScopeRecall, 0.5)  // weather yes, chat no
	near("HINT3 accuracy", m.HINT3Accuracy, 4.0/7)        // right, unsure(b), return(a), weather(oos)
	near("answer precision", m.AnswerPrecision, 1.0/3)    // right of right, second, chat
	if m.Answers != 3 {
		t.Errorf("answers = %d, want 3", m.Answers)
	}
	var out strings.Builder
	rep.Write(&out, "test", 10)
	for _, want := range []string{"precision@1            0.800", `"second"`, `"gaveup"`, `"chat"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), `"right"`) {
		t.Errorf("report lists a question the bot got right:\n%s", out.String())
	}
}

func TestReadQuestions(t *testing.T) {
	qs, err := ReadQuestions(strings.NewReader(`{"text":"a","expect":"answer","article":"x"}

{"text":"b","expect":"handoff","reason":"out_of_scope"}`))
	if err != nil || len(qs) != 2 || qs[1].Reason != triage.ReasonOutOfScope {
		t.Fatalf("ReadQuestions = %+v, %v", qs, err)
	}
	for _, bad := range []string{`{"text":"a","expect":"maybe"}`, `{"expect":"answer"}`, `not json`} {
		if _, err := ReadQuestions(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadQuestions(%s) succeeded", bad)
		}
	}
}

func TestEvaluateSmallTalk(t *testing.T) {
	dec := fixedDecider{
		"hi":       {Action: triage.SmallTalk, Intent: triage.IntentGreeting},
		"ty":       {Action: triage.SmallTalk, Intent: triage.IntentAck},
		"ok":       {Action: triage.Handoff, Reason: triage.ReasonOutOfScope},
		"hi, ship": {Action: triage.SmallTalk, Intent: triage.IntentGreeting},
		"hi, tax":  {Action: triage.Answer, Article: &triage.ArticleRef{ID: "tax"}},
	}
	qs := []Question{
		{Text: "hi", Expect: triage.SmallTalk, Intent: triage.IntentGreeting}, // right
		{Text: "ty", Expect: triage.SmallTalk, Intent: triage.IntentThanks},   // small talk, wrong intent
		{Text: "ok", Expect: triage.SmallTalk, Intent: triage.IntentAck},      // missed
		{Text: "hi, ship", Expect: ExpectQuestion},                            // wrongly small talk
		{Text: "hi, tax", Expect: ExpectQuestion},                             // right
	}
	rep, err := Evaluate(context.Background(), dec, qs)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Metrics()
	if m.SmallTalk != 3 || m.SmallTalkSaid != 3 || m.SmallTalkRight != 2 || m.SmallTalkIntent != 1 {
		t.Errorf("small talk %d, said %d, right %d, right intent %d; want 3, 3, 2, 1", m.SmallTalk, m.SmallTalkSaid, m.SmallTalkRight, m.SmallTalkIntent)
	}
	if math.Abs(m.SmallTalkPrecision-2.0/3) > 1e-9 || math.Abs(m.SmallTalkRecall-2.0/3) > 1e-9 {
		t.Errorf("precision %v, recall %v; want 2/3 each", m.SmallTalkPrecision, m.SmallTalkRecall)
	}
	var out strings.Builder
	rep.Write(&out, "test", 10)
	for _, want := range []string{"small talk             precision 0.667", `"ty"`, `"ok"`, `"hi, ship"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), `"hi, tax"`) {
		t.Errorf("report lists a question the bot got right:\n%s", out.String())
	}
	if _, err := ReadQuestions(strings.NewReader(`{"text":"hi","expect":"smalltalk"}`)); err == nil {
		t.Error("small talk without an intent was read")
	}
	if _, err := ReadQuestions(strings.NewReader(`{"text":"hi","expect":"question","intent":"greeting"}`)); err == nil {
		t.Error("an intent on a question was read")
	}
}
