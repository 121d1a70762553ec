// Package triage names what the bot tells the desk about a shopper's message: the
// action it takes, the intent it reads, and the reason a conversation goes to people.
// The bot produces these and the desk routes by them, so both speak these types rather
// than strings of their own.
package triage

// Action is what the bot does with a message.
type Action string

// Actions.
const (
	Answer  Action = "answer"  // the bot answers from an article
	Clarify Action = "clarify" // the bot offers questions it can answer
	Handoff Action = "handoff" // the conversation goes to people
	// SmallTalk is a greeting, thanks, goodbye, presence check, acknowledgement or
	// emoji: the bot replies with a short phrase; it is neither an answer nor a miss and
	// never hands off (docs/domain.md rule 16).
	SmallTalk Action = "smalltalk"
)

// Intent is the stage of the shopping journey a message belongs to.
type Intent string

// Intents.
const (
	IntentPresale   Intent = "presale"   // before buying: products, prices, shipping fees
	IntentInsale    Intent = "insale"    // after ordering, before delivery
	IntentAftersale Intent = "aftersale" // returns, refunds, repairs, complaints
	IntentOther     Intent = "other"
)

// Intents of small talk (Action SmallTalk).
const (
	IntentGreeting Intent = "greeting" // 你好, hi, 早上好
	IntentThanks   Intent = "thanks"   // 谢谢, 好的谢谢, thank you
	IntentGoodbye  Intent = "goodbye"  // 拜拜, 再见, 没有了, bye
	IntentPresence Intent = "presence" // 在吗, 有人吗, are you there
	IntentAck      Intent = "ack"      // 好的, 嗯嗯, 收到, ok, an emoji alone
)

// SmallTalk reports whether the intent is one of small talk.
func (i Intent) SmallTalk() bool {
	switch i {
	case IntentGreeting, IntentThanks, IntentGoodbye, IntentPresence, IntentAck:
		return true
	}
	return false
}

// AfterSales reports whether the intent belongs to after-sales.
func (i Intent) AfterSales() bool { return i == IntentAftersale }

// Reason is why a conversation went to people, or moved between them.
type Reason string

// Reasons the bot hands off for.
const (
	ReasonRequested         Reason = "requested"          // the shopper asked for a person
	ReasonAfterSales        Reason = "after_sales"        // an after-sales case: always a person's
	ReasonLowConfidence     Reason = "low_confidence"     // no article answers well enough
	ReasonOutOfScope        Reason = "out_of_scope"       // nothing the shop's knowledge covers
	ReasonRepeatedMiss      Reason = "repeated_miss"      // the bot missed several times running
	ReasonNegativeSentiment Reason = "negative_sentiment" // an angry shopper or a complaint
)

// Reasons the desk records when a conversation moves between people.
const (
	ReasonTransfer     Reason = "transfer"      // an agent sent it to another group's queue
	ReasonAgentOffline Reason = "agent_offline" // its agent went offline: back to the queue
	ReasonReopened     Reason = "reopened"      // the shopper wrote again soon after the resolve
	ReasonLeftMessage  Reason = "left_message"  // the shopper left a message instead of waiting
)

// ReasonUnhelpful is why a question is in the editors' unanswered inbox when the bot
// answered it and the shopper said the answer did not help (没帮助).
const ReasonUnhelpful Reason = "unhelpful"

// Unanswered reports whether the reason says the bot had no good answer: the question
// is one for the editors to cover.
func (r Reason) Unanswered() bool { return r == ReasonLowConfidence || r == ReasonOutOfScope }

// Apologetic reports whether the shopper should hear an apology with the transfer: the
// bot tried and could not answer.
func (r Reason) Apologetic() bool {
	return r == ReasonLowConfidence || r == ReasonOutOfScope || r == ReasonRepeatedMiss
}

// ArticleRef names a knowledge article the bot answered from or suggests.
type ArticleRef struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
}
