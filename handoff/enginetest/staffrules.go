package enginetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// Least privilege at the desk (docs/domain.md rules 32 to 34): who reads a
// conversation, who opens a ticket on it, what a remedy may say, who approves what.

// testReadAccess: an agent reads the chats handed off to their group and those they
// served; leads and admins read all; a chat only the bot served is no agent's.
func testReadAccess(t *testing.T, r *rig) {
	ctx := context.Background()
	alice, carol, lead := r.staff["alice"], r.staff["carol"], r.staff["lead"]
	admin := account.User{Name: "root", Role: account.RoleAdmin}
	reads := func(u account.User, id string) bool {
		t.Helper()
		_, err := r.desk.ConversationFor(ctx, u, id)
		if err != nil && !errors.Is(err, handoff.ErrNotReader) {
			t.Fatalf("ConversationFor(%s, %s): %v", u.Name, id, err)
		}
		return err == nil
	}
	after := r.queued(t) // after-sales, waiting
	bot := r.start(t, 0) // never handed off
	for _, tc := range []struct {
		u    account.User
		id   string
		want bool
	}{
		{alice, after.ID, false}, {carol, after.ID, true}, {lead, after.ID, true}, {admin, after.ID, true},
		{alice, bot.ID, false}, {carol, bot.ID, false}, {lead, bot.ID, true}, {admin, bot.ID, true},
		{account.User{Name: "ed", Role: account.RoleEditor, Group: "aftersale"}, after.ID, false},
	} {
		if got := reads(tc.u, tc.id); got != tc.want {
			t.Errorf("%s (%s of %s) reads %s: %v, want %v", tc.u.Name, tc.u.Role, tc.u.Group, tc.id, got, tc.want)
		}
	}
	if _, err := r.desk.ConversationFor(ctx, alice, "nope"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("ConversationFor(unknown) = %v, want ErrNotFound", err)
	}
	// Carol serves the chat and sends it to pre-sales: she still reads it, by its log.
	if _, err := r.desk.Claim(ctx, after.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.TransferGroup(ctx, after.ID, "carol", handoff.GroupPresale); err != nil {
		t.Fatal(err)
	}
	cv := r.get(t, after.ID)
	if handoff.MayRead(carol, cv) || !reads(carol, after.ID) || !reads(alice, after.ID) {
		t.Errorf("after the transfer: carol by record %v, carol %v, alice %v; want false, true, true",
			handoff.MayRead(carol, cv), reads(carol, after.ID), reads(alice, after.ID))
	}
}

// testTicketGuards: a ticket is opened on a conversation that exists, by an agent of
// its group who serves or served it (or a lead), and its remedy passes the contact
// guard unless overridden with a reason.
func testTicketGuards(t *testing.T, r *rig) {
	ctx := context.Background()
	alice, carol, lead := r.staff["alice"], r.staff["carol"], r.staff["lead"]
	c := r.queued(t)
	draft := func(conv, remedy string) handoff.TicketDraft {
		return handoff.TicketDraft{Conversation: conv, Order: "O1", Type: handoff.TicketReturn, Reason: "破损", Remedy: handoff.Remedy{Text: remedy}}
	}
	for _, tc := range []struct {
		name string
		d    handoff.TicketDraft
		by   account.User
		want error
	}{
		{"no such conversation", draft("nope", "退货"), lead, handoff.ErrNoConversation},
		{"another group's chat", draft(c.ID, "退货"), alice, handoff.ErrNotTheirs},
		{"a chat of the group not served", draft(c.ID, "退货"), carol, handoff.ErrNotTheirs},
	} {
		if _, err := r.desk.OpenTicket(ctx, tc.d, tc.by); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if list, _ := r.desk.Tickets().List(ctx, handoff.TicketFilter{}); len(list) != 0 {
		t.Fatalf("refused tickets were stored: %+v", list)
	}
	if _, err := r.desk.OpenTicket(ctx, draft(c.ID, "为您办理退货"), lead); err != nil {
		t.Errorf("a lead opening a ticket on a chat: %v", err)
	}
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}

	// The remedy is what the shopper reads: a phone number or WeChat id is blocked.
	const contact = "请加微信 kefu_2024 或致电 13812345678"
	_, err := r.desk.OpenTicket(ctx, draft(c.ID, contact), carol)
	var blocked *handoff.ContactBlocked
	if !errors.As(err, &blocked) || !errors.Is(err, handoff.ErrBlockedContact) || len(blocked.Found) == 0 {
		t.Fatalf("a remedy with a phone number: %v, want a ContactBlocked", err)
	}
	for _, f := range blocked.Found {
		if f.Masked == "13812345678" {
			t.Errorf("the refusal shows the number unmasked: %+v", f)
		}
	}
	over := draft(c.ID, contact)
	over.Override = true
	if _, err := r.desk.OpenTicket(ctx, over, carol); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("an override without a reason: %v, want ErrBadTicket", err)
	}
	tt, err := r.desk.OpenTicket(ctx, draft(c.ID, "为您办理退货"), carol)
	if err != nil {
		t.Fatalf("the serving agent opening a ticket: %v", err)
	}
	// Proposing a remedy with a contact detail is blocked as well, and changes nothing.
	bad := handoff.Remedy{Text: contact}
	if _, err := r.desk.Tickets().Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Remedy: &bad}, carol); !errors.Is(err, handoff.ErrBlockedContact) {
		t.Errorf("proposing a remedy with a phone number: %v, want ErrBlockedContact", err)
	}
	if got, _ := r.desk.Tickets().Ticket(ctx, tt.ID); got.Status != handoff.TicketOpen || got.Remedy.Text != "为您办理退货" {
		t.Errorf("after the blocked proposal the ticket is %s with %q", got.Status, got.Remedy.Text)
	}
	over.OverrideReason = "顾客要求快递员联系电话"
	if _, err := r.desk.OpenTicket(ctx, over, carol); err != nil {
		t.Errorf("an override with a reason: %v", err)
	}
}

