package enginetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

func place(t *testing.T, e handoff.Engine, group handoff.Group, id string) (int, int64) {
	t.Helper()
	pos, ver, err := e.Conversations.Place(context.Background(), group, id)
	if err != nil {
		t.Fatalf("Place(%s, %s): %v", group, id, err)
	}
	return pos, ver
}

func queued(t *testing.T, e handoff.Engine, group handoff.Group) []string {
	t.Helper()
	cs, err := e.Conversations.Queue(context.Background(), group, 0)
	if err != nil {
		t.Fatalf("Queue(%s): %v", group, err)
	}
	return IDs(cs)
}

func testQueues(t *testing.T, e handoff.Engine) {
	ms := t0.UnixMilli()
	for _, id := range []string{"late", "early", "tie-b", "tie-a", "front", "other"} {
		create(t, e, id)
	}
	enqueue(t, e, "late", "presale", ms+5000, false)
	enqueue(t, e, "early", "presale", ms+1000, false)
	enqueue(t, e, "tie-b", "presale", ms+3000, false)
	enqueue(t, e, "tie-a", "presale", ms+3000, false)
	enqueue(t, e, "front", "presale", ms+9000, true)
	enqueue(t, e, "other", "aftersale", ms, false)
	want := []string{"front", "early", "tie-a", "tie-b", "late"}
	if got := queued(t, e, "presale"); !slices.Equal(got, want) {
		t.Fatalf("Queue(presale) = %v, want %v (front first, then by score, ties by id)", got, want)
	}
	if got := queued(t, e, "aftersale"); !slices.Equal(got, []string{"other"}) {
		t.Errorf("Queue(aftersale) = %v", got)
	}
	if head, _ := e.Conversations.Queue(context.Background(), "presale", 2); !slices.Equal(IDs(head), want[:2]) {
		t.Errorf("Queue(presale, 2) = %v", IDs(head))
	}
	_, ver := place(t, e, "presale", "late")
	if ver != 5 {
		t.Errorf("presale's version after 5 joins = %d, want 5", ver)
	}
	for i, id := range want {
		if pos, v := place(t, e, "presale", id); pos != i+1 || v != ver {
			t.Errorf("Place(%s) = %d (version %d), want %d (version %d)", id, pos, v, i+1, ver)
		}
	}
	if pos, _ := place(t, e, "aftersale", "late"); pos != 0 {
		t.Errorf("Place in a queue it does not wait in = %d, want 0", pos)
	}
	if pos, _ := place(t, e, "presale", "nobody"); pos != 0 {
		t.Errorf("Place of an unknown conversation = %d, want 0", pos)
	}
	// Leaving bumps the version by one.
	if err := give(e, get(t, e, "early"), "alice", 0); err != nil {
		t.Fatal(err)
	}
	if pos, v := place(t, e, "presale", "late"); pos != 4 || v != ver+1 {
		t.Errorf("after a claim: Place(late) = %d (version %d), want 4 (version %d)", pos, v, ver+1)
	}
	// A change that keeps the place (an intent noted while waiting) changes no queue.
	commit(t, e, "tie-a", func(c *handoff.Conversation) { c.Intent = "presale" }, msg("note", ""))
	if _, v := place(t, e, "presale", "late"); v != ver+1 {
		t.Errorf("a change keeping the place moved the version to %d", v)
	}
}

