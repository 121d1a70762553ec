package widget_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
)

// leaveFrame is a shopper's leave_message frame.
type leaveFrame struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Text    string `json:"text"`
	Contact string `json:"contact,omitempty"`
	Order   string `json:"order,omitempty"`
}

func isOffer(reason string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "leave_message" && f.str("reason") == reason }
}

// leftTickets returns the tickets of type message of conv.
func (e *env) leftTickets(t *testing.T, conv string) []handoff.Ticket {
	t.Helper()
	ts, err := e.tickets.List(context.Background(), handoff.TicketFilter{Conversation: conv, Type: handoff.TicketMessage})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestLeaveMessage: with nobody online a waiting shopper is offered to leave a message;
// a bad form is refused and changes nothing; a good one becomes a ticket for the group,
// the chat leaves the queue with a note naming the ticket, and a resend changes nothing
// more. An after-sales chat's message is the after-sales group's.
func TestLeaveMessage(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.handOff(t, "h1")
		readUntil(t, sh.c, "the offer", isOffer("offline"))

		for _, bad := range []struct {
			f    leaveFrame
			want string
		}{
			{leaveFrame{Type: "leave_message", ID: "l0", Text: "  "}, "留言"},
			{leaveFrame{Type: "leave_message", ID: "l0", Text: "还有货吗", Order: "订单#1"}, "订单号"},
			{leaveFrame{Type: "leave_message", ID: "l0", Text: strings.Repeat("货", 501)}, "500"},
		} {
			send(t, sh.c, bad.f)
			f := readUntil(t, sh.c, "the refusal", isType("error"))[0]
			if f.str("code") != "bad_form" || f.str("id") != "l0" || !strings.Contains(f.str("message"), bad.want) {
				t.Errorf("form %+v: got %v, want bad_form naming %s", bad.f, f, bad.want)
			}
		}
		if c, _ := e.desk.Conversation(ctx, sh.conv); c.Status != handoff.StatusQueued || len(e.leftTickets(t, sh.conv)) != 0 {
			t.Fatalf("after the refused forms the chat is %s with tickets %v", c.Status, e.leftTickets(t, sh.conv))
		}

		good := leaveFrame{Type: "leave_message", ID: "l1", Text: "羽绒服M码什么时候补货？", Contact: "138 0000 1234", Order: "O2026112300042"}
		send(t, sh.c, good)
		fs := readUntil(t, sh.c, "the ack and the note", all(isAck("l1"), isMessageFrom("system")))
		ack, _ := find(fs, isAck("l1"))
		st, _ := find(fs, isType("status"))
		note, _ := find(fs, all(isMessageFrom("system"), isSeq(ack.num("seq"))))
		ts := e.leftTickets(t, sh.conv)
		if len(ts) != 1 {
			t.Fatalf("tickets = %+v, want one", ts)
		}
		tk := ts[0]
		conv, _ := e.desk.Conversation(ctx, sh.conv)
		if tk.Type != handoff.TicketMessage || tk.Status != handoff.TicketOpen || tk.Group != handoff.GroupPresale ||
			tk.Reason != good.Text || tk.Contact != good.Contact || tk.Order != good.Order || tk.CreatedBy != conv.Shopper.ID {
			t.Errorf("ticket = %+v", tk)
		}
		if st == nil || st.str("status") != "resolved" || st.str("reason") != "left_message" {
			t.Errorf("status record = %v, want resolved with reason left_message", st)
		}
		if note == nil || !strings.Contains(note.str("text"), tk.ID) {
			t.Errorf("note at the ack's seq = %v, want one naming %s; frames %v", note, tk.ID, fs)
		}
		if w, _ := e.desk.Waiting(ctx, ""); len(w) != 0 || conv.Status != handoff.StatusResolved {
			t.Errorf("after leaving a message the chat is %s and the queue holds %d", conv.Status, len(w))
		}
		send(t, sh.c, good)
		if f := readUntil(t, sh.c, "the resend's ack", isAck("l1")); f[len(f)-1].num("seq") != ack.num("seq") {
			t.Errorf("resend acked %v, want seq %d", f[len(f)-1], ack.num("seq"))
		}
		if n := len(e.leftTickets(t, sh.conv)); n != 1 {
			t.Errorf("after the resend there are %d tickets", n)
		}
		send(t, sh.c, leaveFrame{Type: "leave_message", ID: "l2", Text: "还在吗"})
		if f := readUntil(t, sh.c, "the refusal", isType("error"))[0]; f.str("code") != "not_queued" || f.str("id") != "l2" {
			t.Errorf("a second message after leaving = %v, want not_queued", f)
		}

		// After-sales: the message is the after-sales group's, and listed for it.
		as := e.connect(t, "")
		as.say(t, "r1", askReturn)
		readUntil(t, as.c, "the offer", isOffer("offline"))
		send(t, as.c, leaveFrame{Type: "leave_message", ID: "l1", Text: "杯子碎了，请联系我"})
		readUntil(t, as.c, "the ack", isAck("l1"))
		open, err := e.tickets.List(ctx, handoff.TicketFilter{Type: handoff.TicketMessage, Group: handoff.GroupAftersale, Status: handoff.TicketOpen})
		if err != nil || len(open) != 1 || open[0].Conversation != as.conv {
			t.Errorf("open after-sales messages = %+v, %v; want the one of %s", open, err, as.conv)
		}
	})
}

// TestLeaveMessageTimeout: with an agent online, the offer comes once the chat has
// waited the queue timeout; if the agent takes the chat before the shopper sends the
// form, the text reaches the agent as a message.
func TestLeaveMessageTimeout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, setup{desk: func(c *handoff.DeskConfig) {
		c.Now, c.ManualOnly, c.QueueTimeout = time.Now, true, 200*time.Millisecond
	}})
	e.rig.Staff.Add(account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
	if _, err := e.desk.Heartbeat(ctx, "alice", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	sh := e.connect(t, "")
	start := time.Now()
	sh.handOff(t, "h1")
	f := readUntil(t, sh.c, "an offer", isType("leave_message"))
	// The store keeps milliseconds: the wait may start up to a millisecond before start.
	if got := f[len(f)-1].str("reason"); got != "timeout" || time.Since(start) < 198*time.Millisecond {
		t.Errorf("offer %q after %v, want timeout after 200ms", got, time.Since(start))
	}
	if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
		t.Fatal(err)
	}
	send(t, sh.c, leaveFrame{Type: "leave_message", ID: "l1", Text: "等太久了，能快点吗"})
	readUntil(t, sh.c, "the text as a message", all(isAck("l1"), func(f frame) bool {
		return isMessageFrom("shopper")(f) && f.str("text") == "等太久了，能快点吗"
	}))
	if n := len(e.leftTickets(t, sh.conv)); n != 0 {
		t.Errorf("%d tickets for a chat an agent had taken", n)
	}
}