// testTicketApprovers: a lead does not approve a ticket they opened or whose remedy they
// proposed; an amount over the cap needs an admin; at the cap a lead approves.
func testTicketApprovers(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	tk, err := handoff.NewTickets(handoff.TicketsConfig{Store: e.Tickets, Now: clock.Now, ApprovalCapFen: 100_00})
	if err != nil {
		t.Fatal(err)
	}
	other := account.User{Name: "lin", Role: account.RoleLead, Group: string(handoff.GroupAftersale)}
	// reach opens a refund of amount fen by opener, has proposer propose it and the
	// shopper confirm it: it waits for approval.
	reach := func(opener, proposer account.User, fen int64) handoff.Ticket {
		t.Helper()
		d := tkDraft(handoff.TicketRefund)
		d.Remedy.AmountFen = fen
		tt, err := tk.Open(ctx, d, opener)
		if err != nil {
			t.Fatal(err)
		}
		if tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation}, proposer); err != nil {
			t.Fatal(err)
		}
		if tt, err = tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev); err != nil {
			t.Fatal(err)
		}
		return tt
	}
	for _, tc := range []struct {
		name             string
		opener, proposer account.User
		fen              int64
		approver         account.User
		want             error
	}{
		{"a lead's own ticket", tkLead, tkAgent, 50_00, tkLead, handoff.ErrSelfApproval},
		{"a remedy the lead proposed", tkAgent, tkLead, 50_00, tkLead, handoff.ErrSelfApproval},
		{"another lead's", tkLead, tkLead, 50_00, other, nil},
		{"at the cap", tkAgent, tkAgent, 100_00, tkLead, nil},
		{"over the cap by a lead", tkAgent, tkAgent, 100_01, tkLead, handoff.ErrOverCap},
		{"over the cap by an admin", tkAgent, tkAgent, 999_999_00, tkAdmin, nil},
		{"an admin's own", tkAdmin, tkAdmin, 50_00, tkAdmin, nil},
	} {
		tt := reach(tc.opener, tc.proposer, tc.fen)
		got, err := tk.Approve(ctx, tt.ID, "", tc.approver)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if tc.want == nil && got.Status != handoff.TicketApproved {
			t.Errorf("%s: status %s, want approved", tc.name, got.Status)
		}
		if tc.want != nil {
			if cur, _ := tk.Ticket(ctx, tt.ID); cur.Status != handoff.TicketAwaitingApproval {
				t.Errorf("%s: after the refusal the ticket is %s", tc.name, cur.Status)
			}
		}
	}
}

// testTicketIDsLong: past 999,999 a day the counter grows a digit, and listings keep the
// order of the counters.
func testTicketIDsLong(t *testing.T, _ handoff.Engine) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{1, "AS-20261123-000001"}, {999_999, "AS-20261123-999999"}, {1_000_000, "AS-20261123-1000000"}, {12_345_678, "AS-20261123-12345678"}} {
		if got, err := handoff.TicketID("20261123", tc.n); err != nil || got != tc.want {
			t.Errorf("TicketID(%d) = %q, %v; want %q", tc.n, got, err, tc.want)
		}
	}
	if _, err := handoff.TicketID("20261123", 0); err == nil {
		t.Error("TicketID(0) gave an id")
	}
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	ts := []handoff.Ticket{{ID: "AS-20261123-999999", CreatedAt: at}, {ID: "AS-20261123-1000000", CreatedAt: at}, {ID: "AS-20261123-000002", CreatedAt: at}}
	got := handoff.TicketFilter{}.Listed(ts)
	if got[0].ID != "AS-20261123-1000000" || got[1].ID != "AS-20261123-999999" || got[2].ID != "AS-20261123-000002" {
		t.Errorf("listing order = %s, %s, %s; want the highest counter first", got[0].ID, got[1].ID, got[2].ID)
	}
}