// listen starts delivering e's events into a channel until the test ends, and returns
// once the engine delivers (a published probe arrived).
func listen(t *testing.T, e handoff.Engine) <-chan handoff.Event {
	t.Helper()
	ch := make(chan handoff.Event, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Bus.Listen(ctx, func(ev handoff.Event) {
			select {
			case ch <- ev:
			default:
				t.Errorf("event channel full")
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := e.Bus.Publish(ctx, handoff.Event{Type: handoff.EventResync, Conv: "probe"}); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		select {
		case ev := <-ch:
			if ev.Conv == "probe" {
				drain(ch)
				return ch
			}
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event came through Listen within 10s")
		}
	}
}

func drain(ch <-chan handoff.Event) {
	for {
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// next returns the next event of ch that is not a resync, or fails.
func next(t *testing.T, ch <-chan handoff.Event) handoff.Event {
	t.Helper()
	for {
		select {
		case ev := <-ch:
			if ev.Type != handoff.EventResync {
				return ev
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
		}
	}
}

func testEvents(t *testing.T, e handoff.Engine) {
	ch := listen(t, e)
	create(t, e, "c1")
	commit(t, e, "c1", nil, msg("m1", "你好"))
	ev := next(t, ch)
	if ev.Type != handoff.EventConversation || ev.Conv != "c1" || len(ev.Messages) != 1 || ev.Messages[0].Seq != 1 ||
		ev.Messages[0].Text != "你好" || ev.Conversation == nil || ev.Conversation.Seq != 1 || ev.Conversation.TokenHash != "" {
		t.Fatalf("event of an append = %+v (record %+v), want the message and the record without its token", ev, ev.Conversation)
	}
	enqueue(t, e, "c1", "presale", t0.UnixMilli(), true)
	var conv, queue *handoff.Event
	for range 2 {
		ev := next(t, ch)
		switch ev.Type {
		case handoff.EventConversation:
			conv = &ev
		case handoff.EventQueue:
			queue = &ev
		}
	}
	if conv == nil || conv.Conversation.Status != handoff.StatusQueued || !conv.Conversation.Front || len(conv.Messages) != 1 {
		t.Errorf("event of a hand-off = %+v", conv)
	}
	if queue == nil || queue.Group != "presale" || queue.Ver != 1 || queue.Joined == nil || queue.Joined.ID != "c1" || queue.Left != nil {
		t.Errorf("queue event of a hand-off = %+v", queue)
	}
	if err := give(e, get(t, e, "c1"), "alice", 0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ev := next(t, ch); ev.Type == handoff.EventQueue && (ev.Ver != 2 || ev.Left == nil || ev.Left.ID != "c1" || ev.Joined != nil) {
			t.Errorf("queue event of a claim = %+v, want c1 left at version 2", ev)
		}
	}
	// A duplicate announces nothing new; Publish reaches listeners with what it carries.
	commit(t, e, "c1", nil, msg("m1", "again"))
	p := handoff.Presence{Agent: "alice", Group: "presale", Status: handoff.PresenceOnline}
	if err := e.Bus.Publish(context.Background(), handoff.Event{Type: handoff.EventPresence, Presence: &p}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Type != handoff.EventPresence || ev.Presence == nil || ev.Presence.Agent != "alice" {
		t.Errorf("after a duplicate append and a published presence: %+v, want the presence", ev)
	}
	// Events of one conversation arrive in the order of its commits.
	for i := 2; i <= 20; i++ {
		commit(t, e, "c1", nil, msg(fmt.Sprint("m", i), ""))
	}
	for i := int64(2); i <= 20; i++ {
		if ev := next(t, ch); len(ev.Messages) != 1 || ev.Messages[0].Seq != i+2 {
			t.Fatalf("event %d = %+v, want seq %d", i, ev, i+2)
		}
	}
}

func testConcurrent(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	create(t, e, "c1")
	enqueue(t, e, "c1", "presale", t0.UnixMilli(), false)
	c := get(t, e, "c1")
	var wg sync.WaitGroup
	won := make(chan string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := fmt.Sprint("agent", i)
			if err := give(e, c, agent, 0); err == nil {
				won <- agent
			}
		}()
	}
	// Appends from many writers get distinct, gapless sequence numbers.
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Append: []handoff.Message{msg(fmt.Sprint("w", i), "")}}); err != nil {
				t.Errorf("concurrent append: %v", err)
			}
		}()
	}
	wg.Wait()
	close(won)
	if n := len(won); n != 1 {
		t.Errorf("%d of 8 concurrent claims at one revision went through, want 1", n)
	}
	msgs, err := e.Conversations.Messages(ctx, "c1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d: not gapless", i, m.Seq)
		}
	}
	if len(msgs) != 42 {
		t.Errorf("log has %d records, want 42 (hand-off, claim, 40 appends)", len(msgs))
	}
}
