package enginetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// watcher follows one waiting conversation's place from the queue's events alone, as a
// shopper's session does, and counts how often it had to read the place again.
type watcher struct {
	sub   *handoff.Subscription
	place handoff.Place
	reads int
}

func (r *rig) watch(t *testing.T, c handoff.Conversation) *watcher {
	t.Helper()
	w := &watcher{sub: r.desk.Subscribe(c.ID)}
	t.Cleanup(w.sub.Close)
	w.sub.WatchQueue(c.Group)
	r.reread(t, w, c.ID)
	return w
}

func (r *rig) reread(t *testing.T, w *watcher, id string) {
	t.Helper()
	p, err := r.desk.Place(context.Background(), r.get(t, id))
	if err != nil {
		t.Fatalf("Place(%s): %v", id, err)
	}
	w.place, w.reads = p, w.reads+1
}

// settle applies every event that arrived for w, reading the place again where an event
// cannot be applied.
func (r *rig) settle(t *testing.T, w *watcher, id string) {
	t.Helper()
	for {
		select {
		case e := <-w.sub.C:
			if w.sub.Missed() {
				r.reread(t, w, id)
				continue
			}
			if _, ok := w.place.Apply(e); !ok {
				r.reread(t, w, id)
			}
		default:
			return
		}
	}
}

// testPositions moves a queue at random — new chats at every priority, claims of the
// head and of chats in the middle, chats leaving — and checks after each move that every
// waiting shopper's place, followed from the events alone, is the place the engine
// reads, and that following it costs no reads as the queue grows.
func testPositions(t *testing.T, r *rig) {
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	watchers := map[string]*watcher{}
	var waiting []string
	arrive := func() {
		var c handoff.Conversation
		switch rnd.IntN(3) {
		case 0:
			c = r.queued(t) // after-sales boost
		case 1:
			c = r.start(t, rnd.IntN(3))
			r.say(t, c.ID, "我要退货")
		default:
			c = r.start(t, 0)
			r.say(t, c.ID, "我要投诉") // complaint boost
		}
		c = r.get(t, c.ID)
		watchers[c.ID] = r.watch(t, c)
		waiting = append(waiting, c.ID)
	}
	leave := func(i int) {
		id := waiting[i]
		if _, err := r.desk.Claim(ctx, id, "lead"); err != nil {
			t.Fatalf("Claim(%s): %v", id, err)
		}
		if _, err := r.desk.Resolve(ctx, id, "lead"); err != nil {
			t.Fatal(err)
		}
		delete(watchers, id)
		waiting = append(waiting[:i], waiting[i+1:]...)
	}
	staff := r.staff["lead"]
	staff.MaxChats = 1000
	r.staff["lead"] = staff
	check := func(step int) {
		t.Helper()
		// Events travel asynchronously (on Redis through pub/sub); wait until every
		// watcher has caught up with the queue's version.
		_, ver, err := r.e.Conversations.Place(ctx, handoff.GroupAftersale, "")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for id, w := range watchers {
			for r.settle(t, w, id); w.place.Ver < ver && time.Now().Before(deadline); r.settle(t, w, id) {
				time.Sleep(time.Millisecond)
			}
			pos, _, err := r.e.Conversations.Place(ctx, handoff.GroupAftersale, id)
			if err != nil {
				t.Fatal(err)
			}
			if w.place.Pos != pos {
				t.Fatalf("step %d: %s follows place %d (version %d of %d), the engine says %d", step, id, w.place.Pos, w.place.Ver, ver, pos)
			}
		}
	}
	for step := range 60 {
		if len(waiting) < 3 || rnd.IntN(3) > 0 {
			arrive()
		} else {
			leave(rnd.IntN(len(waiting)))
		}
		r.clock.Advance(time.Duration(rnd.IntN(90)) * time.Second)
		check(step)
	}
	// Following the queue cost each shopper one read when it joined, and no more.
	for id, w := range watchers {
		if w.reads != 1 {
			t.Errorf("%s read its place %d times; want once", id, w.reads)
		}
	}
	// QueueStatus tells a shopper their place and a wait in proportion to it.
	for id, w := range watchers {
		qs, err := r.desk.QueueStatus(ctx, r.get(t, id), w.place)
		if err != nil || qs.Position != w.place.Pos || qs.Wait <= 0 || qs.Offer == "" {
			t.Errorf("QueueStatus(%s) = %+v, %v", id, qs, err)
		}
		break
	}
	if _, err := r.desk.Place(ctx, r.start(t, 0)); !errors.Is(err, handoff.ErrNotQueued) {
		t.Errorf("Place of a chat with the bot: %v, want ErrNotQueued", err)
	}
}
