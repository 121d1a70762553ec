package knowledge

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb"
)

// Decider is the bot as the shoppers' gateway calls it.
type Decider interface {
	Decide(ctx context.Context, in bot.Input) (bot.Decision, error)
}

// Watch returns d recording, for the editors, every question it hands off for
// low_confidence or out_of_scope. Recording never slows the answer: a question that
// finds the queue to the store full is dropped with a log line.
func (s *Service) Watch(d Decider) Decider { return watcher{d: d, s: s} }

type watcher struct {
	d Decider
	s *Service
}

func (w watcher) Decide(ctx context.Context, in bot.Input) (bot.Decision, error) {
	dec, err := w.d.Decide(ctx, in)
	if err == nil && dec.Action == triage.Handoff && dec.Reason.Unanswered() {
		w.s.record(in.Text, dec)
	}
	return dec, err
}

// Unhelpful puts a question whose bot answer (from article) the shopper said did not
// help in the editors' unanswered inbox, with reason unhelpful (handoff.Unhelpful).
func (s *Service) Unhelpful(question, article string) {
	dec := bot.Decision{Reason: triage.ReasonUnhelpful}
	if article != "" {
		dec.Article = &triage.ArticleRef{ID: article}
	}
	s.record(question, dec)
}

// record queues an unanswered question for the store.
func (s *Service) record(text string, dec bot.Decision) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if r := []rune(text); len(r) > kb.MaxQuestionRunes {
		text = string(r[:kb.MaxQuestionRunes])
	}
	u := kb.Unanswered{Text: text, Reason: dec.Reason, Confidence: dec.Confidence, At: time.Now().UTC()}
	if dec.Article != nil {
		u.Article = dec.Article.ID
	}
	select {
	case s.unanswered <- u:
	default:
		s.log.Warn().Msg("unanswered question not recorded: too many waiting for the store")
	}
}

// saveUnanswered writes recorded questions to the store until ctx ends.
func (s *Service) saveUnanswered(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-s.unanswered:
			if err := s.store.AddUnanswered(ctx, u); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("unanswered question not recorded")
			}
		}
	}
}

// UnansweredGroup is a set of similar unanswered questions.
type UnansweredGroup struct {
	// Text is the group's newest question.
	Text   string          `json:"text"`
	Count  int             `json:"count"`
	Latest time.Time       `json:"latest"`
	Items  []kb.Unanswered `json:"items"`
	// Article is the article the bot came closest with, most often in the group.
	Article      string `json:"article,omitempty"`
	ArticleTitle string `json:"article_title,omitempty"`
}

// groupSimilarity is the overlap of analysed terms (shared terms over the shorter
// question's terms, at least two shared) from which two questions are the same
// question asked again: 「以旧换新怎么弄」 and 「支持以旧换新吗」 share half their terms.
const groupSimilarity = 0.5

// groupUnanswered groups questions (newest first) whose analysed terms overlap, and
// orders the groups by their newest question. tokens is the index's analysis, so that
// 「能开发票吗」 and 「可以开票不」 share terms as the bot sees them.
func groupUnanswered(items []kb.Unanswered, tokens func(string) []string) []UnansweredGroup {
	type group struct {
		UnansweredGroup
		terms    map[string]bool
		articles map[string]int
	}
	var groups []*group
	for _, u := range items {
		ts := tokens(u.Text)
		set := make(map[string]bool, len(ts))
		for _, t := range ts {
			set[t] = true
		}
		norm := strings.ToLower(strings.Join(strings.Fields(u.Text), " "))
		var best *group
		bestSim := 0.0
		for _, g := range groups {
			var sim float64
			if strings.ToLower(strings.Join(strings.Fields(g.Items[0].Text), " ")) == norm {
				sim = 1
			} else {
				sim = overlap(set, g.terms)
			}
			if sim > bestSim {
				best, bestSim = g, sim
			}
		}
		if best == nil || bestSim < groupSimilarity {
			best = &group{UnansweredGroup: UnansweredGroup{Text: u.Text, Latest: u.At}, terms: set, articles: make(map[string]int)}
			groups = append(groups, best)
		}
		best.Items = append(best.Items, u)
		best.Count++
		if u.Article != "" {
			best.articles[u.Article]++
		}
	}
	out := make([]UnansweredGroup, len(groups))
	for i, g := range groups {
		n := 0
		for id, c := range g.articles {
			if c > n || (c == n && id < g.Article) {
				g.Article, n = id, c
			}
		}
		out[i] = g.UnansweredGroup
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Latest.After(out[j].Latest) })
	return out
}

// overlap is the share of the smaller set's terms found in the other, or 0 when they
// share fewer than two terms.
func overlap(a, b map[string]bool) float64 {
	common := 0
	for t := range a {
		if b[t] {
			common++
		}
	}
	if common < 2 {
		return 0
	}
	return float64(common) / float64(min(len(a), len(b)))
}
