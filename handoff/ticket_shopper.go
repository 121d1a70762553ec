package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// The shopper's side of a ticket: its changes are announced in the conversation as
// KindTicket records, and the shopper answers a proposed remedy from the widget.

// TicketCard is a ticket as a conversation's KindTicket record shows it.
type TicketCard struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	// Rev is the revision of the ticket the record shows; the shopper's answer to a
	// proposal names it (Confirm, Decline).
	Rev int64 `json:"rev"`
	// Event is the change the record announces (TicketEvent*).
	Event  string `json:"event"`
	Remedy Remedy `json:"remedy"`
}

// Events of a TicketCard: what changed.
const (
	TicketEventProposed   = "proposed"    // a remedy waits for the shopper's answer
	TicketEventConfirmed  = "confirmed"   // the shopper accepted it
	TicketEventDeclined   = "declined"    // the shopper did not accept it
	TicketEventWithdrawn  = "withdrawn"   // the agent took the proposal back
	TicketEventCancelled  = "cancelled"   // the ticket was cancelled
	TicketEventApproved   = "approved"    // the lead approved the refund or compensation
	TicketEventRejected   = "rejected"    // the lead rejected it
	TicketEventInProgress = "in_progress" // being carried out
	TicketEventResolved   = "resolved"    // done
)

var ticketTypeLabels = map[string]string{
	TicketReturn: "退货", TicketExchange: "换货", TicketRefund: "退款", TicketRepair: "维修",
	TicketResend: "补发", TicketCompensation: "补偿", TicketInvoice: "发票", TicketMessage: "留言",
}

// ticketEvent names the last change of t, or "" for one the shopper is not told of: its
// creation, and any change of an after-sales ticket before a remedy was first proposed
// to them (they never heard of it). Of a left message the shopper is told when an agent
// takes it up and when it is done.
func ticketEvent(t Ticket) string {
	if len(t.History) < 2 {
		return ""
	}
	ev := t.History[len(t.History)-1]
	if t.Type == TicketMessage {
		if ev.To == TicketInProgress || ev.To == TicketResolved {
			return ev.To
		}
		return ""
	}
	proposed := slices.ContainsFunc(t.History, func(e TicketEvent) bool { return e.To == TicketAwaitingConfirmation })
	switch {
	case !proposed:
		return ""
	case ev.To == TicketAwaitingConfirmation:
		return TicketEventProposed
	case ev.From == TicketAwaitingConfirmation && ev.Role == RoleShopper && ev.To == TicketOpen:
		return TicketEventDeclined
	case ev.From == TicketAwaitingConfirmation && ev.Role == RoleShopper:
		return TicketEventConfirmed
	case ev.From == TicketAwaitingConfirmation && ev.To == TicketOpen:
		return TicketEventWithdrawn
	case ev.To == TicketOpen:
		return ""
	}
	return ev.To // cancelled, approved, rejected, in_progress, resolved
}

var ticketTypeLabelsEN = map[string]string{
	TicketReturn: "return", TicketExchange: "exchange", TicketRefund: "refund", TicketRepair: "repair",
	TicketResend: "resend", TicketCompensation: "compensation", TicketInvoice: "invoice", TicketMessage: "message",
}

// ticketText is the record's text, written for the shopper in l: a client that knows no
// ticket cards shows it as a system message.
func ticketText(l Lang, t Ticket, event string) string {
	if l.Of() == LangEN {
		return ticketTextEN(t, event)
	}
	return ticketTextZH(t, event)
}

// ticketTextEN is ticketText in English.
func ticketTextEN(t Ticket, event string) string {
	name := "after-sales ticket " + t.ID + " (" + ticketTypeLabelsEN[t.Type] + ")"
	if t.Type == TicketMessage {
		name = "your message (ticket " + t.ID + ")"
	}
	switch event {
	case TicketEventProposed:
		s := "Proposed solution for " + name + ": " + t.Remedy.Text
		if t.Remedy.AmountFen > 0 {
			s += fmt.Sprintf(", amount ¥%d.%02d", t.Remedy.AmountFen/100, t.Remedy.AmountFen%100)
		}
		return s + ". Please confirm whether you accept it."
	case TicketEventConfirmed:
		return "You accepted the solution for " + name
	case TicketEventDeclined:
		return "You did not accept the solution for " + name + "; an agent will talk it over with you"
	case TicketEventWithdrawn:
		return "The agent withdrew the solution for " + name
	case TicketEventCancelled:
		return "The " + name + " was cancelled"
	case TicketEventApproved:
		return "The " + name + " was approved and is being handled"
	case TicketEventRejected:
		return "The " + name + " was not approved; an agent will contact you"
	case TicketEventInProgress:
		return "The " + name + " is being handled"
	}
	return "The " + name + " is done"
}

