package console

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
)

// The console tests drive a real desk on both of its storage engines, through the desk's
// exported API only.

// ctNewClock returns the clock the console tests give to stores and desks. Every
// reading moves it on by a millisecond, so that stored times are distinct and ordered
// even at the Redis engine's millisecond precision.
func ctNewClock() *timetest.Clock {
	return timetest.NewClock(time.Now().Truncate(time.Millisecond), time.Millisecond)
}

// ctEachEngine runs test in a parallel subtest on each of the desk's storage engines
// (handoff/desktest), named after it.
func ctEachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range desktest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			test(t, engine)
		})
	}
}

// ctContext is the hand-off packet of ctQueue.
func ctContext() *handoff.Context {
	return &handoff.Context{
		Reason: "after_sales", Intent: "aftersale", Confidence: 0.42, Question: "我要退货",
		Hits: []handoff.Candidate{
			{ID: "return-policy", Title: "七天无理由退货", Category: "aftersale", Score: 3.25},
			{ID: "refund-time", Title: "退款多久到账", Category: "aftersale", Score: 1.5},
		},
	}
}

// ctQueue starts a conversation in which the shopper asks to return an item, hands it to
// group's queue and returns it.
func ctQueue(t *testing.T, d *handoff.Desk, group handoff.Group) handoff.Conversation {
	t.Helper()
	id := ctStart(t, d, "我要退货", handoff.HandoffRequest{Reason: "after_sales", Group: group, Intent: "aftersale", Context: ctContext()})
	c := ctConv(t, d, id)
	if c.Status != handoff.StatusQueued {
		t.Fatalf("status after Handoff = %q, want %q", c.Status, handoff.StatusQueued)
	}
	return c
}

// ctStart starts a conversation in which the shopper says text, hands it off with h for
// that message and returns its id.
func ctStart(t *testing.T, d *handoff.Desk, text string, h handoff.HandoffRequest) string {
	t.Helper()
	ctx := context.Background()
	c, _, err := d.StartAs(ctx, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, _, err := d.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: text}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	h.Key = "m1"
	if err := d.Handoff(ctx, c.ID, h); err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	return c.ID
}

// ctLog returns the conversation's whole log.
func ctLog(t *testing.T, d *handoff.Desk, id string) []handoff.Message {
	t.Helper()
	ms, err := d.Messages(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatalf("Messages(%q): %v", id, err)
	}
	return ms
}

// ctTexts returns the texts of the system messages of a conversation's log.
func ctTexts(t *testing.T, d *handoff.Desk, id string) []string {
	t.Helper()
	var out []string
	for _, m := range ctLog(t, d, id) {
		if m.Kind == handoff.KindMessage && m.From == handoff.FromSystem {
			out = append(out, m.Text)
		}
	}
	return out
}

// ctCount counts the records of log that are status changes to status.
func ctCount(log []handoff.Message, status handoff.Status) int {
	n := 0
	for _, m := range log {
		if m.Kind == handoff.KindStatus && m.Status == status {
			n++
		}
	}
	return n
}

func ctIDs(cs []handoff.Conversation) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// ctConv returns a conversation.
func ctConv(t *testing.T, d *handoff.Desk, id string) handoff.Conversation {
	t.Helper()
	c, err := d.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ctHandoff starts a conversation in which the shopper greets, hands it to group's queue
// for reason and returns its id.
func ctHandoff(t *testing.T, d *handoff.Desk, group handoff.Group, reason triage.Reason) string {
	t.Helper()
	return ctStart(t, d, "你好", handoff.HandoffRequest{Reason: reason, Group: group})
}

// events opens the event stream as user, within a deadline of 10 s that fails a read
// blocked past it, past its first line ("retry:"); it returns the response and a
// function that reads the next event, skipping comments and other fields.
func (f *ctConsole) events(t *testing.T, user string) (*http.Response, func() streamEvent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req := f.api.NewRequest(t, "GET", "/api/events", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+f.token[user])
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /api/events as %s: %d %s", user, res.StatusCode, res.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(res.Body)
	// The handler subscribes before it answers; "retry:" comes right after the headers.
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry: ") {
		t.Fatalf("first line of the stream = %q, %v", line, err)
	}
	return res, func() streamEvent {
		t.Helper()
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the event stream: %v", err)
			}
			data, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "data: ")
			if !ok {
				continue
			}
			var e streamEvent
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			return e
		}
	}
}
