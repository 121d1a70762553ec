package handoff

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Route is where a conversation stands in routing: waiting in its group's queue (Agent
// empty) or owned by an agent. A conversation with the bot, or resolved, has no Route.
//
// Routing state is kept apart from the conversation's own record because in Redis it
// lives in one cluster slot for all conversations ({q}): that is what lets one script
// decide a claim against the queue, the owner and the agent's load at once.
type Route struct {
	Group string
	// Score orders the queue, lowest first: Since in Unix milliseconds minus the
	// conversation's priority boosts (see Desk.score).
	Score int64
	// Front puts the conversation ahead of every one that is not at the front: it was
	// given back by an agent who went offline.
	Front bool
	// Since is when the conversation started waiting; transfers to another group keep it.
	Since time.Time
	VIP   int
	// Agent is the owner; empty while waiting.
	Agent string
	// Key is the record key of the hand-off that brought the conversation in, so that a
	// retried hand-off is told from a second one.
	Key string
}

// frontBoost is subtracted from the score of a conversation at the front of its queue:
// 2^40 ms, about 35 years, more than any real score spread.
const frontBoost = int64(1) << 40

// queueScore is the conversation's place in its group's sorted set.
func (r Route) queueScore() int64 {
	if r.Front {
		return r.Score - frontBoost
	}
	return r.Score
}

// RouteState is a conversation's routing state with its revision, which every change
// increments, and the change whose conversation side is still being written, if any.
type RouteState struct {
	Route   *Route // nil when not routed
	Rev     int64
	Pending *RouteOp
}

// Kinds of routing change (RouteOp.Kind).
const (
	opHandoff  = "handoff"  // the bot hands the conversation to its group's queue
	opClaim    = "claim"    // an agent takes a waiting conversation
	opAssign   = "assign"   // the desk gives a waiting conversation to an agent
	opTransfer = "transfer" // the owner gives the conversation to another agent
	opRegroup  = "regroup"  // the owner sends the conversation to a group's queue
	opResolve  = "resolve"  // the owner closes the conversation
	opBot      = "bot"      // the owner hands the conversation back to the bot
	opRequeue  = "requeue"  // the owner went offline: back to the front of the queue
	opAdopt    = "adopt"    // routing state for a conversation queued or claimed before it existed
	opReopen   = "reopen"   // the shopper wrote again soon after the resolve: back to people
	opLeave    = "leave"    // the shopper left a message instead of waiting: out of the queue
)

// RouteOp is one change of routing state. The store keeps it as pending until the desk
// has written the change's conversation side (status and log records) and called
// FinishRoute; a change that the conversation refuses is reverted with UndoRoute. A
// pending change left behind by a crashed node is finished by any desk's Sweep: every
// write of the conversation side is keyed, so writing it twice stores it once.
type RouteOp struct {
	Conv string
	// Rev is the revision the change made.
	Rev  int64
	Kind string
	// Agent is who acts: the owner before the change, or the claiming agent.
	Agent string
	// To is the owner after a claim, an assignment or a transfer.
	To string
	// Enter says that Next joins its group's queue when the change is finished.
	Enter bool
	At    time.Time
	// Prev and Next are the routes before and after; nil when not routed.
	Prev, Next *Route
	// Data is the desk's own, for writing the conversation side again (a hand-off's
	// request).
	Data []byte
}

// RouteChange is a compare-and-set of one conversation's routing state.
type RouteChange struct {
	Conv string
	// Rev and Prev are the state read; if either changed since, Reroute fails with
	// errConflict.
	Rev  int64
	Prev *Route
	// Next is the new route; nil takes the conversation out of routing.
	Next *Route
	// Cap is the new owner's limit, checked when Next gives the conversation to an
	// agent who did not own it.
	Cap int
	// Op describes the change: Kind, Agent, To, Enter, At and Data.
	Op RouteOp
}