// ticketTextZH is ticketText in Chinese.
func ticketTextZH(t Ticket, event string) string {
	name := "售后工单 " + t.ID + "（" + ticketTypeLabels[t.Type] + "）"
	if t.Type == TicketMessage {
		name = "您的留言（工单 " + t.ID + "）"
	}
	switch event {
	case TicketEventProposed:
		s := name + "的处理方案：" + t.Remedy.Text
		if t.Remedy.AmountFen > 0 {
			s += fmt.Sprintf("，金额 ¥%d.%02d", t.Remedy.AmountFen/100, t.Remedy.AmountFen%100)
		}
		return s + "。请确认是否接受。"
	case TicketEventConfirmed:
		return "您已确认" + name + "的处理方案"
	case TicketEventDeclined:
		return "您未接受" + name + "的处理方案，客服会与您进一步沟通"
	case TicketEventWithdrawn:
		return "客服已撤回" + name + "的处理方案"
	case TicketEventCancelled:
		return name + "已取消"
	case TicketEventApproved:
		return name + "已审核通过，正在为您处理"
	case TicketEventRejected:
		return name + "未通过审核，客服会与您联系"
	case TicketEventInProgress:
		return name + "正在处理中"
	}
	return name + "已处理完成"
}

// AnnounceTicket appends a KindTicket record of t's last change to t's conversation, if
// the shopper is told of it (see ticketEvent); t must carry its history. The record's
// key is the ticket and its revision, so that announcing a revision again stores it
// once.
func (d *Desk) AnnounceTicket(ctx context.Context, t Ticket) error {
	_, _, err := d.announceTicket(ctx, t)
	return err
}

// announceTicket is AnnounceTicket; it returns the record and whether there was one.
func (d *Desk) announceTicket(ctx context.Context, t Ticket) (Message, bool, error) {
	event := ticketEvent(t)
	if event == "" {
		return Message{}, false, nil
	}
	c, err := d.convs.Conversation(ctx, t.Conversation)
	if err != nil {
		return Message{}, false, fmt.Errorf("announcing ticket %s: %w", t.ID, err)
	}
	m := Message{
		ID: fmt.Sprintf("ticket:%s:%d", t.ID, t.Rev), Kind: KindTicket, From: FromSystem, Text: ticketText(c.Lang, t, event),
		Ticket: &TicketCard{ID: t.ID, Type: t.Type, Status: t.Status, Rev: t.Rev, Event: event, Remedy: t.Remedy},
	}
	stored, _, err := d.Append(ctx, t.Conversation, m)
	if err != nil {
		return Message{}, false, fmt.Errorf("announcing ticket %s: %w", t.ID, err)
	}
	return stored, true, nil
}

// AnswerTicket records the answer of conversation conv's shopper to the remedy of ticket
// id at revision rev (confirm: accepted, else declined), and announces it in the
// conversation; it returns the announcing record. A ticket of another conversation is
// ErrNotFound, like one that does not exist, so that guessing ids tells nothing. A
// ticket that is not waiting for this answer any more (withdrawn, proposed again,
// answered) gives ErrTicketChanged, except that the same answer given again (a resend
// after a lost reply) is announced again and succeeds.
func (d *Desk) AnswerTicket(ctx context.Context, conv, id string, rev int64, confirm bool) (Message, error) {
	tk := d.tickets
	c, err := d.Conversation(ctx, conv)
	if err != nil {
		return Message{}, err
	}
	t, err := tk.Ticket(ctx, id)
	if err != nil {
		return Message{}, err
	}
	if t.Conversation != conv {
		return Message{}, fmt.Errorf("ticket %q of another conversation: %w", id, ErrNotFound)
	}
	shopper := ShopperOf(c)
	if confirm {
		t, err = tk.Confirm(ctx, id, shopper, rev)
	} else {
		t, err = tk.Decline(ctx, id, shopper, rev)
	}
	if errors.Is(err, ErrBadTransition) || errors.Is(err, ErrTicketChanged) {
		cur, rerr := tk.Ticket(ctx, id)
		if rerr != nil {
			return Message{}, rerr
		}
		if !answered(cur, shopper, rev, confirm) {
			return Message{}, fmt.Errorf("answering ticket %s at revision %d: %w", id, rev, ErrTicketChanged)
		}
		// The answer was stored before; announce the revision it made, in case the
		// first attempt stopped before announcing it.
		t, err = cur, nil
		t.History = cur.History[:rev+1]
		t.Rev, t.Status = rev+1, t.History[rev].To
	}
	if err != nil {
		return Message{}, err
	}
	m, _, err := d.announceTicket(ctx, t)
	return m, err
}

// answered reports whether t's change to revision rev+1 is shopper's answer to the
// proposal of revision rev, confirming or declining as confirm says.
func answered(t Ticket, shopper string, rev int64, confirm bool) bool {
	if rev < 1 || int64(len(t.History)) <= rev {
		return false
	}
	ev := t.History[rev] // History[k-1] made revision k
	return ev.Role == RoleShopper && ev.By == shopper && ev.From == TicketAwaitingConfirmation && (ev.To != TicketOpen) == confirm
}
