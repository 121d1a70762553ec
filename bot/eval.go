package bot

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kefu-im/kefu/internal/triage"
)

// Question is one labelled question of an evaluation set (JSON Lines, the format of
// knowledge/eval/README.md).
type Question struct {
	Text string `json:"text"`
	// Expect is triage.Answer, triage.Handoff, triage.SmallTalk (with Intent), or
	// ExpectQuestion.
	Expect triage.Action `json:"expect"`
	// Intent is the small-talk intent (greeting, thanks, goodbye, presence, ack) of a
	// question that expects triage.SmallTalk.
	Intent triage.Intent `json:"intent,omitempty"`
	// Reason is the expected hand-off reason: after_sales, requested or out_of_scope.
	Reason triage.Reason `json:"reason,omitempty"`
	// Article is the right article, when there is one.
	Article  string `json:"article,omitempty"`
	Category string `json:"category,omitempty"`
}

// ExpectQuestion labels a message that must not be read as small talk, whatever the bot
// then does with it: a real question opened or closed by small talk (「你好，我想退货」).
const ExpectQuestion triage.Action = "question"

// ReadQuestions reads labelled questions in JSON Lines.
func ReadQuestions(r io.Reader) ([]Question, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Question
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var q Question
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return nil, fmt.Errorf("question line %d: %w", n, err)
		}
		switch {
		case q.Text == "" || (q.Expect != triage.Answer && q.Expect != triage.Handoff && q.Expect != triage.SmallTalk && q.Expect != ExpectQuestion):
			return nil, fmt.Errorf("question line %d: needs text and expect answer|handoff|smalltalk|question", n)
		case (q.Expect == triage.SmallTalk) != q.Intent.SmallTalk():
			return nil, fmt.Errorf("question line %d: expect smalltalk goes with an intent greeting|thanks|goodbye|presence|ack, and only it", n)
		}
		out = append(out, q)
	}
	return out, sc.Err()
}

// OutOfScope is the prediction "no article" in the HINT3 accuracy.
const OutOfScope = "out_of_scope"

// Result is the bot's decision on one question.
type Result struct {
	Question Question
	Decision Decision
	// Rank is the 1-based rank of the right article among the hits, 0 if absent.
	Rank int
	// Prediction is the HINT3 prediction: the top article (the first suggestion for a
	// clarify), or OutOfScope for a hand-off for low confidence or out of scope.
	Prediction string
}

// Report is the outcome of an evaluation.
type Report struct {
	Results []Result
}

