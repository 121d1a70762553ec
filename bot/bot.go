package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kefu-im/kefu/internal/contactguard"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb"
	"github.com/rs/zerolog"
)

// Searcher finds articles; *kb.Index is one.
type Searcher interface {
	Search(ctx context.Context, text string, k int) ([]kb.Hit, error)
	Article(id string) (kb.Article, error)
}

var _ Searcher = (*kb.Index)(nil)

// Config configures a Bot.
type Config struct {
	// Searcher is required.
	Searcher Searcher
	// AnswerThreshold is the confidence from which the bot answers; 0 means 0.5.
	AnswerThreshold float64
	// CategoryThresholds overrides AnswerThreshold for the articles of a category
	// (presale, insale, aftersale, policy): a shop may want more certainty before the bot
	// answers a policy question than a pre-sale one.
	CategoryThresholds map[string]float64
	// ClarifyThreshold is the confidence from which the bot offers suggestions instead of
	// handing off; 0 means 0.33.
	ClarifyThreshold float64
	// OutOfScopeThreshold is the confidence under which a miss counts as out of scope
	// rather than low confidence; 0 means 0.2.
	OutOfScopeThreshold float64
	// ClarifyText is the prompt above the suggestions; empty means 「您想问的是以下哪个问题呢？」.
	ClarifyText string
	// TopK is the number of hits the bot looks at; 0 means 5.
	TopK int
	// Phraser, when set, phrases answers from the top articles (an *LLM). On its
	// error the article's own answer is given; when it says the articles do not cover
	// the question, the bot hands off.
	Phraser Phraser
	// ContactGuard checks the text the Phraser words: an answer with outside contact
	// details (a phone number, a WeChat id, a link off the shop's hosts) that a model made
	// up or copied from elsewhere is replaced with the article's own answer. nil means a
	// guard that allows no link host.
	ContactGuard *contactguard.Guard
	Logger       zerolog.Logger
}

// Phraser phrases an answer to a question from articles only; *LLM is one.
type Phraser interface {
	Phrase(ctx context.Context, question string, articles []kb.Article) (Phrasing, error)
}

var _ Phraser = (*LLM)(nil)

// Bot decides on shoppers' messages. It is safe for concurrent use.
type Bot struct {
	cfg Config
	log zerolog.Logger
}

// New returns a Bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Searcher == nil {
		return nil, errors.New("bot: Config.Searcher is required")
	}
	if cfg.AnswerThreshold == 0 {
		cfg.AnswerThreshold = 0.5
	}
	if cfg.ClarifyThreshold == 0 {
		cfg.ClarifyThreshold = 0.33
	}
	if cfg.OutOfScopeThreshold == 0 {
		cfg.OutOfScopeThreshold = 0.2
	}
	if cfg.ContactGuard == nil {
		cfg.ContactGuard = contactguard.New(nil)
	}
	if cfg.ClarifyText == "" {
		cfg.ClarifyText = "您想问的是以下哪个问题呢？"
	}
	if cfg.TopK == 0 {
		cfg.TopK = 5
	}
	if cfg.ClarifyThreshold > cfg.AnswerThreshold {
		return nil, fmt.Errorf("bot: clarify threshold %.2f is above the answer threshold %.2f", cfg.ClarifyThreshold, cfg.AnswerThreshold)
	}
	for cat, t := range cfg.CategoryThresholds {
		if t < cfg.ClarifyThreshold || t > 1 {
			return nil, fmt.Errorf("bot: answer threshold %.2f of category %q is outside [clarify threshold %.2f, 1]", t, cat, cfg.ClarifyThreshold)
		}
	}
	return &Bot{cfg: cfg, log: cfg.Logger}, nil
}

// Input is one shopper message.
type Input struct {
	Text string
	// ArticleID is set when the shopper picked one of the bot's suggestions.
	ArticleID string
	// Previous is the conversation's previous turn with the bot, if any.
	Previous *Turn
}

// Turn is an earlier exchange of the conversation: what the shopper asked and what the
// bot did with it.
type Turn struct {
	Text string
	// Article is the article the bot answered with; empty when it did not answer.
	Article string
	// Weak is true when the bot was unsure: it offered suggestions instead of answering.
	Weak bool
}

// followUpRunes is the length up to which an unclear message is read as a follow-up of
// the previous question (「那要多久？」「运费呢」).
const followUpRunes = 10

