package widget_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/files/filestest"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/widget"
)

// withLimits sets the gateway's limits to the defaults changed by spec
// (KEFU_RATE_LIMITS's format).
func withLimits(t *testing.T, spec string) func(*widget.Config) {
	rules, err := ratelimit.ParseRules(spec, widget.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return func(c *widget.Config) { c.Limits = rules }
}

// answered reads frames until the hand-off of sh's chat shows (a queue frame) or is
// refused (rate_limited), and reports which; a refusal must say when to try again.
func answered(t *testing.T, sh *shopper) (queued bool) {
	t.Helper()
	fs := readUntil(t, sh.c, "a queue frame or rate_limited", func(f frame) bool {
		return f.str("type") == "queue" || isError("rate_limited")(f)
	})
	last := fs[len(fs)-1]
	if last.str("type") == "error" && last.num("retry_after") < 1 {
		t.Errorf("rate_limited frame %v without retry_after", last)
	}
	return last.str("type") == "queue"
}

// TestHandoffFlood: from one address with the default limits, 60 new conversations
// asking for a person (half with the button, half in words the bot hands off) put at
// most 10 in the queues; the others are told rate_limited and store no conversation
// past the limit of new ones.
func TestHandoffFlood(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng, limits: true})
		queued := 0
		for i := range 60 {
			sh := e.connect(t, "")
			if i%2 == 0 {
				send(t, sh.c, msg{Type: "handoff", ID: fmt.Sprint("h", i)})
			} else {
				sh.say(t, fmt.Sprint("m", i), askReturn)
			}
			if answered(t, sh) {
				queued++
			}
			sh.c.Close()
		}
		inQueues := 0
		for _, g := range []handoff.Group{handoff.GroupPresale, handoff.GroupAftersale} {
			q, err := e.rig.Engine.Conversations.Queue(ctx, g, 0)
			if err != nil {
				t.Fatal(err)
			}
			inQueues += len(q)
		}
		if queued != inQueues || inQueues < 1 || inQueues > 10 {
			t.Errorf("%d shoppers saw a queue, %d chats wait; want the same, 1 to 10", queued, inQueues)
		}
		ids, err := e.rig.Engine.Purger.ConversationIDs(ctx)
		if err != nil || len(ids) > 20 {
			t.Errorf("%d conversations stored (%v); want at most the 20 new ones allowed", len(ids), err)
		}
	})
}

// TestConnectCloseStoresNothing: opening the widget and leaving stores nothing; the
// welcome's token still opens the draft again.
func TestConnectCloseStoresNothing(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng, limits: true})
		var last *shopper
		for range 300 {
			last = e.connect(t, "")
			last.c.Close()
		}
		e.waitIdle(t)
		if ids, err := e.rig.Engine.Purger.ConversationIDs(ctx); err != nil || len(ids) != 0 {
			t.Fatalf("after 300 connect-and-close cycles %d conversations are stored (%v); want none", len(ids), err)
		}
		again := e.resume(t, last, 0)
		if again.conv != last.conv || again.welcome.str("epoch") != last.welcome.str("epoch") {
			t.Fatalf("reconnecting to the draft: welcome %v, want conversation %s", again.welcome, last.conv)
		}
		again.say(t, "m1", askInvoice)
		readUntil(t, again.c, "the ack", isAck("m1"))
		if ids, _ := e.rig.Engine.Purger.ConversationIDs(ctx); len(ids) != 1 || ids[0] != last.conv {
			t.Errorf("after the first message the stored conversations are %q, want [%s]", ids, last.conv)
		}
	})
}

// TestMessagesSharedBySockets: 30 sockets on one conversation get no more messages
// accepted than one socket would: the conversation's limit is counted once for all.
func TestMessagesSharedBySockets(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng, limits: true})
		first := e.connect(t, "")
		acked, refused := 0, 0
		for i := range 30 {
			sh := first
			if i > 0 {
				sh = e.resume(t, first, 0)
			}
			for j := range 10 {
				sh.say(t, fmt.Sprintf("s%dm%d", i, j), askInvoice)
			}
			for j := range 10 {
				id := fmt.Sprintf("s%dm%d", i, j)
				fs := readUntil(t, sh.c, "the answer to "+id, func(f frame) bool {
					return f.str("id") == id && (f.str("type") == "ack" || f.str("type") == "error")
				})
				switch f := fs[len(fs)-1]; {
				case f.str("type") == "ack":
					acked++
				case f.str("code") == "rate_limited":
					refused++
				default:
					t.Fatalf("answer to %s: %v", id, f)
				}
			}
		}
		if acked != 10 || refused != 290 {
			t.Errorf("%d of 300 messages accepted, %d refused; want the one conversation's 10", acked, refused)
		}
		shopperMsgs := 0
		for _, m := range e.logOf(t, first.conv) {
			if m.From == handoff.FromShopper {
				shopperMsgs++
			}
		}
		if shopperMsgs != 10 {
			t.Errorf("the log holds %d shopper messages, want 10: a refused one is not stored", shopperMsgs)
		}
		// The limit refills with time: one more every 3 s.
		e.limitClock.Advance(3 * time.Second)
		fresh := e.resume(t, first, 0)
		fresh.say(t, "later", askInvoice)
		readUntil(t, fresh.c, "the ack of a message 3 s later", isAck("later"))
	})
}