// Evaluate runs every question through d, one fresh conversation each.
func Evaluate(ctx context.Context, d interface {
	Decide(context.Context, Input) (Decision, error)
}, qs []Question) (*Report, error) {
	rep := &Report{Results: make([]Result, 0, len(qs))}
	for _, q := range qs {
		dec, err := d.Decide(ctx, Input{Text: q.Text})
		if err != nil {
			return nil, fmt.Errorf("deciding %q: %w", q.Text, err)
		}
		r := Result{Question: q, Decision: dec, Prediction: prediction(dec)}
		for i, h := range dec.Hits {
			if q.Article != "" && h.ID == q.Article {
				r.Rank = i + 1
				break
			}
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

func prediction(d Decision) string {
	switch {
	case d.Action == triage.Handoff && (d.Reason == triage.ReasonLowConfidence || d.Reason == triage.ReasonOutOfScope):
		return OutOfScope
	case d.Action == triage.Clarify && len(d.Suggestions) > 0:
		return d.Suggestions[0].ID
	case d.Article != nil:
		return d.Article.ID
	}
	return OutOfScope
}

// Metrics are the figures of a report.
type Metrics struct {
	Questions int
	// PrecisionAt1 and MRR are over questions that name an article.
	WithArticle  int
	PrecisionAt1 float64
	MRR          float64
	// Answerable questions (expect answer): how many were answered with the right
	// article, and how many were wrongly handed off.
	Answerable       int
	AnsweredRight    float64
	WronglyHandedOff float64
	// Answers is how many questions the bot answered; AnswerPrecision the share of
	// them answered with the right article (an answer to a question that needs a
	// person, or has no article, is wrong).
	Answers         int
	AnswerPrecision float64
	// Recall of hand-offs by expected reason.
	AfterSales, Requested, OutOfScope int
	AfterSalesRecall                  float64
	RequestedRecall                   float64
	OutOfScopeRecall                  float64
	// HINT3Accuracy is the share of predictions equal to the label (the article, or
	// OutOfScope for a question without one).
	HINT3Accuracy float64
	// Small talk: how many questions expect it, how many the bot read as small talk,
	// and how many of those expect it (SmallTalkRight) with the right intent
	// (SmallTalkIntent). Precision is over what the bot read, recall over what is.
	SmallTalk, SmallTalkSaid, SmallTalkRight, SmallTalkIntent int
	SmallTalkPrecision, SmallTalkRecall                       float64
}

// Metrics computes the figures.
func (r *Report) Metrics() Metrics {
	var m Metrics
	var p1, rr, ansRight, wrongHand, hint3, rightAnswers float64
	// recall counts, by the reason a question should be handed off for, the questions
	// and those the bot handed off.
	type tally struct{ n, hit int }
	recall := map[triage.Reason]*tally{
		triage.ReasonAfterSales: {}, triage.ReasonRequested: {}, triage.ReasonOutOfScope: {},
	}
	for _, x := range r.Results {
		q, d := x.Question, x.Decision
		m.Questions++
		label := q.Article
		if label == "" {
			label = OutOfScope
		}
		if x.Prediction == label {
			hint3++
		}
		if q.Article != "" {
			m.WithArticle++
			if x.Rank == 1 {
				p1++
			}
			if x.Rank > 0 {
				rr += 1 / float64(x.Rank)
			}
		}
		if q.Expect == triage.SmallTalk {
			m.SmallTalk++
		}
		if d.Action == triage.SmallTalk {
			m.SmallTalkSaid++
			if q.Expect == triage.SmallTalk {
				m.SmallTalkRight++
				if d.Intent == q.Intent {
					m.SmallTalkIntent++
				}
			}
		}
		handed := d.Action == triage.Handoff
		if d.Action == triage.Answer {
			m.Answers++
			if q.Expect == triage.Answer && d.Article != nil && d.Article.ID == q.Article {
				rightAnswers++
			}
		}
		switch {
		case q.Expect == triage.Answer:
			m.Answerable++
			if d.Action == triage.Answer && d.Article != nil && d.Article.ID == q.Article {
				ansRight++
			}
			if handed {
				wrongHand++
			}
		case recall[q.Reason] != nil:
			recall[q.Reason].n++
			if handed {
				recall[q.Reason].hit++
			}
		}
	}
	div := func(a float64, b int) float64 {
		if b == 0 {
			return 0
		}
		return a / float64(b)
	}
	m.PrecisionAt1, m.MRR = div(p1, m.WithArticle), div(rr, m.WithArticle)
	m.AnsweredRight, m.WronglyHandedOff = div(ansRight, m.Answerable), div(wrongHand, m.Answerable)
	as, req, oos := recall[triage.ReasonAfterSales], recall[triage.ReasonRequested], recall[triage.ReasonOutOfScope]
	m.AfterSales, m.Requested, m.OutOfScope = as.n, req.n, oos.n
	m.AfterSalesRecall, m.RequestedRecall, m.OutOfScopeRecall = div(float64(as.hit), as.n), div(float64(req.hit), req.n), div(float64(oos.hit), oos.n)
	m.HINT3Accuracy = div(hint3, m.Questions)
	m.AnswerPrecision = div(rightAnswers, m.Answers)
	m.SmallTalkPrecision, m.SmallTalkRecall = div(float64(m.SmallTalkRight), m.SmallTalkSaid), div(float64(m.SmallTalkRight), m.SmallTalk)
	return m
}

// Write prints the metrics, a per-category table and up to misses misses.
func (r *Report) Write(w io.Writer, title string, misses int) {
	m := r.Metrics()
	fmt.Fprintf(w, "== %s: %d questions\n", title, m.Questions)
	if m.Answerable+m.AfterSales+m.Requested+m.OutOfScope == 0 {
		// A set of small talk and questions around it: only the small-talk figures mean
		// anything.
		r.writeSmallTalk(w, m)
		r.writeMisses(w, misses)
		return
	}
	fmt.Fprintf(w, "precision@1            %.3f  (over %d questions with an article)\n", m.PrecisionAt1, m.WithArticle)
	fmt.Fprintf(w, "MRR                    %.3f\n", m.MRR)
	fmt.Fprintf(w, "answered right         %.3f  (of %d answerable)\n", m.AnsweredRight, m.Answerable)
	fmt.Fprintf(w, "answerable handed off  %.3f\n", m.WronglyHandedOff)
	fmt.Fprintf(w, "answers right          %.3f  (of %d answers)\n", m.AnswerPrecision, m.Answers)
	fmt.Fprintf(w, "hand-off recall        after_sales %.3f (%d)  requested %.3f (%d)  out_of_scope %.3f (%d)\n",
		m.AfterSalesRecall, m.AfterSales, m.RequestedRecall, m.Requested, m.OutOfScopeRecall, m.OutOfScope)
	fmt.Fprintf(w, "HINT3 accuracy         %.3f\n", m.HINT3Accuracy)
	if m.SmallTalk > 0 || m.SmallTalkSaid > 0 {
		r.writeSmallTalk(w, m)
	}

	type row struct{ n, p1n, p1, handed, answered int }
	cats := make(map[string]*row)
	for _, x := range r.Results {
		c := x.Question.Category
		if c == "" {
			c = "-"
		}
		if cats[c] == nil {
			cats[c] = &row{}
		}
		rw := cats[c]
		rw.n++
		if x.Question.Article != "" {
			rw.p1n++
			if x.Rank == 1 {
				rw.p1++
			}
		}
		switch x.Decision.Action {
		case triage.Handoff:
			rw.handed++
		case triage.Answer:
			rw.answered++
		}
	}
	names := make([]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "%-10s %6s %8s %9s %9s\n", "category", "n", "p@1", "answered", "handoff")
	for _, c := range names {
		rw := cats[c]
		p := "-"
		if rw.p1n > 0 {
			p = fmt.Sprintf("%.3f", float64(rw.p1)/float64(rw.p1n))
		}
		fmt.Fprintf(w, "%-10s %6d %8s %9.3f %9.3f\n", c, rw.n, p, float64(rw.answered)/float64(rw.n), float64(rw.handed)/float64(rw.n))
	}
	r.writeMisses(w, misses)
}

// writeSmallTalk prints the small-talk figures.
func (r *Report) writeSmallTalk(w io.Writer, m Metrics) {
	if m.SmallTalk == 0 {
		// A set without small-talk labels (the public ones): only how much the bot
		// read as small talk says anything.
		fmt.Fprintf(w, "small talk             %d read as small talk (the set labels none)\n", m.SmallTalkSaid)
		return
	}
	fmt.Fprintf(w, "small talk             precision %.3f (of %d read as small talk)  recall %.3f (of %d)  right intent %d of %d\n",
		m.SmallTalkPrecision, m.SmallTalkSaid, m.SmallTalkRecall, m.SmallTalk, m.SmallTalkIntent, m.SmallTalkRight)
}

// writeMisses prints up to misses questions the bot got wrong.
func (r *Report) writeMisses(w io.Writer, misses int) {
	if misses <= 0 {
		return
	}
	fmt.Fprintf(w, "misses (first %d):\n", misses)
	shown := 0
	for _, x := range r.Results {
		if shown >= misses {
			break
		}
		if miss := missReason(x); miss != "" {
			fmt.Fprintf(w, "  %-50q %s\n", x.Question.Text, miss)
			shown++
		}
	}
}

// missReason says how the bot got a question wrong, or "" when it did not.
func missReason(x Result) string {
	q, d := x.Question, x.Decision
	got := string(d.Action)
	if d.Reason != "" {
		got += "/" + string(d.Reason)
	}
	if d.Article != nil {
		got += " " + d.Article.ID
	}
	got += fmt.Sprintf(" (%.2f)", d.Confidence)
	if d.Action == triage.SmallTalk {
		got = "smalltalk/" + string(d.Intent)
	}
	switch {
	case q.Expect == triage.SmallTalk && (d.Action != triage.SmallTalk || d.Intent != q.Intent):
		return "want smalltalk/" + string(q.Intent) + ", got " + got
	case q.Expect != triage.SmallTalk && d.Action == triage.SmallTalk:
		return "want " + string(q.Expect) + ", got " + got
	case q.Expect == triage.Answer && (d.Action != triage.Answer || d.Article == nil || d.Article.ID != q.Article):
		return "want answer " + q.Article + ", got " + got
	case q.Expect == triage.Handoff && d.Action != triage.Handoff:
		return "want handoff/" + string(q.Reason) + ", got " + got
	}
	return ""
}