// Decide returns the bot's decision on in. Errors come only from the search itself.
func (b *Bot) Decide(ctx context.Context, in Input) (Decision, error) {
	text := Normalize(in.Text)
	if in.ArticleID != "" {
		if a, err := b.cfg.Searcher.Article(in.ArticleID); err == nil {
			d := Decision{Intent: intentOf(a.Category), Confidence: 1, Article: ref(a),
				Hits: []ScoredHit{{ArticleRef: *ref(a), Score: 0, Coverage: 1}}}
			return b.answerOrExplain(d, a), nil
		}
		// An unknown suggestion id is treated as free text.
	}
	// Small talk asks nothing, so it is neither answered nor missed (docs/domain.md
	// rule 16); its reply is the shop's phrase of its intent, which the desk's phrasebook
	// keeps in the conversation's language (handoff.Desk.SmallTalkReply), so the bot
	// says nothing itself. Small talk that opens a question is left out of the search.
	if intent, ok := SmallTalk(text); ok {
		return Decision{Action: triage.SmallTalk, Intent: intent}, nil
	}
	text = trimSmallTalk(text)
	hits, err := b.cfg.Searcher.Search(ctx, text, b.cfg.TopK)
	if err != nil {
		return Decision{}, fmt.Errorf("deciding: %w", err)
	}
	d := Decision{Intent: triage.IntentOther, Hits: scored(hits)}
	var top *kb.Article
	if len(hits) > 0 {
		top = &hits[0].Article
		d.Article = ref(hits[0].Article)
		d.Confidence = confidence(hits)
		d.Intent = intentOf(top.Category)
	}

	answerAt := b.cfg.AnswerThreshold
	if top != nil {
		answerAt = b.answerThreshold(top.Category)
	}

	// The word lists come before retrieval: a shopper who asks for a person or complains
	// gets one, and an after-sales case goes to an after-sales agent. A question about
	// an after-sales policy (「退货运费谁出」, 「退款几天到账」) is answered when an article
	// that is not an after-sales procedure answers it with confidence and its own
	// questions use the same word.
	if rules := rulesOf(text); len(rules) > 0 {
		answers := top != nil && !top.AfterSales && d.Confidence >= answerAt
		for _, r := range rules {
			answers = answers && r.reason == triage.ReasonAfterSales && mentions(*top, r.word)
		}
		if !answers {
			if r := rules[0]; r.reason != triage.ReasonAfterSales {
				return handoff(d, r.reason), nil
			}
			d.Intent = triage.IntentAftersale
			d = handoff(d, triage.ReasonAfterSales)
			if top != nil && d.Confidence >= answerAt {
				// Explain the procedure or the policy while the shopper waits.
				d.Text = top.Answer
			}
			return d, nil
		}
	}

	if d.Confidence < answerAt {
		if f, ok := b.followUp(ctx, text, in.Previous); ok {
			return f, nil
		}
	}

	switch {
	case top == nil || d.Confidence < b.cfg.OutOfScopeThreshold:
		d.Intent = triage.IntentOther // the top hit is too weak to say what the shopper wants
		return handoff(d, triage.ReasonOutOfScope), nil
	case d.Confidence >= answerAt:
		d = b.answerOrExplain(d, *top)
		if d.Action == triage.Answer && b.cfg.Phraser != nil {
			d = b.phrase(ctx, d, in.Text, hits)
		}
		return d, nil
	case d.Confidence >= b.cfg.ClarifyThreshold && top.AfterSales:
		// Most likely an after-sales case: a person's job, whatever the shopper picks.
		d.Intent = triage.IntentAftersale
		return handoff(d, triage.ReasonAfterSales), nil
	case d.Confidence >= b.cfg.ClarifyThreshold && len(hits) > 1:
		if in.Previous != nil && in.Previous.Weak {
			// Two unsure turns in a row: offering more suggestions would go in circles.
			return handoff(d, triage.ReasonRepeatedMiss), nil
		}
		d.Action = triage.Clarify
		d.Text = b.cfg.ClarifyText
		for i := 0; i < len(hits) && i < 3; i++ {
			d.Suggestions = append(d.Suggestions, *ref(hits[i].Article))
		}
		return d, nil
	default:
		return handoff(d, triage.ReasonLowConfidence), nil
	}
}

// answerThreshold is the confidence from which an article of category is given as the
// answer.
func (b *Bot) answerThreshold(category string) float64 {
	if t, ok := b.cfg.CategoryThresholds[category]; ok {
		return t
	}
	return b.cfg.AnswerThreshold
}

