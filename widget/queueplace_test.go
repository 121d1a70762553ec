package widget_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

func TestQueuePosition(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		// Each shopper hands off while no other shopper is connected: a connected
		// shopper's session reads the queue on its own wake-ups, and such a read racing
		// with a hand-off can drop the new entry from the Redis queue index (a bug of
		// handoff.RedisStore.Waiting, reported separately).
		// queued hands off a new shopper, returns its queue frame once the transfer
		// message is in too, and disconnects it.
		queued := func(name string, handoffFrame bool) (*shopper, frame) {
			t.Helper()
			sh := e.connect(t, "")
			last := int64(4) // shopper, bot, handoff, transfer message
			if handoffFrame {
				send(t, sh.c, msg{Type: "handoff", ID: "h1"})
				last = 2 // handoff, transfer message
			} else {
				sh.say(t, "r1", askReturn)
			}
			q, _ := find(readUntil(t, sh.c, name+"'s queue frame and transfer message", all(isSeq(last), isType("queue"))), isType("queue"))
			sh.c.Close()
			e.waitIdle(t)
			return sh, q
		}
		a, q := queued("a", false)
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		// Someone in another group does not count.
		_, q = queued("p", true)
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		b, q := queued("b", false)
		checkFields(t, q, map[string]any{"type": "queue", "position": 2, "eta_s": 120})

		// Both come back, and are told their places again.
		a = e.connect(t, a.resumeQuery(4))
		q, _ = find(readUntil(t, a.c, "a's queue frame", isType("queue")), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		b = e.connect(t, b.resumeQuery(4))
		q, _ = find(readUntil(t, b.c, "b's queue frame", isType("queue")), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 2, "eta_s": 120})

		if _, err := e.desk.Claim(ctx, a.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		// a waited a few milliseconds: the estimate per chat is its floor, 10 s.
		// Position reads the queue and the recent waits one after the other, so a
		// wake-up that lands in the middle of the claim may show a mixed estimate
		// first; the last word is position 1 in 10 s.
		fs := readUntil(t, b.c, "b's queue frame after a was claimed", func(f frame) bool {
			return f.str("type") == "queue" && f.num("position") == 1 && f.num("eta_s") == 10
		})
		for _, f := range fs {
			if f.str("type") == "queue" && f.num("position") != 1 && f.num("position") != 2 {
				t.Errorf("b got %v after a was claimed, want position 1 or 2", f)
			}
		}
		if got := logSeqs(fs); len(got) != 0 {
			t.Errorf("b got log frames %v for a's claim", got)
		}
		readUntil(t, a.c, "a's active status", isType("status"))
		if f, _ := find(a.barrier(t), isType("queue")); f != nil {
			t.Errorf("a got a queue frame %v after its active status", f)
		}
	})
}

// TestQueueFrameOnEveryHandoff: a conversation handed off a second time is told its
// queue position again, even when position and wait are those of its first hand-off.
func TestQueueFrameOnEveryHandoff(t *testing.T) {
	ctx := context.Background()
	// With a default wait of 10 s, the estimate before and after a claim is the same.
	// No reopen window: each round is a new hand-off from the bot.
	e := newEnv(t, setup{desk: func(c *handoff.DeskConfig) { c.DefaultWait, c.ReopenWindow = 10*time.Second, -1 }})
	sh := e.connect(t, "")
	for round := range 3 {
		q, _ := find(sh.handOff(t, fmt.Sprintf("h%d", round)), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 10})
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		readUntil(t, sh.c, "the resolved status", func(f frame) bool { return f.str("status") == "resolved" })
	}
}

// placeCounter counts the reads of queue places.
type placeCounter struct {
	handoff.Conversations
	n atomic.Int64
}

func (p *placeCounter) Place(ctx context.Context, g handoff.Group, id string) (int, int64, error) {
	p.n.Add(1)
	return p.Conversations.Place(ctx, g, id)
}

// TestQueuePositions: waiting shoppers are told their new place when a chat ahead of them
// is claimed, from the queue's events: each reads its place once, when it joins.
func TestQueuePositions(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		pc := new(placeCounter)
		e := newEnv(t, setup{engine: eng, wrap: func(c handoff.Conversations) handoff.Conversations { pc.Conversations = c; return pc }})
		var shoppers []*shopper
		for i := range 4 {
			sh := e.connect(t, "")
			if q, _ := find(sh.handOff(t, "h1"), isType("queue")); q.num("position") != int64(i+1) {
				t.Fatalf("shopper %d's queue frame = %v", i, q)
			}
			shoppers = append(shoppers, sh)
		}
		reads := pc.n.Load()
		if _, err := e.desk.Claim(ctx, shoppers[0].conv, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.desk.Claim(ctx, shoppers[2].conv, "alice"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, shoppers[1].c, "place 1", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 1 })
		readUntil(t, shoppers[3].c, "place 3, then 2", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 3 })
		readUntil(t, shoppers[3].c, "place 2", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 2 })
		if n := pc.n.Load() - reads; n != 0 {
			t.Errorf("the gateway read places %d times after the claims; want none: events carry the moves", n)
		}
	})
}
