package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Routing: every change of who waits and who owns a chat is two writes. The first is a
// compare-and-set of the routing state (Store.Reroute, Assign or Expire), which decides:
// there, one script per change checks the queue, the owner and the agent's load at once.
// It leaves the change pending. The second writes the conversation's side, its status and
// log records (Store.Apply, keyed, so a second write stores nothing), and then the change
// is finished (FinishRoute); a conversation that refuses the change (its status does not
// fit) has it undone (UndoRoute). A change left pending by a node that stopped between
// the two is finished by the next Sweep of any node, or by the next call that meets it.

// pendingAfter is how old a pending routing change must be before a desk that did not
// make it finishes it: younger ones are most likely still being written.
const pendingAfter = 5 * time.Second

// maxRerouteAttempts bounds the compare-and-set retries of one change.
const maxRerouteAttempts = 100

// errDone says that the change asked for was made before: the call is a retry.
var errDone = errors.New("already done")

// refused reports whether err says that a conversation's status does not fit a change.
func refused(err error) bool {
	for _, e := range []error{ErrWrongStatus, ErrNotQueued, ErrResolved, ErrAlreadyClaimed, ErrNotOwner, ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// reroute reads conv's routing state and applies the change decide makes of it, again
// while the state moves under it. A pending change for which mine is true is the one
// asked for, made by an earlier attempt: it is returned to be completed. A stale pending
// change of someone else is completed first. decide sees any other pending change and
// refuses with the error that fits.
func (d *Desk) reroute(ctx context.Context, conv string, mine func(RouteOp) bool, decide func(RouteState) (RouteChange, error)) (RouteOp, error) {
	for range maxRerouteAttempts {
		st, err := d.store.RouteState(ctx, conv)
		if err != nil {
			return RouteOp{}, err
		}
		if p := st.Pending; p != nil {
			if mine(*p) {
				return *p, nil
			}
			if d.now().Sub(p.At) >= pendingAfter {
				if err := d.complete(ctx, *p); err != nil && !refused(err) {
					return RouteOp{}, err
				}
				continue
			}
		}
		ch, err := decide(st)
		if errors.Is(err, errConflict) {
			continue // decide changed the state (adopted the conversation): read again
		}
		if err != nil {
			return RouteOp{}, err
		}
		op, err := d.store.Reroute(ctx, ch)
		switch {
		case errors.Is(err, errConflict), errors.Is(err, errBusy):
			continue
		case err != nil:
			return RouteOp{}, err
		}
		return op, nil
	}
	return RouteOp{}, ErrBusy
}

// complete writes the conversation side of a pending routing change and finishes it, or
// undoes it when the conversation refuses it.
func (d *Desk) complete(ctx context.Context, op RouteOp) error {
	err := d.writeConversation(ctx, op)
	if refused(err) {
		d.log.Warn().Err(err).Str("conv", op.Conv).Str("change", op.Kind).Msg("conversation refused a routing change; undoing it")
		if uerr := d.store.UndoRoute(ctx, op); uerr != nil {
			return uerr
		}
		d.publish(ctx, Event{Type: EventQueue})
		return err
	}
	if err != nil {
		return err // still pending: written again by the next Sweep or call
	}
	if err := d.store.FinishRoute(ctx, op); err != nil {
		return err
	}
	d.publish(ctx, Event{Type: EventQueue})
	return nil
}

// handoffData is what a pending hand-off keeps for writing its conversation side again.
type handoffData struct {
	Key     string   `json:"key"`
	Reason  string   `json:"reason"`
	Intent  string   `json:"intent"`
	Context *Context `json:"context,omitempty"`
}

// writeConversation writes the conversation side of a routing change. Every record is
// keyed by the change's revision, so writing a change twice stores it once.
func (d *Desk) writeConversation(ctx context.Context, op RouteOp) error {
	key := fmt.Sprintf("%s:%d", op.Kind, op.Rev)
	system := func(id, text string) Message {
		return Message{ID: id, Kind: KindMessage, From: FromSystem, Text: text}
	}
	switch op.Kind {
	case opHandoff:
		var h handoffData
		if err := json.Unmarshal(op.Data, &h); err != nil {
			return fmt.Errorf("decoding the hand-off of %q: %w", op.Conv, err)
		}
		n := op.Next
		t := Transition{From: []string{StatusBot}, To: StatusQueued, Group: n.Group, Reason: h.Reason, Intent: h.Intent, Context: h.Context, Since: n.Since, VIP: n.VIP}
		rec := Message{ID: "handoff:" + h.Key, Kind: KindHandoff, From: FromSystem, Reason: h.Reason, Group: n.Group}
		if _, _, err := d.apply(ctx, op.Conv, t, rec); err != nil {
			return err
		}
		_, _, err := d.apply(ctx, op.Conv, Transition{}, system("transfer:"+h.Key, d.transferPhrase(n.Group, h.Reason)))
		return err

	case opClaim, opAssign:
		key = fmt.Sprintf("claim:%d:%s", op.Rev, op.To)
		t := Transition{From: []string{StatusQueued}, To: StatusActive, Agent: op.To}
		_, dup, err := d.apply(ctx, op.Conv, t, Message{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusActive, Agent: op.To})
		if err != nil {
			return err
		}
		if !dup && op.Prev != nil {
			if err := d.store.RecordWait(ctx, op.At.Sub(op.Prev.Since)); err != nil {
				d.log.Warn().Err(err).Msg("recording wait")
			}
		}
		_, _, err = d.apply(ctx, op.Conv, Transition{}, system(key+":joined", d.joinedPhrase(op.To)))
		return err

	case opTransfer:
		t := Transition{From: []string{StatusActive}, Owner: op.Agent, To: StatusActive, Agent: op.To}
		if _, _, err := d.apply(ctx, op.Conv, t, Message{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusActive, Agent: op.To}); err != nil {
			return err
		}
		_, _, err := d.apply(ctx, op.Conv, Transition{}, system(key+":joined", d.joinedPhrase(op.To)))
		return err

	case opRegroup, opRequeue:
		c, err := d.store.Conversation(ctx, op.Conv)
		if err != nil {
			return err
		}
		n := op.Next
		t := Transition{From: []string{StatusActive}, Owner: op.Agent, To: StatusQueued, Group: n.Group,
			Reason: c.Reason, Intent: c.Intent, Context: c.Context, Since: n.Since, VIP: n.VIP}
		rec := Message{ID: key, Kind: KindHandoff, From: FromSystem, Reason: "transfer", Group: n.Group, Agent: op.Agent}
		note := d.transferPhrase(n.Group, "")
		if op.Kind == opRequeue {
			rec = Message{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusQueued, Reason: "agent_offline", Group: n.Group, Agent: op.Agent}
			note = d.phrases.AgentOffline
		}
		if _, _, err := d.apply(ctx, op.Conv, t, rec); err != nil {
			return err
		}
		_, _, err = d.apply(ctx, op.Conv, Transition{}, system(key+":note", note))
		return err

	case opAdopt:
		c, err := d.store.Conversation(ctx, op.Conv)
		if err != nil {
			return err
		}
		if n := op.Next; c.Status != StatusQueued && n.Agent == "" || n.Agent != "" && (c.Status != StatusActive || c.Agent != n.Agent) {
			return ErrWrongStatus
		}
		return nil

	case opReopen:
		return d.writeReopen(ctx, op)

	case opLeave:
		return d.writeLeave(ctx, op)

	case opResolve, opBot:
		text, to := d.phrases.Resolved, StatusResolved
		if op.Kind == opBot {
			text, to = d.phrases.BackToBot, StatusBot
		}
		guard := Transition{From: []string{StatusActive}, Owner: op.Agent}
		if _, _, err := d.apply(ctx, op.Conv, guard, system(key+":note", text)); err != nil {
			return err
		}
		t := Transition{From: []string{StatusActive}, To: to, Owner: op.Agent}
		_, _, err := d.apply(ctx, op.Conv, t, Message{ID: key, Kind: KindStatus, From: FromSystem, Status: to, Agent: op.Agent})
		return err
	}
	return fmt.Errorf("unknown routing change %q of %q", op.Kind, op.Conv)
}

func (d *Desk) transferPhrase(group, reason string) string {
	switch {
	case group == GroupAftersale:
		return d.phrases.TransferAftersale
	case reason == "low_confidence" || reason == "out_of_scope" || reason == "repeated_miss":
		return d.phrases.Fallback
	}
	return d.phrases.TransferPresale
}

func (d *Desk) joinedPhrase(agent string) string {
	return strings.ReplaceAll(d.phrases.AgentJoined, "{agent}", agent)
}

// Priority classes of a waiting chat.
const (
	classComplaint = "complaint" // a complaint or an angry shopper
	classAftersale = "aftersale"
	classOther     = "other"
)

// classOf tells a waiting chat's priority class from its hand-off.
func classOf(reason, intent, group string) string {
	switch {
	case reason == "negative_sentiment" || intent == "complaint":
		return classComplaint
	case group == GroupAftersale || reason == "after_sales" || intent == "aftersale":
		return classAftersale
	}
	return classOther
}

// score is a waiting chat's queue score: the time it started waiting, in Unix
// milliseconds, less its boosts; the lowest is served first. Equivalently, a chat's
// priority at time t is
//
//	boost(class) + VIP × VIPBoost + (t − since)
//
// and the highest goes first. Waiting raises every chat's priority at the same rate, so
// the order never needs recomputing, and no chat starves: a chat is ahead of every chat
// that arrives more than the largest boost after it.
func (d *Desk) score(since time.Time, reason, intent, group string, vip int) int64 {
	b := time.Duration(vip) * d.vipBoost
	switch classOf(reason, intent, group) {
	case classComplaint:
		b += d.complaint
	case classAftersale:
		b += d.aftersale
	}
	return since.UnixMilli() - b.Milliseconds()
}
