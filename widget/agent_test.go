package widget_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
)

// handOff asks for a person and waits until the shopper has seen the transfer message
// and the queue frame, which may come in either order.
func (sh *shopper) handOff(t *testing.T, id string) []frame {
	t.Helper()
	send(t, sh.c, msg{Type: "handoff", ID: id})
	transfer := func(f frame) bool {
		return isMessageFrom("system")(f) && f.str("text") == handoff.DefaultPhrases.TransferPresale
	}
	return readUntil(t, sh.c, "the transfer message and the queue frame", all(transfer, isType("queue")))
}

func TestAgentReply(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		// Shoppers see alice's display name, never her login (docs/domain.md rule 18).
		e.rig.Staff.Add(account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupPresale), DisplayName: "小美"})
		sh := e.connect(t, "")
		sh.handOff(t, "h1") // seqs 1, 2

		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		fs := readUntil(t, sh.c, "the agent's greeting", isSeq(4))
		if got := logSeqs(fs); !slices.Equal(got, []int64{3, 4}) {
			t.Fatalf("log frames after the claim = %v, want 3, 4", got)
		}
		st, _ := find(fs, isSeq(3))
		checkFields(t, st, map[string]any{"type": "status", "seq": 3, "status": "active", "agent": "小美", "ts": nil})
		joined, _ := find(fs, isSeq(4))
		checkFields(t, joined, map[string]any{
			"type": "message", "seq": 4, "from": "system", "ts": nil,
			"text": strings.ReplaceAll(handoff.DefaultPhrases.AgentJoined, "{agent}", "小美"),
		})
		// A position read as the claim went through may arrive before the status
		// frame, never after it.
		_, stAt := find(fs, isSeq(3))
		if f, _ := find(fs[stAt:], isType("queue")); f != nil {
			t.Errorf("got a queue frame %v after the active status: %v", f, fs)
		}

		const reply = "您好，我是客服 alice，请问订单号是多少？"
		if _, err := e.desk.Reply(ctx, sh.conv, "alice", "r1", reply); err != nil {
			t.Fatalf("Reply: %v", err)
		}
		fs = readUntil(t, sh.c, "the agent's reply", isSeq(5))
		checkFields(t, fs[len(fs)-1], map[string]any{
			"type": "message", "seq": 5, "from": "agent", "agent": "小美", "text": reply, "ts": nil,
		})

		// While a person has the chat, the bot keeps quiet, even on a question it knows.
		sh.say(t, "m-active", askInvoice)
		fs = readUntil(t, sh.c, "the shopper's message", isSeq(6))
		fs = append(fs, sh.barrier(t)...)
		if f, _ := find(fs, isMessageFrom("bot")); f != nil {
			t.Errorf("the bot answered while an agent had the chat: %v", f)
		}
		log := e.logOf(t, sh.conv)
		if len(log) != 6 || log[5].From != handoff.FromShopper || log[5].ID != "m-active" {
			t.Errorf("log = %+v, want 6 records ending with the shopper's message", log)
		}
	})
}

// TestReopenAfterResolve: a shopper who writes after the reopen window (here: none)
// gets the bot again.
func TestReopenAfterResolve(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng, desk: func(c *handoff.DeskConfig) { c.ReopenWindow = -1 }})
		sh := e.connect(t, "")
		sh.handOff(t, "h1") // seqs 1, 2
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		readUntil(t, sh.c, "the agent's greeting", isSeq(4))

		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		fs := readUntil(t, sh.c, "the resolved status", isSeq(6))
		closing, _ := find(fs, isSeq(5))
		checkFields(t, closing, map[string]any{
			"type": "message", "seq": 5, "from": "system", "text": handoff.DefaultPhrases.Resolved, "ts": nil,
		})
		if st, _ := find(fs, isSeq(6)); st.str("type") != "status" || st.str("status") != "resolved" {
			t.Errorf("seq 6 = %v, want status resolved", st)
		}

		sh.say(t, "again", askInvoice)
		fs = readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))
		if got := logSeqs(fs); !slices.Equal(got, []int64{7, 8, 9}) {
			t.Fatalf("log frames = %v, want 7, 8, 9; frames: %v", got, fs)
		}
		reopened, _ := find(fs, isSeq(7))
		checkFields(t, reopened, map[string]any{"type": "status", "seq": 7, "status": "bot", "ts": nil})
		ack, _ := find(fs, isType("ack"))
		checkFields(t, ack, map[string]any{"type": "ack", "id": "again", "seq": 8})
		if m, _ := find(fs, isSeq(8)); m.str("from") != "shopper" || m.str("id") != "again" {
			t.Errorf("seq 8 = %v, want the shopper's message", m)
		}
		botMsg, _ := find(fs, isSeq(9))
		checkFields(t, botMsg, map[string]any{
			"type": "message", "seq": 9, "from": "bot", "text": invoiceArticle.Answer,
			"article": articleField(invoiceArticle), "ts": nil,
		})
		if c, err := e.desk.Conversation(ctx, sh.conv); err != nil || c.Status != handoff.StatusBot {
			t.Errorf("conversation = %+v, %v; want status bot", c, err)
		}
	})
}

// TestReopenWithinWindow: a shopper who writes again soon after the agent resolved the
// chat gets that agent back, and the bot stays quiet.
func TestReopenWithinWindow(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		e.rig.Staff.Add(account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
		if _, err := e.desk.Heartbeat(ctx, "alice", handoff.PresenceOnline); err != nil {
			t.Fatal(err)
		}
		sh := e.connect(t, "")
		send(t, sh.c, msg{Type: "handoff", ID: "h1"}) // seqs 1, 2; alice is online: assigned, 3, 4
		readUntil(t, sh.c, "alice's greeting", isSeq(4))
		// The assignment may still be finishing (ErrBusy): alice's console tries again.
		timetest.Poll(t, frameWait, "alice's resolve", func() bool {
			_, err := e.desk.Resolve(ctx, sh.conv, "alice")
			if err != nil && !errors.Is(err, handoff.ErrBusy) {
				t.Fatalf("Resolve: %v", err)
			}
			return err == nil
		})
		readUntil(t, sh.c, "the resolved status", isSeq(6))

		sh.say(t, "again", askInvoice)
		fs := readUntil(t, sh.c, "the shopper's message", isSeq(9))
		fs = append(fs, sh.barrier(t)...)
		st, _ := find(fs, isSeq(7))
		// alice has no display name: shoppers see a neutral label, never her login.
		label := account.NeutralLabel("alice")
		checkFields(t, st, map[string]any{"type": "status", "seq": 7, "status": "active", "agent": label, "reason": "reopened", "group": "presale", "ts": nil})
		note, _ := find(fs, isSeq(8))
		if want := strings.ReplaceAll(handoff.DefaultPhrases.ReopenedAgent, "{agent}", label); note.str("text") != want {
			t.Errorf("seq 8 = %v, want %q", note, want)
		}
		if f, _ := find(fs, isMessageFrom("bot")); f != nil {
			t.Errorf("the bot answered a chat back with alice: %v", f)
		}
		if c, err := e.desk.Conversation(ctx, sh.conv); err != nil || c.Status != handoff.StatusActive || c.Agent != "alice" {
			t.Errorf("conversation = %+v, %v; want active with alice", c, err)
		}
	})
}
