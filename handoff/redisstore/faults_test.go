package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/redis/go-redis/v9"
)

// The faults a change survives. A change that moves the routing side is made in steps
// (package doc): these tests stop between them, as a node that stops does, make the
// conversation side refuse, or lose the reply of a step so that go-redis runs it again;
// and they stop Redis under a waiting chat.

// TestPendingRecovery plays a node that stopped between the steps of a change: while
// the change is young, others are told the chat is changing and readers of the queue
// and of the agent's chats do not lose it; once it is PendingAfter old, the next change
// of the chat, Recover, or any node's Listen on its own, finishes it.
func TestPendingRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	sub := n.Desk.Subscribe("")
	t.Cleanup(sub.Close)

	// alice's claim stops after its first step.
	c1 := n.queued(t)
	if _, err := n.store.Reserve(ctx, claim(c1, "alice", 0)); err != nil {
		t.Fatal(err)
	}
	if w := n.waiting(t, handoff.GroupPresale); len(w) != 0 {
		t.Errorf("waiting during the half claim = %v, want none: it left the queue", w)
	}
	if o := n.owned(t, "alice"); len(o) != 0 {
		t.Errorf("alice owns %v before her claim is written", o)
	}
	if l := n.loads(t, "alice"); l[0] != 1 {
		t.Errorf("alice's load during her half claim = %d, want 1: it counts against her limit", l[0])
	}
	if _, err := n.Desk.Claim(ctx, c1.ID, "bob"); !errors.Is(err, handoff.ErrBusy) {
		t.Errorf("bob's claim during alice's: error = %v, want ErrBusy", err)
	}
	if err := n.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if p := n.pending(t); !slices.Equal(p, []string{c1.ID}) {
		t.Errorf("pending after a Recover while the change is young = %v, want %s", p, c1.ID)
	}
	n.clock.Advance(redisstore.PendingAfter)
	if _, err := n.Desk.Claim(ctx, c1.ID, "bob"); !errors.Is(err, handoff.ErrAlreadyClaimed) {
		t.Errorf("bob's claim once alice's is stale: error = %v, want ErrAlreadyClaimed", err)
	}
	if c := n.get(t, c1.ID); c.Status != handoff.StatusActive || c.Agent != "alice" || enginetest.CountStatus(t, n.Desk, c1.ID, handoff.StatusActive) != 1 {
		t.Errorf("after bob's claim finished alice's: %s with %q, %d claims", c.Status, c.Agent, enginetest.CountStatus(t, n.Desk, c1.ID, handoff.StatusActive))
	}
	if o := n.owned(t, "alice"); !slices.Equal(o, []string{c1.ID}) {
		t.Errorf("alice owns %v, want %s", o, c1.ID)
	}
	if c, err := n.Desk.Claim(ctx, c1.ID, "alice"); err != nil || c.Agent != "alice" {
		t.Errorf("alice's retry = %q, %v; want her claim", c.Agent, err)
	}

	// A hand-off stops after its first step: the chat is in no queue yet; Recover
	// finishes it.
	bot, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	handoffOf := func(c handoff.Conversation, key string) handoff.Change {
		return changeTo(c, "handoff:"+key, "", 0, func(next *handoff.Conversation) {
			next.Status, next.Group, next.Reason, next.Key = handoff.StatusQueued, handoff.GroupPresale, triage.ReasonRequested, "handoff:"+key
			next.EnqueuedAt, next.Score = n.clock.Now(), n.clock.Now().UnixMilli()
		})
	}
	if _, err := n.store.Reserve(ctx, handoffOf(bot, "k2")); err != nil {
		t.Fatal(err)
	}
	if w := n.waiting(t, handoff.GroupPresale); len(w) != 0 {
		t.Errorf("waiting during the half hand-off = %v, want none", w)
	}
	n.clock.Advance(redisstore.PendingAfter)
	if err := n.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if c := n.get(t, bot.ID); c.Status != handoff.StatusQueued || !slices.Equal(n.waiting(t, handoff.GroupPresale), []string{bot.ID}) {
		t.Errorf("after Recover the hand-off is %s, waiting %v", c.Status, n.waiting(t, handoff.GroupPresale))
	}
	enginetest.Await(t, sub, 20*time.Second, "the recovered hand-off joining the queue", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Joined != nil && e.Joined.ID == bot.ID
	})

	// Another hand-off stops after its first step; nobody calls Recover: the desk's Run
	// listens, and its Listen finishes it.
	late, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.Reserve(ctx, handoffOf(late, "k3")); err != nil {
		t.Fatal(err)
	}
	n.clock.Advance(redisstore.PendingAfter)
	enginetest.Await(t, sub, 20*time.Second, "Listen finishing the hand-off", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Joined != nil && e.Joined.ID == late.ID
	})
	if c := n.get(t, late.ID); c.Status != handoff.StatusQueued || len(n.pending(t)) != 0 {
		t.Errorf("after Listen: %s, pending %v", c.Status, n.pending(t))
	}
}

