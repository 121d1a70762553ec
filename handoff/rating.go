package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Shoppers rate a resolved chat (评价) and say whether a bot answer helped
// (有帮助 / 没帮助): docs/domain.md rules 20 and 21.

// Record kinds of ratings and feedback.
const (
	// KindRating is a shopper's rating of the chat's last resolution (Message.Rating).
	KindRating Kind = "rating"
	// KindFeedback is a shopper's 有帮助 / 没帮助 on a bot answer (Message.Feedback).
	KindFeedback Kind = "feedback"
)

// Limits of a rating.
const (
	MinScore          = 1
	MaxScore          = 5
	MaxRatingComment  = 200 // characters
	ratingIDMaxLength = 64
)

// Errors of ratings and feedback.
var (
	// ErrBadRating is returned for a score outside MinScore–MaxScore or a comment of
	// more than MaxRatingComment characters.
	ErrBadRating = errors.New("rating score must be 1-5 and its comment at most 200 characters")
	// ErrNotRatable is returned for rating a chat that is not resolved by an agent (also
	// one closed as a left message).
	ErrNotRatable = errors.New("only a resolved chat can be rated")
	// ErrNotBotAnswer is returned for feedback on a record that is not a bot's answer
	// from an article (a small-talk reply, a system message, an unknown seq).
	ErrNotBotAnswer = errors.New("feedback is only for the bot's answers")
)

// Rating is a shopper's rating of a resolved chat.
type Rating struct {
	Score   int       `json:"score"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
	// Agent is the login of the agent who resolved the chat rated (for the console and
	// reports; shoppers never see it).
	Agent string `json:"agent,omitempty"`
	// Resolved is when the resolution rated happened (Conversation.ClosedAt): rating the
	// same resolution again replaces the rating.
	Resolved time.Time `json:"resolved"`
}

// Feedback is a shopper's 有帮助 / 没帮助 on the bot answer with sequence number Seq.
type Feedback struct {
	Seq     int64 `json:"seq"`
	Helpful bool  `json:"helpful"`
	// Article is the article the answer came from, so that what helped is counted by
	// article (the kefu_bot_feedback_total metric).
	Article string `json:"article,omitempty"`
}

// Rate stores the shopper's rating of conversation id's last resolution: score 1–5 and an
// optional comment of at most MaxRatingComment characters (ErrBadRating), only while the
// chat is resolved by an agent (ErrNotRatable). key is the client's id of the rating: a rating sent
// again with the same key is stored once; another rating of the same resolution replaces
// the first. The rating is kept on the conversation (Conversation.Rating) and as a
// KindRating record, which Rate returns.
func (d *Desk) Rate(ctx context.Context, id, key string, score int, comment string) (Message, error) {
	comment = strings.TrimSpace(comment)
	if score < MinScore || score > MaxScore || utf8.RuneCountInString(comment) > MaxRatingComment {
		return Message{}, ErrBadRating
	}
	if key == "" || len(key) > ratingIDMaxLength {
		return Message{}, fmt.Errorf("rating %q: empty or long key: %w", id, ErrBadRating)
	}
	now := d.nowMS()
	res, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		// A chat resolved by an agent: not one closed as a left message, which nobody
		// served.
		if c.Status != StatusResolved || c.ClosedAt.IsZero() || c.Agent == "" {
			return Change{}, ErrNotRatable
		}
		r := &Rating{Score: score, Comment: comment, At: now, Agent: c.Agent, Resolved: c.ClosedAt}
		next := c
		next.Rating = r
		return Change{Next: &next, Append: []Message{{ID: "rate:" + key, Kind: KindRating, From: FromShopper, Rating: r}}}, nil
	})
	if err != nil {
		return Message{}, fmt.Errorf("rating %q: %w", id, err)
	}
	if !res.Dup {
		d.log.Info().Str("conv", id).Int("score", score).Msg("chat rated")
	}
	return res.Messages[0], nil
}

// Unhelpful hears of a bot answer a shopper said did not help: the question asked and the
// article answered with. knowledge.Service puts it in the editors' unanswered inbox.
type Unhelpful interface {
	Unhelpful(question, article string)
}

// GiveFeedback stores the shopper's 有帮助 / 没帮助 on the bot answer with sequence
// number seq of conversation id (ErrNotBotAnswer for any other record), as a
// KindFeedback record, which it returns; key is the client's id, stored once. 没帮助
// also puts the question in the editors' inbox (DeskConfig.Unhelpful) and offers the
// shopper a person (Phrases.Unhelpful) unless people have the chat already.
func (d *Desk) GiveFeedback(ctx context.Context, id, key string, seq int64, helpful bool) (Message, error) {
	if key == "" || len(key) > ratingIDMaxLength {
		return Message{}, fmt.Errorf("feedback on %q: empty or long key: %w", id, ErrNotBotAnswer)
	}
	if seq <= 0 {
		return Message{}, ErrNotBotAnswer
	}
	from := max(seq-feedbackScan, 0)
	msgs, err := d.convs.Messages(ctx, id, from, int(seq-from))
	if err != nil {
		return Message{}, fmt.Errorf("feedback on %q: %w", id, err)
	}
	if len(msgs) == 0 || msgs[len(msgs)-1].Seq != seq {
		return Message{}, ErrNotBotAnswer
	}
	answer := msgs[len(msgs)-1]
	if !IsBotAnswer(answer) {
		return Message{}, ErrNotBotAnswer
	}
	question := ""
	for i := len(msgs) - 2; i >= 0; i-- {
		if msgs[i].From == FromShopper && msgs[i].Kind == KindMessage {
			question = msgs[i].Text
			break
		}
	}
	fb := &Feedback{Seq: seq, Helpful: helpful, Article: answer.Article.ID}
	var offered bool
	res, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		ch := Change{Append: []Message{{ID: "feedback:" + key, Kind: KindFeedback, From: FromShopper, Feedback: fb}}}
		offered = !helpful && c.Status == StatusBot
		if !helpful {
			// The record changes with the reports' mark of the 没帮助 (tally.go).
			next := c
			ch.Next = &next
		}
		if offered {
			ch.Append = append(ch.Append, system("feedback:"+key+":offer", d.PhrasesFor(c.Lang).Unhelpful))
		}
		return ch, nil
	})
	if err != nil {
		return Message{}, fmt.Errorf("feedback on %q: %w", id, err)
	}
	if !res.Dup {
		article := fb.Article
		d.log.Info().Str("conv", id).Int64("seq", seq).Bool("helpful", helpful).Str("article", article).Msg("bot answer feedback")
		if !helpful && d.unhelpful != nil {
			d.unhelpful.Unhelpful(question, article)
		}
	}
	return res.Messages[0], nil
}

// feedbackScan is how many records before a bot answer are read for its question.
const feedbackScan = 20

// IsBotAnswer reports whether m is a bot's answer from an article, the records shoppers
// may say helped or not: not a small-talk reply (which names no article), not a system
// message.
func IsBotAnswer(m Message) bool {
	return m.Kind == KindMessage && m.From == FromBot && m.SmallTalk == "" && m.Article != nil && m.Article.ID != ""
}
