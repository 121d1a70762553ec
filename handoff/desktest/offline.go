package desktest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// The timing of the offline fault tests.
const (
	// OfflineGrace and OfflineSweep are the desk's DeskConfig.Grace and SweepInterval.
	OfflineGrace = 1500 * time.Millisecond
	OfflineSweep = 100 * time.Millisecond
	// OfflineBeat is how often the agent beats, as the console does: well inside the
	// grace period.
	OfflineBeat = 250 * time.Millisecond
	// OfflineSlack is the time allowed for scheduling on a busy machine.
	OfflineSlack = 2 * time.Second
)

// Offline is a fault test in real time of an agent who goes away holding chats: the
// desk hands their chats back to the queue once their heartbeats have stopped for the
// grace period, at the next sweep. The console tests it with the agent's connection cut,
// the engines with the heartbeats stopped. The desk's grace period and sweep are
// OfflineGrace and OfflineSweep.
type Offline struct {
	Agent string
	Group handoff.Group
	// Chats are the agent's chats, sorted.
	Chats []string
}

// Beats are an agent's heartbeats in an offline fault test.
type Beats struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
	last time.Time // written by the beating goroutine, read after done
}

// StartBeats calls beat now and every OfflineBeat until Stop or the end of the test;
// beat reports whether the heartbeat got through.
func StartBeats(t testing.TB, beat func() bool) *Beats {
	b := &Beats{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		tick := time.NewTicker(OfflineBeat)
		defer tick.Stop()
		for {
			if sent := time.Now(); beat() {
				b.last = sent
			}
			select {
			case <-b.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { b.Stop() })
	return b
}

// Stop stops the heartbeats and returns, once the last has returned, when the last one
// that got through was sent: the presence it stored is no older.
func (b *Beats) Stop() time.Time {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return b.last
}

// Held checks, for half as long again as the grace period, that the agent, who is still
// there, keeps their chats.
func (o Offline) Held(t testing.TB, d *handoff.Desk) {
	t.Helper()
	for until := time.Now().Add(OfflineGrace + OfflineGrace/2); time.Now().Before(until); time.Sleep(OfflineSweep) {
		cs, err := d.Owned(context.Background(), o.Agent)
		if err != nil {
			t.Fatal(err)
		}
		if got := sortedIDs(cs); !slices.Equal(got, o.Chats) {
			t.Fatalf("while %s is there they own %v, want %v", o.Agent, got, o.Chats)
		}
	}
}

// Requeued waits until the agent's chats are the ones waiting in the group's queue after
// the agent went away (at gone), and checks that they came back no sooner than the grace
// period after lastBeat, when the last heartbeat that got through was sent, and within
// it, a sweep and the slack; that each is at the front of the queue without an agent,
// with the offline note to the shopper; and that the agent is offline without chats.
func (o Offline) Requeued(t testing.TB, d *handoff.Desk, lastBeat, gone time.Time) {
	t.Helper()
	ctx := context.Background()
	var back time.Time
	deadline := gone.Add(OfflineGrace + OfflineSweep + OfflineSlack + 3*time.Second)
	for {
		cs, err := d.Waiting(ctx, o.Group)
		if err != nil {
			t.Fatal(err)
		}
		w := sortedIDs(cs)
		if len(w) == len(o.Chats) {
			back = time.Now()
			if !slices.Equal(w, o.Chats) {
				t.Fatalf("waiting %v, want %s's chats %v", w, o.Agent, o.Chats)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's chats not back in the queue %v after they went away; waiting: %v", o.Agent, time.Since(gone), w)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := back.Sub(lastBeat)
	t.Logf("chats back in the queue %v after the last heartbeat, %v after %s went away (grace %v)", took, back.Sub(gone), o.Agent, OfflineGrace)
	if took < OfflineGrace-time.Millisecond { // the engines keep milliseconds
		t.Errorf("chats back %v after the last heartbeat, before the grace period of %v", took, OfflineGrace)
	}
	if took > OfflineGrace+OfflineSweep+OfflineSlack {
		t.Errorf("chats back %v after the last heartbeat, want within the grace period %v and a sweep %v (and %v of slack)", took, OfflineGrace, OfflineSweep, OfflineSlack)
	}
	for _, id := range o.Chats {
		c, err := d.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := d.Messages(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if note := lastNote(msgs); c.Status != handoff.StatusQueued || c.Agent != "" || !c.Front || note != handoff.DefaultPhrases.AgentOffline {
			t.Errorf("%s is %s with %q (front %v), last note %q; want queued at the front with the offline note", id, c.Status, c.Agent, c.Front, note)
		}
	}
	if a, err := d.AgentLoad(ctx, o.Agent); err != nil || a.Status != handoff.PresenceOffline || a.Load != 0 {
		t.Errorf("%s is %+v (%v), want offline without chats", o.Agent, a, err)
	}
}

// sortedIDs returns the ids of cs, sorted.
func sortedIDs(cs []handoff.Conversation) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	return ids
}

// lastNote returns the text of the last system message of a log, "" when it has none.
func lastNote(log []handoff.Message) string {
	for i := len(log) - 1; i >= 0; i-- {
		if m := log[i]; m.Kind == handoff.KindMessage && m.From == handoff.FromSystem {
			return m.Text
		}
	}
	return ""
}