// TestLeaveLimited: leave-a-message forms count per client; one over the limit is
// refused before anything is looked at.
func TestLeaveLimited(t *testing.T) {
	e := newEnv(t, setup{limits: true, gateway: withLimits(t, "leave=1/1h")})
	sh := e.connect(t, "")
	form := map[string]string{"type": "leave_message", "id": "l1", "text": "请回电", "contact": "13800138000"}
	send(t, sh.c, form)
	readUntil(t, sh.c, "not_queued", isError("not_queued"))
	form["id"] = "l2"
	send(t, sh.c, form)
	fs := readUntil(t, sh.c, "rate_limited", isError("rate_limited"))
	if f := fs[len(fs)-1]; f.str("id") != "l2" || f.num("retry_after") != 3600 {
		t.Errorf("refusal %v, want id l2 and retry_after 3600", f)
	}
}

// TestUploadLimited: uploads count per client and answer 429 with Retry-After; a
// photo before the first message stores the conversation.
func TestUploadLimited(t *testing.T) {
	e := newEnv(t, setup{limits: true, gateway: withLimits(t, "upload=1/1h")})
	sh := e.connect(t, "")
	png := filestest.PNG(t, 8, 8, 1)
	if up := e.upload(t, sh.conv, sh.token, bytes.NewReader(png), "image/png", nil); up.status != http.StatusCreated {
		t.Fatalf("first upload: %+v", up)
	}
	if _, err := e.desk.Conversation(context.Background(), sh.conv); err != nil {
		t.Errorf("the conversation after a photo: %v, want it stored", err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/uploads?conversation="+sh.conv, bytes.NewReader(png))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Kefu-Token", sh.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3600" {
		t.Errorf("second upload: %d, Retry-After %q; want 429 and 3600", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// countingBot counts the decisions asked of it.
type countingBot struct {
	widget.Decider
	n atomic.Int64
}

func (b *countingBot) Decide(ctx context.Context, in bot.Input) (bot.Decision, error) {
	b.n.Add(1)
	return b.Decider.Decide(ctx, in)
}

// TestAskLimitedAndCached: the public bot API decides once for a question asked again
// in other spacing and width, and answers 429 rate_limited past the client's limit.
func TestAskLimitedAndCached(t *testing.T) {
	b, err := testBot()
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingBot{Decider: b}
	var generation atomic.Uint64
	e := newEnv(t, setup{limits: true, gateway: func(c *widget.Config) {
		c.Bot, c.Generation = counting, generation.Load
		withLimits(t, "ask=6/1m")(c)
	}})
	for i, q := range []string{"可以开发票吗？", "  可以开发票吗？ ", "可以开发票吗?", "可以开发票吗？"} {
		resp, body := e.post(t, "", mustJSON(map[string]string{"text": q}))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), invoiceArticle.ID) {
			t.Fatalf("ask %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := counting.n.Load(); n != 1 {
		t.Errorf("the bot decided %d times for one question asked 4 times, want 1", n)
	}
	generation.Add(1) // an article changed: the answer may have too
	e.post(t, "", mustJSON(map[string]string{"text": "可以开发票吗？"}))
	if n := counting.n.Load(); n != 2 {
		t.Errorf("after the articles changed the bot decided %d times in all, want 2", n)
	}
	e.post(t, "", mustJSON(map[string]string{"text": askShipping}))
	resp, body := e.post(t, "", mustJSON(map[string]string{"text": askShipping}))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "10" ||
		!strings.Contains(string(body), `"rate_limited"`) {
		t.Errorf("the 7th ask: %d, Retry-After %q, %s; want 429 rate_limited after 10 s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
