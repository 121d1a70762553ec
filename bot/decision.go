package bot

import "github.com/kefu-im/kefu/internal/triage"

// ScoredHit is one search hit as the bot saw it.
type ScoredHit struct {
	triage.ArticleRef
	// Score is the article's classifier belief, 0 to 1, that the message is one of its
	// questions (kb.Hit.Prob); hits are in its order.
	Score    float64 `json:"score"`
	Coverage float64 `json:"coverage"`
}

// Decision is what the bot does with one message.
type Decision struct {
	Action triage.Action `json:"action"`
	// Reason is the hand-off reason; empty unless Action is triage.Handoff.
	Reason triage.Reason `json:"reason"`
	Intent triage.Intent `json:"intent"`
	// Confidence is the calibrated confidence, 0..1, that Article answers the message.
	Confidence float64 `json:"confidence"`
	// Article is the best article, when there is one (for a hand-off too).
	Article *triage.ArticleRef `json:"article"`
	// Text is what the bot says: the article's answer for triage.Answer (and for an
	// after-sales hand-off that explains the procedure), the clarify prompt for
	// triage.Clarify, empty otherwise: for triage.SmallTalk, Intent says which small talk
	// (greeting, thanks, goodbye, presence, ack) and the caller words the reply.
	Text        string              `json:"text"`
	Suggestions []triage.ArticleRef `json:"suggestions"`
	Hits        []ScoredHit         `json:"hits"`
	// Phrased is true when a language model worded Text from Article.
	Phrased bool `json:"phrased,omitempty"`
}