// noteIntent changes conversation id's record alone, as a change that moves no index
// does: its revision moves on, the routing side stays.
func (n *node) noteIntent(t *testing.T, id string) {
	t.Helper()
	c := n.get(t, id)
	ch := changeTo(c, fmt.Sprintf("intent:%d", c.Rev), "", 0, func(next *handoff.Conversation) { next.Intent = triage.IntentPresale })
	if _, err := n.Engine.Conversations.Commit(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
}

// routing is what the routing side holds of the pre-sale queue and alice and bob.
type routing struct {
	queue  []string
	ver    int64
	owners map[string][]string
}

func (n *node) routing(t *testing.T) routing {
	t.Helper()
	ctx := context.Background()
	q, err := n.store.QueueIndex(ctx, handoff.GroupPresale)
	if err != nil {
		t.Fatal(err)
	}
	_, ver, err := n.Engine.Conversations.Place(ctx, handoff.GroupPresale, "")
	if err != nil {
		t.Fatal(err)
	}
	o, err := n.store.OwnerIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return routing{queue: q, ver: ver, owners: o}
}

// TestUndo: when the conversation side refuses a reserved change because the record's
// revision moved meanwhile, the routing side is put back as it was — the queue and the
// chat's place in it, the owners, the routing revision — and the queue's version moves
// on, so that whoever follows the queue from its events stays right. Afterwards the
// chat takes changes as before. A change a stopped node left pending is undone by
// Recover the same way.
func TestUndo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	a, c, b := n.queued(t), n.queued(t), n.queued(t)
	sub := n.Desk.Subscribe(b.ID)
	t.Cleanup(sub.Close)
	sub.WatchQueue(handoff.GroupPresale)
	place, err := n.Desk.Place(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	before := n.routing(t)
	if want := []string{a.ID, c.ID, b.ID}; !slices.Equal(before.queue, want) {
		t.Fatalf("queue = %v, want %v", before.queue, want)
	}

	r, err := n.store.Reserve(ctx, claim(c, "alice", 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.routing(t); slices.Contains(got.queue, c.ID) || !slices.Equal(got.owners["alice"], []string{c.ID}) || got.ver != before.ver+1 {
		t.Fatalf("after the reserve: %+v, want %s out of the queue and alice's", got, c.ID)
	}
	n.noteIntent(t, c.ID)
	if _, err := n.store.Complete(ctx, r); !errors.Is(err, handoff.ErrConflict) {
		t.Fatalf("completing a claim whose record moved: error = %v, want ErrConflict", err)
	}
	after := n.routing(t)
	if !slices.Equal(after.queue, before.queue) || len(after.owners) != 0 || after.ver != before.ver+2 {
		t.Errorf("after the undo: queue %v (version %d), owners %v; want %v (version %d), no owners", after.queue, after.ver, after.owners, before.queue, before.ver+2)
	}
	if rev, err := n.store.RoutingRev(ctx, c.ID); err != nil || rev != c.Rev {
		t.Errorf("routing revision after the undo = %d, %v; want %d, the one the claim was decided on", rev, err, c.Rev)
	}
	if p := n.pending(t); len(p) != 0 {
		t.Errorf("pending after the undo: %v", p)
	}
	if got := n.get(t, c.ID); got.Status != handoff.StatusQueued || got.Agent != "" || got.Rev != c.Rev+1 || enginetest.CountStatus(t, n.Desk, c.ID, handoff.StatusActive) != 0 {
		t.Errorf("record after the undo = %+v", got)
	}
	// b's shopper, following the queue from its events, is where the engine says.
	timeout := time.After(10 * time.Second)
	for place.Ver < after.ver {
		select {
		case e := <-sub.C:
			if _, ok := place.Apply(e); !ok {
				t.Fatalf("event %+v cannot be applied to %+v", e, place)
			}
		case <-timeout:
			t.Fatalf("place %+v did not reach version %d", place, after.ver)
		}
	}
	if pos, _, _ := n.Engine.Conversations.Place(ctx, handoff.GroupPresale, b.ID); place.Pos != pos || pos != 3 {
		t.Errorf("b follows place %d, the engine says %d; want 3", place.Pos, pos)
	}
	// The chat takes changes again.
	if got, err := n.Desk.Claim(ctx, c.ID, "alice"); err != nil || got.Agent != "alice" {
		t.Fatalf("claim after the undo = %q, %v", got.Agent, err)
	}

	// A transfer refused: alice keeps the chat, bob's load is back.
	tr := changeTo(n.get(t, c.ID), "transfer:x", "bob", 0, func(next *handoff.Conversation) { next.Agent = "bob" })
	if r, err = n.store.Reserve(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if l := n.loads(t, "alice", "bob"); !slices.Equal(l, []int{0, 1}) {
		t.Errorf("loads during the transfer = %v, want [0 1]", l)
	}
	n.noteIntent(t, c.ID)
	if _, err := n.store.Complete(ctx, r); !errors.Is(err, handoff.ErrConflict) {
		t.Fatalf("completing a transfer whose record moved: error = %v, want ErrConflict", err)
	}
	if got := n.routing(t); len(got.owners) != 1 || !slices.Equal(got.owners["alice"], []string{c.ID}) {
		t.Errorf("owners after the undone transfer = %v, want alice's %s alone", got.owners, c.ID)
	}
	if got := n.get(t, c.ID); got.Agent != "alice" || got.Status != handoff.StatusActive {
		t.Errorf("record after the undone transfer: %s with %q", got.Status, got.Agent)
	}

	// A stopped node's claim whose record moved since: Recover undoes it.
	if r, err = n.store.Reserve(ctx, claim(a, "bob", 0)); err != nil {
		t.Fatal(err)
	}
	n.noteIntent(t, a.ID)
	n.clock.Advance(redisstore.PendingAfter)
	if err := n.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got := n.routing(t); !slices.Equal(got.queue, []string{a.ID, b.ID}) || len(got.owners["bob"]) != 0 || len(n.pending(t)) != 0 {
		t.Errorf("after Recover: queue %v, owners %v, pending %v; want a back at the front, bob without chats", got.queue, got.owners, n.pending(t))
	}
	if got, err := n.Desk.Claim(ctx, a.ID, "bob"); err != nil || got.Agent != "bob" {
		t.Errorf("claim after the undo by Recover = %q, %v", got.Agent, err)
	}
}

// replyDropper is a TCP proxy to Redis that, while armed, forwards the nth script call
// from then and closes the client's connection instead of passing its reply on: the
// script ran, the client never learns it. go-redis then sends the call again on a new
// connection.
type replyDropper struct {
	ln      net.Listener
	backend string
	skip    atomic.Int32 // script calls to let through before the one whose reply is lost; -1: none
	dropped atomic.Int32
	wg      sync.WaitGroup
}

func newReplyDropper(t *testing.T, backend string) *replyDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyDropper{ln: ln, backend: backend}
	p.skip.Store(-1)
	p.wg.Go(p.accept)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// arm makes the proxy lose the reply of the script call after the next skip ones.
func (p *replyDropper) arm(skip int32) { p.skip.Store(skip) }

func (p *replyDropper) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve relays one client connection, request by request.
func (p *replyDropper) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer server.Close()
	// dropping is set before a request whose reply must be lost is sent, so the reply
	// goroutine cannot pass that reply on.
	var dropping atomic.Bool
	p.wg.Go(func() {
		b := make([]byte, 64<<10)
		for {
			n, err := server.Read(b)
			if err != nil || dropping.Load() {
				if err == nil {
					p.dropped.Add(1) // the script ran: its reply is here, and is lost
				}
				client.Close()
				server.Close()
				return
			}
			if _, err := client.Write(b[:n]); err != nil {
				server.Close()
				return
			}
		}
	})
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			return
		}
		req := buf[:n]
		if bytes.Contains(bytes.ToLower(req), []byte("evalsha")) {
			if k := p.skip.Add(-1); k == -1 {
				dropping.Store(true)
			} else if k < -1 {
				p.skip.Store(-1)
			}
		}
		if _, err := server.Write(req); err != nil {
			return
		}
	}
}

// TestRetryStoresOnce: a script whose reply is lost, and which go-redis therefore runs
// again, stores once. An append is answered with its first seq; a claim, whichever of
// its steps lost its reply (the reservation, the conversation side, the end), is made
// once, and nothing stays pending.
func TestRetryStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	proxy := newReplyDropper(t, srv.Addr())
	n := openNode(t, desktest.Options{Server: srv, Desk: manual, Client: func(string) *redis.Client {
		return redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	}})
	c, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Load the scripts first so that the calls that lose their reply are the EVALSHAs
	// of the change itself.
	if _, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "warm", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "warm-up"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Desk.Claim(ctx, n.queued(t).ID, "bob"); err != nil {
		t.Fatal(err)
	}

	proxy.arm(0)
	m, dup, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "我要退货"})
	if err != nil {
		t.Fatalf("Append through a lost reply: %v", err)
	}
	if proxy.dropped.Load() != 1 {
		t.Fatalf("the proxy dropped %d replies, want 1: the retry path was not exercised", proxy.dropped.Load())
	}
	if m.Seq != 2 || !dup {
		t.Errorf("Append = seq %d, dup %v; want the first write's seq 2, reported as a duplicate", m.Seq, dup)
	}
	all, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].ID != "m1" {
		t.Fatalf("log holds %d records (%+v), want warm-up and m1 once", len(all), all)
	}
	if next, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m2", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "next"}); err != nil || next.Seq != 3 {
		t.Errorf("next Append = seq %d, err %v; want 3", next.Seq, err)
	}

	// A claim is three scripts: the reservation, the conversation side, the end.
	for step, name := range []string{"the reservation", "the conversation side", "the end"} {
		id := n.handoff(t, handoff.GroupPresale, triage.ReasonRequested, 0)
		before := proxy.dropped.Load()
		proxy.arm(int32(step))
		got, err := n.Desk.Claim(ctx, id, "alice")
		if err != nil || got.Status != handoff.StatusActive || got.Agent != "alice" {
			t.Errorf("claim whose %s lost its reply = %s with %q, %v", name, got.Status, got.Agent, err)
		}
		if proxy.dropped.Load() != before+1 {
			t.Fatalf("claim whose %s lost its reply: the proxy dropped %d replies, want 1", name, proxy.dropped.Load()-before)
		}
		if k := enginetest.CountStatus(t, n.Desk, id, handoff.StatusActive); k != 1 {
			t.Errorf("claim whose %s lost its reply: %d status-active records, want 1", name, k)
		}
		if p := n.pending(t); len(p) != 0 {
			t.Errorf("claim whose %s lost its reply left %v pending", name, p)
		}
	}
	if l := n.loads(t, "alice"); l[0] != 3 {
		t.Errorf("alice's load after three claims = %d, want 3", l[0])
	}
}

