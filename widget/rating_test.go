package widget_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
)

// TestRate: a rating before the chat is resolved, with a bad score or a comment over 200
// characters is refused with an error frame and stores nothing; a good one is
// acknowledged with the seq of its rating record, which the shopper gets too; sent again
// it is stored once; a second rating replaces the first on the conversation.
func TestRate(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		e.rig.Staff.Add(account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupPresale), DisplayName: "小美"})
		sh := e.connect(t, "")
		sh.handOff(t, "h1") // seqs 1, 2
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, sh.c, "the agent's greeting", isSeq(4))
		send(t, sh.c, map[string]any{"type": "rate", "id": "early", "score": 5})
		readUntil(t, sh.c, "the refusal of an early rating", all(isError("not_ratable"), func(f frame) bool { return f.str("id") == "early" }))
		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, sh.c, "the resolved status", all(isType("status"), func(f frame) bool { return f.str("status") == "resolved" }))

		for _, bad := range []map[string]any{
			{"type": "rate", "id": "b1", "score": 0},
			{"type": "rate", "id": "b2", "score": 6},
			{"type": "rate", "id": "b3"},
			{"type": "rate", "id": "b5", "score": 4, "comment": strings.Repeat("慢", 201)},
		} {
			send(t, sh.c, bad)
			fs := readUntil(t, sh.c, "the refusal of "+bad["id"].(string), isError("bad_rating"))
			if f := fs[len(fs)-1]; f.str("id") != bad["id"] || f.str("message") == "" {
				t.Errorf("refusal %v, want one for %v with a message", f, bad["id"])
			}
		}
		before, err := e.desk.Conversation(ctx, sh.conv)
		if err != nil || before.Rating != nil {
			t.Fatalf("after refused ratings the conversation has rating %+v, %v", before.Rating, err)
		}

		send(t, sh.c, map[string]any{"type": "rate", "id": "r1", "score": 5, "comment": "小美很耐心"})
		fs := readUntil(t, sh.c, "the rating record", isType("rating"))
		ack, _ := find(fs, isAck("r1"))
		if ack == nil || ack.num("seq") != before.Seq+1 {
			t.Fatalf("ack of the rating = %v, want seq %d", ack, before.Seq+1)
		}
		checkFields(t, fs[len(fs)-1], map[string]any{
			"type": "rating", "seq": int(before.Seq + 1), "id": nil, "ts": nil,
			"rating": map[string]any{"score": float64(5), "comment": "小美很耐心"},
		})
		send(t, sh.c, map[string]any{"type": "rate", "id": "r1", "score": 5, "comment": "小美很耐心"})
		fs = readUntil(t, sh.c, "the ack of the rating sent again", isAck("r1"))
		if got := fs[len(fs)-1].num("seq"); got != before.Seq+1 {
			t.Errorf("the rating sent again was acknowledged with seq %d, want %d", got, before.Seq+1)
		}
		send(t, sh.c, map[string]any{"type": "rate", "id": "r2", "score": 4})
		readUntil(t, sh.c, "the second rating's ack", isAck("r2"))
		c, err := e.desk.Conversation(ctx, sh.conv)
		if err != nil || c.Rating == nil || c.Rating.Score != 4 || c.Rating.Comment != "" || c.Seq != before.Seq+2 {
			t.Errorf("after two ratings: rating %+v, seq %d, %v; want the second (4) and two records", c.Rating, c.Seq, err)
		}
	})
}

// editorsInbox records what the desk says did not help.
type editorsInbox struct {
	mu  sync.Mutex
	got []string
}

func (b *editorsInbox) Unhelpful(question, article string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, question+"|"+article)
}

// TestFeedback: 有帮助 / 没帮助 is taken on a bot answer only (an unknown seq, the
// shopper's own message or a malformed frame get bad_feedback); it is acknowledged with
// the seq of its record; 没帮助 puts the question in the editors' inbox and offers a
// person.
func TestFeedback(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		inbox := &editorsInbox{}
		e := newEnv(t, setup{engine: eng, desk: func(c *handoff.DeskConfig) { c.Unhelpful = inbox }})
		sh := e.connect(t, "")
		sh.say(t, "q1", askInvoice)
		fs := readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))
		answer := fs[len(fs)-1]
		asked, _ := find(fs, isAck("q1"))
		if answer.num("seq") == 0 || asked == nil {
			t.Fatalf("the answer %v or the question's ack missing in %v", answer, fs)
		}
		for _, bad := range []map[string]any{
			{"type": "feedback", "id": "f1", "seq": asked.num("seq"), "helpful": true},
			{"type": "feedback", "id": "f2", "seq": answer.num("seq") + 50, "helpful": true},
			{"type": "feedback", "id": "f3", "seq": answer.num("seq")},
			{"type": "feedback", "id": "f4", "helpful": false},
		} {
			send(t, sh.c, bad)
			fs := readUntil(t, sh.c, "the refusal of "+bad["id"].(string), isError("bad_feedback"))
			if f := fs[len(fs)-1]; f.str("id") != bad["id"] {
				t.Errorf("refusal %v, want one for %v", f, bad["id"])
			}
		}
		send(t, sh.c, map[string]any{"type": "feedback", "id": "f5", "seq": answer.num("seq"), "helpful": false})
		fs = readUntil(t, sh.c, "the offer of a person", all(isMessageFrom("system"), func(f frame) bool { return f.str("text") == handoff.DefaultPhrases.Unhelpful }))
		ack, _ := find(fs, isAck("f5"))
		rec, _ := find(fs, isType("feedback"))
		if ack == nil || rec == nil || ack.num("seq") != rec.num("seq") {
			t.Fatalf("ack %v and record %v of the feedback, want the same seq", ack, rec)
		}
		checkFields(t, rec, map[string]any{"type": "feedback", "seq": int(ack.num("seq")), "id": nil, "ts": nil,
			"feedback": map[string]any{"seq": float64(answer.num("seq")), "helpful": false, "article": invoiceArticle.ID}})
		inbox.mu.Lock()
		defer inbox.mu.Unlock()
		if len(inbox.got) != 1 || inbox.got[0] != askInvoice+"|"+invoiceArticle.ID {
			t.Errorf("the editors' inbox got %v, want the question with its article", inbox.got)
		}
	})
}
