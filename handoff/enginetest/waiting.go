package enginetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

// A waiting shopper: the order of the queues, the place followed from the queue's
// events, and what the shopper is told while waiting.

func testPriority(t *testing.T, r *rig) {
	ctx := context.Background()
	plain := r.asking(t, r.desk, 0)
	vip := r.asking(t, r.desk, 3)
	r.clock.Advance(time.Minute)
	later := r.asking(t, r.desk, 0)
	got, err := r.desk.Waiting(ctx, handoff.GroupPresale)
	if err != nil {
		t.Fatal(err)
	}
	// VIP 3 is six minutes' head start.
	if want := []string{vip.ID, plain.ID, later.ID}; !slices.Equal(IDs(got), want) {
		t.Errorf("presale queue = %v, want %v", IDs(got), want)
	}
	ret := r.queued(t)
	angry := r.start(t, 0)
	r.say(t, angry.ID, "我要投诉")
	got, _ = r.desk.Waiting(ctx, handoff.GroupAftersale)
	if want := []string{angry.ID, ret.ID}; !slices.Equal(IDs(got), want) {
		t.Errorf("aftersale queue = %v, want the complaint first: %v", IDs(got), want)
	}
}

// testPriorityOrder: complaints first, then after-sales, then the rest; VIP levels move a
// chat up, to MaxVIP at most; waiting moves every chat up, so a chat that waited long
// enough is ahead of a new complaint. Each place the desk reads is the queue's order.
func testPriorityOrder(t *testing.T, r *rig) {
	ctx := context.Background()
	plain := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0) // score t
	r.clock.Advance(time.Minute)
	angry := r.waiting(t, handoff.GroupPresale, triage.ReasonNegativeSentiment, 0) // t+1m-10m
	r.clock.Advance(time.Minute)
	vip := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 2) // t+2m-4m
	r.clock.Advance(time.Minute)
	later := r.waiting(t, handoff.GroupPresale, triage.ReasonLowConfidence, 0) // t+3m
	aftersale := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	r.clock.Advance(time.Minute)
	aftersaleAngry := r.waiting(t, handoff.GroupAftersale, triage.ReasonNegativeSentiment, 0)
	r.clock.Advance(20 * time.Minute)
	angryLate := r.waiting(t, handoff.GroupPresale, triage.ReasonNegativeSentiment, 99) // t+24m-10m-5×2m

	// later waited 21 minutes longer than angryLate, more than its boosts.
	want := []string{angry, vip, plain, later, angryLate}
	if got, _ := r.desk.Waiting(ctx, handoff.GroupPresale); !slices.Equal(IDs(got), want) {
		t.Errorf("presale queue = %v, want %v", IDs(got), want)
	}
	if got, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); !slices.Equal(IDs(got), []string{aftersaleAngry, aftersale}) {
		t.Errorf("aftersale queue = %v, want the complaint first", IDs(got))
	}
	for i, id := range want {
		if p, err := r.desk.Place(ctx, r.get(t, id)); err != nil || p.Pos != i+1 || p.Group != handoff.GroupPresale {
			t.Errorf("Place(%d) = %+v, %v; want position %d of presale", i, p, err, i+1)
		}
	}
	if p, _ := r.desk.Place(ctx, r.get(t, aftersale)); p.Pos != 2 {
		t.Errorf("Place(aftersale) = %+v, want position 2", p)
	}
	if c := r.get(t, angryLate); c.VIP != 5 {
		t.Errorf("VIP 99 was stored as %d, want the maximum 5", c.VIP)
	}
}

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
	// QueueStatus tells a shopper their place; with nobody online, no wait but the offer.
	for id, w := range watchers {
		qs, err := r.desk.QueueStatus(ctx, r.get(t, id), w.place)
		if err != nil || qs.Position != w.place.Pos || qs.Wait != 0 || qs.Offer == "" {
			t.Errorf("QueueStatus(%s) = %+v, %v", id, qs, err)
		}
		break
	}
	if _, err := r.desk.Place(ctx, r.start(t, 0)); !errors.Is(err, handoff.ErrNotQueued) {
		t.Errorf("Place of a chat with the bot: %v, want ErrNotQueued", err)
	}
}

// status reads where conversation id waits and what its shopper is told.
func (r *rig) status(t *testing.T, id string) handoff.QueueStatus {
	t.Helper()
	ctx := context.Background()
	c := r.get(t, id)
	p, err := r.desk.Place(ctx, c)
	if err != nil {
		t.Fatalf("Place(%s): %v", id, err)
	}
	qs, err := r.desk.QueueStatus(ctx, c, p)
	if err != nil {
		t.Fatalf("QueueStatus(%s): %v", id, err)
	}
	return qs
}