// sameRecord compares the fields of two records that can be compared with ==.
func sameRecord(a, b handoff.Message) bool {
	return a.Seq == b.Seq && a.Kind == b.Kind && a.From == b.From && a.ID == b.ID && a.Text == b.Text &&
		a.Agent == b.Agent && a.Reason == b.Reason && a.Group == b.Group && a.Status == b.Status && a.TS == b.TS
}

// TestRedisRestart stops Redis under a queued conversation and starts it again: calls
// fail while it is down, within their deadline, and everything is back (from the AOF)
// after.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	c, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Group: handoff.GroupAftersale,
		Context: &handoff.Context{Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Confidence: 0.42, Question: "我要退货",
			Hits: []handoff.Candidate{{ID: "return-policy", Title: "七天无理由退货", Score: 3.25}, {ID: "refund-time", Title: "退款多久到账", Score: 1.5}}}}
	if err := n.Desk.Handoff(ctx, c.ID, h); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m2", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "订单号 20240101"}); err != nil {
		t.Fatal(err)
	}
	before, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	n.Server.Stop()
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"Waiting", func(ctx context.Context) error { _, err := n.Desk.Waiting(ctx, ""); return err }},
		{"Claim", func(ctx context.Context) error { _, err := n.Desk.Claim(ctx, c.ID, "alice"); return err }},
		{"Reply", func(ctx context.Context) error {
			_, err := n.Desk.Reply(ctx, c.ID, "alice", "r1", "您好")
			return err
		}},
		{"ShopperSays", func(ctx context.Context) error {
			_, err := n.Desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m3", Text: "在吗"}, nil)
			return err
		}},
	} {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		errc := make(chan error, 1)
		go func() { errc <- call.do(ctx) }()
		select {
		case err := <-errc:
			if err == nil {
				t.Errorf("%s with Redis down: no error", call.name)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s with Redis down still running after 10s", call.name)
		}
		cancel()
	}

	n.Server.Restart()
	timetest.Poll(t, 10*time.Second, "an answer from Redis after the restart", func() bool { return n.Desk.Ping(ctx) == nil })
	got := n.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || got.Seq != int64(len(before)) || got.Context == nil || len(got.Context.Hits) != 2 {
		t.Errorf("after the restart the conversation is %+v", got)
	}
	after, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("log has %d records after the restart, %d before", len(after), len(before))
	}
	for i := range after {
		if !sameRecord(after[i], before[i]) {
			t.Errorf("record %d after the restart = %+v, before %+v", i+1, after[i], before[i])
		}
	}
	if w := n.waiting(t, handoff.GroupAftersale); !slices.Equal(w, []string{c.ID}) {
		t.Errorf("Waiting after the restart = %v, want [%s]", w, c.ID)
	}
	claimed, err := n.Desk.Claim(ctx, c.ID, "alice")
	if err != nil || claimed.Status != handoff.StatusActive || claimed.Agent != "alice" {
		t.Fatalf("Claim after the restart = %s with %q, %v", claimed.Status, claimed.Agent, err)
	}
	if k := enginetest.CountStatus(t, n.Desk, c.ID, handoff.StatusActive); k != 1 {
		t.Errorf("log has %d status-active records, want 1", k)
	}
}
