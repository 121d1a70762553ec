package handoff

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// Reports read incremental aggregates, never the conversations: the desk derives from
// each change the facts it makes (a hand-off, a claim after a wait, a first reply, a
// resolve, a rating, a reopening, a 没帮助) as Tally counters, and the engine adds them
// in the same commit, only when the change is made for the first time
// (docs/reports.md).

// Tally adds N to one counter of the reports: the counter Name of group Group and agent
// Agent in the hour starting at Hour (Unix seconds, a whole UTC hour). Every fact of a
// conversation is counted in the hour the conversation started, so that a day's
// figures are those of the conversations that started that day.
type Tally struct {
	Hour  int64  `json:"hour"`
	Group Group  `json:"group,omitempty"`
	Agent string `json:"agent,omitempty"`
	Name  string `json:"name"`
	N     int64  `json:"n"`
}

// Stats reads the counters engines keep from the tallies of changes (Change.Tallies).
type Stats interface {
	// Tallies returns the counters of the hours from from up to, not including, to, each
	// hour, group, agent and name once with its sum; counters at 0 may be left out.
	Tallies(ctx context.Context, from, to time.Time) ([]Tally, error)
}

// Marks are what the reports remember of a conversation, so that what is counted once
// per conversation is counted once (Conversation.Marks).
type Marks uint8

// The marks of a conversation.
const (
	MarkPeople    Marks = 1 << iota // it went to people at least once
	MarkUnhelpful                   // the shopper said a bot answer did not help
	MarkResolved                    // an agent resolved it at least once
	MarkReopened                    // it was reopened within FCRWindow of a resolve
	MarkCounted                     // it counts among the conversations (TallyConversations)
)

// FCRWindow is how long after a resolve a reopening means the chat was not resolved at
// first contact.
const FCRWindow = 7 * 24 * time.Hour

// Names of the counters (docs/reports.md).
const (
	TallyConversations = "conversations"  // conversations started
	TallyEscalated     = "escalated"      // conversations that went to people, once each
	TallyBotFailed     = "bot_failed"     // conversations with people or a 没帮助, once each
	TallyUnanswered    = "unanswered"     // questions that went to the editors' inbox
	TallyTaken         = "taken"          // chats an agent took (claim, assignment, transfer)
	TallyResolved      = "resolved"       // resolves by an agent
	TallyFirstResolved = "first_resolved" // conversations an agent resolved, once each
	TallyReopened      = "reopened"       // of those, reopened within FCRWindow
	tallyHandoff       = "handoff:"       // + reason: hand-offs from the bot
	tallyIntent        = "intent:"        // + intent: hand-offs from the bot
	tallyCSAT          = "csat:"          // + score: ratings
	tallyFirst         = "first:"         // + bin: hand-off to the agent's first reply
	tallyWait          = "wait:"          // + bin: hand-off to claim or assignment
	tallyHandling      = "handling:"      // + bin: claim to resolve
)

// Latency bins: bin 0 holds durations under a second, bin i ≥ 1 those from 2^((i-1)/4)
// to 2^(i/4) seconds; the last bin holds everything longer. A percentile is the
// geometric middle of its bin, within binError of the true value (or half a second in
// bin 0).
const (
	binsPerDoubling = 4
	maxBin          = 80 // 2^(79/4) s, about 9 days
)

// binError is the largest relative error of a percentile read from the bins:
// 2^(1/8) − 1, about 9.05 %.
var binError = math.Pow(2, 1.0/(2*binsPerDoubling)) - 1

// BinError returns the largest relative error of a latency percentile (about 0.0905);
// durations under a second are off by at most half a second.
func BinError() float64 { return binError }

// latencyBin returns the bin of d.
func latencyBin(d time.Duration) int {
	s := d.Seconds()
	if s < 1 {
		return 0
	}
	b := int(math.Floor(math.Log2(s)*binsPerDoubling)) + 1
	return min(b, maxBin)
}

// binValue returns the duration, in seconds, a percentile in bin b reads as.
func binValue(b int) float64 {
	if b == 0 {
		return 0.5
	}
	return math.Pow(2, (float64(b)-0.5)/binsPerDoubling)
}

// hourOf returns the start of the UTC hour of t, in Unix seconds.
func hourOf(t time.Time) int64 {
	s := t.Unix()
	return s - ((s%3600)+3600)%3600
}