// Presence statuses of an agent.
const (
	PresenceOnline  = "online"  // takes new chats
	PresenceAway    = "away"    // keeps their chats, takes no new ones
	PresenceOffline = "offline" // gone: their chats went back to the queue
)

// Presence is what an agent's last heartbeat said.
type Presence struct {
	Agent  string    `json:"agent"`
	Group  string    `json:"group"`
	Status string    `json:"status"`
	Cap    int       `json:"max_chats"`
	Seen   time.Time `json:"seen"`
}

// encodeRoute writes r as the Redis engine stores it: "group|score|front|since|vip|agent|key".
// Groups and agent names never hold "|"; the key comes last and may.
func encodeRoute(r *Route) string {
	if r == nil {
		return ""
	}
	front := "0"
	if r.Front {
		front = "1"
	}
	return strings.Join([]string{
		r.Group, strconv.FormatInt(r.Score, 10), front, strconv.FormatInt(r.Since.UnixMilli(), 10),
		strconv.Itoa(r.VIP), r.Agent, r.Key,
	}, "|")
}

func decodeRoute(s string) (*Route, error) {
	if s == "" {
		return nil, nil
	}
	f := strings.SplitN(s, "|", 7)
	if len(f) != 7 {
		return nil, fmt.Errorf("malformed route %q", s)
	}
	score, err1 := strconv.ParseInt(f[1], 10, 64)
	since, err2 := strconv.ParseInt(f[3], 10, 64)
	vip, err3 := strconv.Atoi(f[4])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("malformed route %q", s)
	}
	return &Route{Group: f[0], Score: score, Front: f[2] == "1", Since: time.UnixMilli(since), VIP: vip, Agent: f[5], Key: f[6]}, nil
}

// encodeOpHeader writes the fields of op that the Redis scripts read:
// "rev|kind|agent|to|enter|at".
func encodeOpHeader(op RouteOp) string {
	enter := "0"
	if op.Enter {
		enter = "1"
	}
	return strings.Join([]string{
		strconv.FormatInt(op.Rev, 10), op.Kind, op.Agent, op.To, enter, strconv.FormatInt(op.At.UnixMilli(), 10),
	}, "|")
}

func decodeOp(conv, header, prev, next, data string) (RouteOp, error) {
	f := strings.Split(header, "|")
	if len(f) != 6 {
		return RouteOp{}, fmt.Errorf("malformed routing change %q of %q", header, conv)
	}
	rev, err1 := strconv.ParseInt(f[0], 10, 64)
	at, err2 := strconv.ParseInt(f[5], 10, 64)
	if err1 != nil || err2 != nil {
		return RouteOp{}, fmt.Errorf("malformed routing change %q of %q", header, conv)
	}
	op := RouteOp{Conv: conv, Rev: rev, Kind: f[1], Agent: f[2], To: f[3], Enter: f[4] == "1", At: time.UnixMilli(at)}
	var err error
	if op.Prev, err = decodeRoute(prev); err != nil {
		return RouteOp{}, err
	}
	if op.Next, err = decodeRoute(next); err != nil {
		return RouteOp{}, err
	}
	if data != "" {
		op.Data = []byte(data)
	}
	return op, nil
}

// encodePresence writes p as the Redis engine stores it: "group|status|cap|seen".
func encodePresence(p Presence) string {
	return strings.Join([]string{p.Group, p.Status, strconv.Itoa(p.Cap), strconv.FormatInt(p.Seen.UnixMilli(), 10)}, "|")
}

func decodePresence(agent, s string) (Presence, error) {
	f := strings.Split(s, "|")
	if len(f) != 4 {
		return Presence{}, fmt.Errorf("malformed presence %q of %q", s, agent)
	}
	c, err1 := strconv.Atoi(f[2])
	seen, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return Presence{}, fmt.Errorf("malformed presence %q of %q", s, agent)
	}
	return Presence{Agent: agent, Group: f[0], Status: f[1], Cap: c, Seen: time.UnixMilli(seen)}, nil
}