// Await waits until sub delivers an event that ok accepts, as a waiting shopper's
// session does before it tells the shopper again, and stops the test when none comes
// within the time given; what names the awaited event.
func Await(t testing.TB, sub *handoff.Subscription, within time.Duration, what string, ok func(handoff.Event) bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-sub.C:
			if ok(*e) {
				return
			}
		case <-deadline:
			t.Fatalf("no event of %s within %v", what, within)
		}
	}
}

// beat sends agent's heartbeat and waits until the desk announced the presence.
func (r *rig) beat(t *testing.T, sub *handoff.Subscription, agent, status string) {
	t.Helper()
	if _, err := r.desk.Heartbeat(context.Background(), agent, status); err != nil {
		t.Fatalf("Heartbeat(%s, %s): %v", agent, status, err)
	}
	Await(t, sub, 10*time.Second, agent+" "+status, func(e handoff.Event) bool {
		return e.Type == handoff.EventPresence && e.Presence.Agent == agent && e.Presence.Status == status
	})
}

// testQueueStatus: a waiting shopper is told their place in their group's queue and a
// wait in proportion to it, which follows the recent waits; they are offered to leave a
// message when no agent of the chat's group is online (an away agent takes no chats),
// or once the chat has waited the queue timeout, and told when that will be.
func testQueueStatus(t *testing.T, r *rig) {
	ctx := context.Background()
	sub := r.desk.Subscribe("")
	t.Cleanup(sub.Close)
	c := r.asking(t, r.desk, 0)
	second := r.asking(t, r.desk, 0)
	aftersale := r.queued(t)
	// With nobody online no wait is told, only the offer.
	if qs := r.status(t, c.ID); qs.Offer != handoff.OfferOffline || qs.Position != 1 || qs.Wait != 0 {
		t.Errorf("nobody online: %+v, want position 1, no wait and the offline offer", qs)
	}
	if qs := r.status(t, second.ID); qs.Position != 2 || qs.Wait != 0 {
		t.Errorf("second in the queue, nobody online: %+v, want position 2 and no wait", qs)
	}
	if qs := r.status(t, aftersale.ID); qs.Position != 1 {
		t.Errorf("first of another group's queue: %+v, want position 1", qs)
	}
	r.beat(t, sub, "carol", handoff.PresenceOnline) // another group
	r.beat(t, sub, "alice", handoff.PresenceAway)
	if qs := r.status(t, c.ID); qs.Offer != handoff.OfferOffline {
		t.Errorf("alice away, carol in after-sales: %+v, want the offline offer", qs)
	}
	if qs := r.status(t, aftersale.ID); qs.Offer != "" {
		t.Errorf("an after-sales chat with carol online: %+v, want no offer", qs)
	}
	if qs := r.status(t, c.ID); qs.Wait != 0 {
		t.Errorf("alice away: %+v, want no wait", qs)
	}
	r.beat(t, sub, "alice", handoff.PresenceOnline)
	// Before any chat was claimed, the wait per place is the default minute.
	qs := r.status(t, c.ID)
	if qs.Offer != "" || qs.OfferIn <= 9*time.Minute || qs.OfferIn > 10*time.Minute || qs.Wait != time.Minute {
		t.Errorf("alice online: %+v, want a minute's wait, no offer yet, the timeout in about 10 minutes", qs)
	}
	if qs := r.status(t, second.ID); qs.Position != 2 || qs.Wait != 2*time.Minute {
		t.Errorf("second in the queue: %+v, want position 2 and two minutes", qs)
	}
	r.clock.Advance(10 * time.Minute)
	r.beat(t, sub, "alice", handoff.PresenceOnline) // her last heartbeat is older than the grace
	if qs := r.status(t, c.ID); qs.Offer != handoff.OfferTimeout || qs.OfferIn != 0 {
		t.Errorf("after 10 minutes: %+v, want the timeout offer", qs)
	}

	claimed, err := r.desk.Claim(ctx, c.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Place(ctx, claimed); !errors.Is(err, handoff.ErrNotQueued) {
		t.Errorf("Place of a claimed chat: error = %v, want ErrNotQueued", err)
	}
	// The claim's wait is the estimate now, once its queue event came.
	Await(t, sub, 10*time.Second, "the claim leaving the queue", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Left != nil && e.Left.ID == c.ID
	})
	waited := claimed.ClaimedAt.Sub(claimed.EnqueuedAt)
	if qs := r.status(t, second.ID); qs.Position != 1 || qs.Wait != waited {
		t.Errorf("after the claim: %+v, want position 1 and the claimed chat's wait %v", qs, waited)
	}

	// Without a queue timeout, only nobody online makes the offer.
	never := newRig(t, r.open, func(c *handoff.DeskConfig) { c.QueueTimeout = -1 })
	w := never.asking(t, never.desk, 0)
	never.online(t, "alice")
	never.clock.Advance(time.Hour)
	never.online(t, "alice")
	if qs := never.status(t, w.ID); qs.Offer != "" || qs.OfferIn != 0 {
		t.Errorf("an hour's wait without a queue timeout: %+v, want no offer", qs)
	}
}