// facts returns the tallies of the change from prev to next with records added, made at
// now, and sets next's marks.
func facts(prev Conversation, next *Conversation, added []Message, now time.Time) []Tally {
	var out []Tally
	hour := hourOf(prev.CreatedAt)
	add := func(g Group, agent, name string, n int64) {
		out = append(out, Tally{Hour: hour, Group: g, Agent: agent, Name: name, N: n})
	}
	latency := func(g Group, agent, name string, d time.Duration) {
		add(g, agent, name+strconv.Itoa(latencyBin(max(d, 0))), 1)
	}
	for _, m := range added {
		if m.Kind == KindFeedback && m.Feedback != nil && !m.Feedback.Helpful {
			add("", "", TallyUnanswered, 1)
		}
	}
	if next == nil {
		return out
	}
	n := next
	mark := func(m Marks) bool {
		if n.Marks&m != 0 {
			return false
		}
		n.Marks |= m
		return true
	}
	if mark(MarkCounted) {
		add("", "", TallyConversations, 1)
	}
	switch {
	case prev.Status == StatusBot && n.Status == StatusQueued:
		add(n.Group, "", tallyHandoff+string(n.Reason), 1)
		intent := n.Intent
		if intent == "" {
			intent = triage.IntentOther
		}
		add(n.Group, "", tallyIntent+string(intent), 1)
		if n.Reason.Unanswered() {
			add("", "", TallyUnanswered, 1)
		}
	case prev.Status == StatusQueued && n.Status == StatusActive:
		add(n.Group, n.Agent, TallyTaken, 1)
		latency(n.Group, n.Agent, tallyWait, n.ClaimedAt.Sub(prev.EnqueuedAt))
	case prev.Status == StatusActive && n.Status == StatusActive && prev.Agent != n.Agent:
		add(n.Group, n.Agent, TallyTaken, 1)
	case prev.Status == StatusActive && n.Status == StatusResolved:
		add(n.Group, n.Agent, TallyResolved, 1)
		latency(n.Group, n.Agent, tallyHandling, n.ClosedAt.Sub(prev.ClaimedAt))
		if mark(MarkResolved) {
			add(n.Group, n.Agent, TallyFirstResolved, 1)
		}
	case prev.Status == StatusResolved && n.Status != StatusResolved:
		if prev.Marks&MarkResolved != 0 && !prev.ClosedAt.IsZero() && now.Sub(prev.ClosedAt) <= FCRWindow && mark(MarkReopened) {
			add(prev.Group, prev.Agent, TallyReopened, 1)
		}
	}
	if prev.RepliedAt.IsZero() && !n.RepliedAt.IsZero() && n.Status == StatusActive {
		latency(n.Group, n.Agent, tallyFirst, n.RepliedAt.Sub(n.EnqueuedAt))
	}
	if (n.Status == StatusQueued || n.Status == StatusActive) && mark(MarkPeople) {
		add("", "", TallyEscalated, 1)
		if n.Marks&MarkUnhelpful == 0 {
			add("", "", TallyBotFailed, 1)
		}
	}
	for _, m := range added {
		if m.Kind == KindFeedback && m.Feedback != nil && !m.Feedback.Helpful && mark(MarkUnhelpful) && n.Marks&MarkPeople == 0 {
			add("", "", TallyBotFailed, 1)
		}
	}
	if r := n.Rating; r != nil && (prev.Rating == nil || *prev.Rating != *r) {
		if o := prev.Rating; o != nil && o.Resolved.Equal(r.Resolved) {
			add(n.Group, o.Agent, tallyCSAT+strconv.Itoa(o.Score), -1)
		}
		add(n.Group, r.Agent, tallyCSAT+strconv.Itoa(r.Score), 1)
	}
	return out
}

// count makes conversation id count among the report's conversations, once: the first
// time its shopper says something (ShopperSays). A widget opened and left without a word
// is no conversation of the reports. A failure is logged: the chat goes on.
func (d *Desk) count(ctx context.Context, id string) {
	_, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		if c.Marks&MarkCounted != 0 {
			return Change{}, errDone
		}
		next := c // facts marks it and counts it
		return Change{Next: &next}, nil
	})
	if err != nil && !errors.Is(err, errDone) {
		d.log.Warn().Err(err).Str("conv", id).Msg("counting the conversation in the reports")
	}
}
