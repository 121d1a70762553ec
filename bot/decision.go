package bot

// Actions a Decision can take.
const (
	ActionAnswer  = "answer"
	ActionClarify = "clarify"
	ActionHandoff = "handoff"
)

// Hand-off reasons.
const (
	ReasonRequested         = "requested"
	ReasonAfterSales        = "after_sales"
	ReasonLowConfidence     = "low_confidence"
	ReasonOutOfScope        = "out_of_scope"
	ReasonRepeatedMiss      = "repeated_miss"
	ReasonNegativeSentiment = "negative_sentiment"
)

// Intents of a shopper's message.
const (
	IntentPresale   = "presale"
	IntentInsale    = "insale"
	IntentAftersale = "aftersale"
	IntentOther     = "other"
)

// ArticleRef names an article.
type ArticleRef struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
}

// ScoredHit is one search hit as the bot saw it.
type ScoredHit struct {
	ArticleRef
	// Score is the article's classifier belief, 0 to 1, that the message is one of its
	// questions (kb.Hit.Prob); hits are in its order.
	Score    float64 `json:"score"`
	Coverage float64 `json:"coverage"`
}

// Decision is what the bot does with one message.
type Decision struct {
	Action string `json:"action"`
	// Reason is the hand-off reason; empty unless Action is ActionHandoff.
	Reason string `json:"reason"`
	Intent string `json:"intent"`
	// Confidence is the calibrated confidence, 0..1, that Article answers the message.
	Confidence float64 `json:"confidence"`
	// Article is the best article, when there is one (for a hand-off too).
	Article *ArticleRef `json:"article"`
	// Text is what the bot says: the article's answer for ActionAnswer (and for an
	// after-sales hand-off that explains the procedure), the clarify prompt for
	// ActionClarify, empty otherwise.
	Text        string       `json:"text"`
	Suggestions []ArticleRef `json:"suggestions"`
	Hits        []ScoredHit  `json:"hits"`
	// Phrased is true when a language model worded Text from Article.
	Phrased bool `json:"phrased,omitempty"`
}