// phrase lets the Phraser word the answer from the top articles. The decision keeps
// the article's own answer when the Phraser fails or words outside contact details
// (docs/domain.md rule 4 holds for the bot as for agents), and becomes a hand-off when it says
// the articles do not cover the question.
func (b *Bot) phrase(ctx context.Context, d Decision, question string, hits []kb.Hit) Decision {
	arts := make([]kb.Article, 0, 3)
	for i := 0; i < len(hits) && i < 3; i++ {
		arts = append(arts, hits[i].Article)
	}
	p, err := b.cfg.Phraser.Phrase(ctx, question, arts)
	if err != nil {
		b.log.Warn().Err(err).Msg("llm phrasing failed; answering with the article")
		return d
	}
	if !p.Covered {
		return handoff(d, triage.ReasonOutOfScope)
	}
	for _, a := range arts {
		if a.ID == p.ArticleID {
			if found := b.cfg.ContactGuard.Check(p.Text); len(found) > 0 {
				masked := make([]string, len(found))
				for i, f := range found {
					masked[i] = f.Kind + " " + f.Masked
				}
				b.log.Warn().Strs("found", masked).Str("article", a.ID).
					Msg("llm wording has outside contact details; answering with the article")
				return d
			}
			d.Article, d.Text, d.Phrased = ref(a), p.Text, true
			return d
		}
	}
	return d
}

// followUp reads a short, unclear message as a follow-up of the previous question that
// the bot answered: 「那要多久？」 after an answer about refunds is a question about
// refunds. It searches the two questions together and answers only when that is
// confident.
func (b *Bot) followUp(ctx context.Context, text string, prev *Turn) (Decision, bool) {
	if prev == nil || prev.Article == "" || prev.Text == "" || len([]rune(text)) > followUpRunes {
		return Decision{}, false
	}
	hits, err := b.cfg.Searcher.Search(ctx, Normalize(prev.Text)+" "+text, b.cfg.TopK)
	if err != nil || len(hits) == 0 {
		return Decision{}, false
	}
	d := Decision{Intent: intentOf(hits[0].Article.Category), Hits: scored(hits), Article: ref(hits[0].Article), Confidence: confidence(hits)}
	if d.Confidence < b.answerThreshold(hits[0].Article.Category) || hits[0].Article.ID == prev.Article {
		// Repeating the answer just given helps no one.
		return Decision{}, false
	}
	return b.answerOrExplain(d, hits[0].Article), true
}

// answerOrExplain answers with a's text; an after-sales procedure is explained and still
// handed off.
func (b *Bot) answerOrExplain(d Decision, a kb.Article) Decision {
	d.Text = a.Answer
	if a.AfterSales {
		d.Intent = triage.IntentAftersale
		d.Action = triage.Handoff
		d.Reason = triage.ReasonAfterSales
		return d
	}
	d.Action = triage.Answer
	return d
}

func handoff(d Decision, reason triage.Reason) Decision {
	d.Action = triage.Handoff
	d.Reason = reason
	d.Text = ""
	return d
}

// confidence maps the hits to 0..1. Raw retrieval scores depend on the question's
// length and the index's statistics, so they mean nothing across questions. What does:
// the top article's classifier's belief that the question is one of its own (Prob), how
// much of the question the article's title and questions cover (Coverage), how closely
// it matches one of them as a whole (Overlap: a three-word question that hits one word
// of a long question is no match), and the margin to the second article's belief, which
// lowers the confidence when two articles are about equally likely.
func confidence(hits []kb.Hit) float64 {
	top := hits[0]
	margin := 1.0
	if len(hits) > 1 && top.Prob > 0 {
		margin = max(0, top.Prob-hits[1].Prob) / top.Prob
	}
	lexical := (top.Coverage + top.Overlap) / 2
	return math.Sqrt(top.Prob*lexical) * (0.75 + 0.25*margin)
}

func intentOf(category string) triage.Intent {
	switch category {
	case kb.CategoryPresale:
		return triage.IntentPresale
	case kb.CategoryInsale:
		return triage.IntentInsale
	case kb.CategoryAftersale:
		return triage.IntentAftersale
	}
	return triage.IntentOther
}

func ref(a kb.Article) *triage.ArticleRef {
	return &triage.ArticleRef{ID: a.ID, Title: strings.TrimSpace(a.Title), Category: a.Category}
}

func scored(hits []kb.Hit) []ScoredHit {
	out := make([]ScoredHit, len(hits))
	for i, h := range hits {
		out[i] = ScoredHit{ArticleRef: *ref(h.Article), Score: h.Prob, Coverage: h.Coverage}
	}
	return out
}