// testBotWhileWaiting: while a chat waits for a person the bot still reads the shopper's
// messages. A question it answers is answered, and the chat keeps its place; what it
// cannot answer waits for the person; an after-sales case raised in the pre-sale queue
// moves the chat to the after-sales queue with its waiting time, once however often the
// message is sent; once a person has the chat, the bot is not asked.
func testBotWhileWaiting(t *testing.T, r *rig) {
	ctx := context.Background()
	earlier := r.queued(t) // waiting for after-sales
	r.clock.Advance(time.Minute)
	c := r.asking(t, r.desk, 0)
	r.clock.Advance(time.Minute)
	later := r.queued(t)
	before := r.get(t, c.ID)
	if before.Group != handoff.GroupPresale {
		t.Fatalf("a shopper who asked for a person waits in %q", before.Group)
	}

	said := r.say(t, c.ID, "可以开发票吗")
	if said.Decision == nil || said.Decision.Action != triage.Answer {
		t.Fatalf("an answerable question while waiting: decision %+v", said.Decision)
	}
	got := r.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupPresale || !got.EnqueuedAt.Equal(before.EnqueuedAt) || got.Score != before.Score {
		t.Errorf("after the bot answered while waiting: %+v, want it waiting as before %+v", got, before)
	}
	if qs := r.status(t, c.ID); qs.Position != 1 {
		t.Errorf("after the bot answered: position %d, want 1", qs.Position)
	}
	texts := r.texts(t, c.ID)
	if want := []string{"shopper:可以开发票吗", "bot:可以开发票。"}; !slices.Equal(texts[len(texts)-2:], want) {
		t.Errorf("log ends %q, want %q", texts[len(texts)-2:], want)
	}

	r.say(t, c.ID, "在吗")
	if texts := r.texts(t, c.ID); texts[len(texts)-1] != "shopper:在吗" {
		t.Errorf("a message the bot cannot answer got %q", texts[len(texts)-1])
	}

	// An after-sales case: to the after-sales queue, ahead of a chat that started
	// waiting after it and behind one that started before.
	id := fmt.Sprint("m", r.clock.Now().UnixNano())
	for range 2 {
		if _, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: id, Text: "我要退货，衣服有个洞"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	got = r.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || got.Reason != triage.ReasonAfterSales ||
		!got.EnqueuedAt.Equal(before.EnqueuedAt) || got.Context == nil || got.Context.Question != "我要退货，衣服有个洞" {
		t.Fatalf("after an after-sales case while waiting: %+v", got)
	}
	texts = r.texts(t, c.ID)
	want := []string{"shopper:我要退货，衣服有个洞", "handoff:aftersale", "system:" + handoff.DefaultPhrases.TransferAftersale}
	if !slices.Equal(texts[len(texts)-3:], want) {
		t.Errorf("log ends %q, want %q", texts[len(texts)-3:], want)
	}
	moves := 0
	for _, s := range texts {
		if s == "handoff:aftersale" {
			moves++
		}
	}
	if moves != 1 {
		t.Errorf("%d moves to after-sales for one message sent twice; log %q", moves, texts)
	}
	for id, pos := range map[string]int{earlier.ID: 1, c.ID: 2, later.ID: 3} {
		if qs := r.status(t, id); qs.Position != pos {
			t.Errorf("after the move, %s is at %d, want %d", id, qs.Position, pos)
		}
	}

	// A person has it: the bot is not asked.
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if s := r.say(t, c.ID, "可以开发票吗"); s.Decision != nil {
		t.Errorf("the bot was asked in a chat a person has: %+v", s.Decision)
	}
}