// testTicketAccess: an agent reads, lists and changes the after-sales tickets they
// opened and those of the chats they may read, and the messages left in their group's
// queue; nothing else, and a refused change changes nothing. Leads read and change all.
func testTicketAccess(t *testing.T, r *rig) {
	ctx := context.Background()
	alice, carol, lead := r.staff["alice"], r.staff["carol"], r.staff["lead"]
	open := func(conv string, by account.User) handoff.Ticket {
		t.Helper()
		tt, err := r.desk.OpenTicket(ctx, handoff.TicketDraft{Conversation: conv, Order: "O1", Type: handoff.TicketReturn, Reason: "破损"}, by)
		if err != nil {
			t.Fatalf("OpenTicket on %s by %s: %v", conv, by.Name, err)
		}
		return tt
	}
	after := r.queued(t) // after-sales, handed off: carol's group's
	bot := r.start(t, 0) // never handed off: no agent's
	ofGroup, ofBot := open(after.ID, lead), open(bot.ID, lead)
	// Alice, of pre-sales, served a pre-sale chat that went on to after-sales: she
	// opened a ticket on it, and reads it after the chat left her group.
	pre := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, pre, "alice"); err != nil {
		t.Fatal(err)
	}
	hers := open(pre, alice)
	if _, err := r.desk.TransferGroup(ctx, pre, "alice", handoff.GroupAftersale); err != nil {
		t.Fatal(err)
	}
	// A message a shopper left in the pre-sale queue, with their phone number.
	left, _, err := r.desk.LeaveMessage(ctx, r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0),
		handoff.LeftMessage{Key: "l1", Text: "请回电", Contact: "13812345678"})
	if err != nil {
		t.Fatal(err)
	}

	reads := map[string]map[string]bool{ // user, ticket: may read
		"alice": {ofGroup.ID: false, ofBot.ID: false, hers.ID: true, left.ID: true},
		"carol": {ofGroup.ID: true, ofBot.ID: false, hers.ID: true, left.ID: false},
		"lead":  {ofGroup.ID: true, ofBot.ID: true, hers.ID: true, left.ID: true},
	}
	for name, want := range reads {
		u := r.staff[name]
		list, err := r.desk.TicketsFor(ctx, u, handoff.TicketFilter{})
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, tt := range list {
			listed[tt.ID] = true
		}
		for id, may := range want {
			_, err := r.desk.TicketFor(ctx, u, id)
			if err != nil && !errors.Is(err, handoff.ErrNotReader) {
				t.Fatalf("TicketFor(%s, %s): %v", name, id, err)
			}
			if (err == nil) != may || listed[id] != may {
				t.Errorf("%s reads %s: %v, lists it: %v; want %v", name, id, err == nil, listed[id], may)
			}
		}
	}
	if _, err := r.desk.TicketFor(ctx, carol, "AS-20000101-000001"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("TicketFor(unknown) = %v, want ErrNotFound", err)
	}

	// Acting asks the same: another group's left message and a ticket of a chat one may
	// not read are refused and stay as they were; one's own are changed.
	for _, tc := range []struct {
		by account.User
		tt handoff.Ticket
		to string
	}{
		{carol, left, handoff.TicketInProgress},
		{carol, ofBot, handoff.TicketCancelled},
		{alice, ofGroup, handoff.TicketCancelled},
	} {
		if _, err := r.desk.TransitionTicket(ctx, tc.tt.ID, handoff.TicketChange{To: tc.to}, tc.by); !errors.Is(err, handoff.ErrNotReader) {
			t.Errorf("%s moving %s to %s: %v, want ErrNotReader", tc.by.Name, tc.tt.ID, tc.to, err)
		}
		if got, _ := r.desk.Tickets().Ticket(ctx, tc.tt.ID); got.Status != handoff.TicketOpen || got.Rev != tc.tt.Rev {
			t.Errorf("after the refusal %s is %s at rev %d", tc.tt.ID, got.Status, got.Rev)
		}
	}
	for _, tc := range []struct {
		by account.User
		tt handoff.Ticket
		to string
	}{
		{alice, left, handoff.TicketInProgress},
		{carol, ofGroup, handoff.TicketCancelled},
		{lead, ofBot, handoff.TicketCancelled},
	} {
		if got, err := r.desk.TransitionTicket(ctx, tc.tt.ID, handoff.TicketChange{To: tc.to}, tc.by); err != nil || got.Status != tc.to {
			t.Errorf("%s moving %s to %s: %s, %v", tc.by.Name, tc.tt.ID, tc.to, got.Status, err)
		}
	}
}
