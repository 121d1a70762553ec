package enginetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// testClaimRace has 20 agents claim one chat at once: one owns it, once, and the others
// are told it was claimed.
func testClaimRace(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.queued(t)
	const agents = 20
	errs := make([]error, agents)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			<-start
			_, errs[i] = r.desk.Claim(ctx, c.ID, fmt.Sprintf("agent%02d", i))
		})
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner != "":
			t.Errorf("agent%02d claimed too, after %s", i, winner)
		case err == nil:
			winner = fmt.Sprintf("agent%02d", i)
		case !errors.Is(err, handoff.ErrAlreadyClaimed):
			t.Errorf("agent%02d: Claim error = %v, want ErrAlreadyClaimed", i, err)
		}
	}
	if winner == "" {
		t.Fatal("no agent claimed the conversation")
	}
	if got := r.get(t, c.ID); got.Status != handoff.StatusActive || got.Agent != winner {
		t.Errorf("conversation is %s with %q, want active with %q", got.Status, got.Agent, winner)
	}
	if n := r.statusRecords(t, c.ID, handoff.StatusActive); n != 1 {
		t.Errorf("log has %d status-active records, want 1", n)
	}
	for i := range agents {
		name := fmt.Sprintf("agent%02d", i)
		owned, err := r.desk.Owned(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if name == winner {
			want = 1
		}
		if len(owned) != want {
			t.Errorf("Owned(%s) = %v, want %d conversations", name, IDs(owned), want)
		}
	}
	if w, _ := r.desk.Waiting(ctx, ""); len(w) != 0 {
		t.Errorf("Waiting after the claim = %v, want none", IDs(w))
	}
}

// testCapacity runs on a desk whose agents own 2 chats at most (docs/domain.md rule 11),
// bob 3 by his own limit: a claim past the limit is refused and leaves the chat waiting,
// a resolve makes room, and a changed limit holds at once.
func testCapacity(t *testing.T, r *rig) {
	ctx := context.Background()
	bob := r.staff["bob"]
	bob.MaxChats = 3
	r.staff["bob"] = bob
	r.online(t, "alice")
	var convs []string
	for range 7 {
		convs = append(convs, r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0))
	}
	for _, id := range convs[:2] {
		if _, err := r.desk.Claim(ctx, id, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.desk.Claim(ctx, convs[0], "alice"); err != nil {
		t.Errorf("alice's retried claim of her own chat, at her limit: %v", err)
	}
	if _, err := r.desk.Claim(ctx, convs[2], "alice"); !errors.Is(err, handoff.ErrAtCapacity) {
		t.Errorf("alice's third claim: error = %v, want ErrAtCapacity", err)
	}
	if w, _ := r.desk.Waiting(ctx, handoff.GroupPresale); r.get(t, convs[2]).Status != handoff.StatusQueued || len(w) == 0 || w[0].ID != convs[2] {
		t.Errorf("the refused chat is %s, waiting %v; want it still first in the queue", r.get(t, convs[2]).Status, IDs(w))
	}
	for _, id := range convs[2:5] {
		if _, err := r.desk.Claim(ctx, id, "bob"); err != nil {
			t.Errorf("bob's claim (limit 3): %v", err)
		}
	}
	if _, err := r.desk.Claim(ctx, convs[5], "bob"); !errors.Is(err, handoff.ErrAtCapacity) {
		t.Errorf("bob's fourth claim: error = %v, want ErrAtCapacity", err)
	}
	if _, err := r.desk.Resolve(ctx, convs[0], "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Claim(ctx, convs[5], "alice"); err != nil {
		t.Errorf("alice's claim after resolving one: %v", err)
	}
	for _, tc := range []struct {
		agent, status string
		load, limit   int
	}{{"alice", handoff.PresenceOnline, 2, 2}, {"bob", handoff.PresenceOffline, 3, 3}} {
		a, err := r.desk.AgentLoad(ctx, tc.agent)
		if err != nil || a.Load != tc.load || a.MaxChats != tc.limit || a.Status != tc.status {
			t.Errorf("AgentLoad(%s) = %+v, %v; want load %d of %d, %s", tc.agent, a, err, tc.load, tc.limit, tc.status)
		}
	}

	// alice's limit is raised to 3: it holds for her claims and for the presence that
	// assignment reads. bob's is lowered to 1: he keeps his chats and takes no more.
	alice := r.staff["alice"]
	alice.MaxChats = 3
	r.staff["alice"] = alice
	bob.MaxChats = 1
	r.staff["bob"] = bob
	for _, u := range []account.User{alice, bob} {
		if err := r.desk.RenewCap(ctx, u.Name); err != nil {
			t.Fatalf("RenewCap(%s): %v", u.Name, err)
		}
	}
	if agents, err := r.desk.Agents(ctx, handoff.GroupPresale); err != nil || len(agents) != 1 || agents[0].MaxChats != 3 {
		t.Errorf("Agents(presale) = %+v, %v; want alice with a limit of 3", agents, err)
	}
	if _, err := r.desk.Claim(ctx, convs[6], "alice"); err != nil {
		t.Errorf("alice's claim with a limit of 3: %v", err)
	}
	if a, _ := r.desk.AgentLoad(ctx, "bob"); a.Load != 3 || a.MaxChats != 1 {
		t.Errorf("bob after his limit was lowered: %+v, want his 3 chats and a limit of 1", a)
	}
	extra := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, extra, "bob"); !errors.Is(err, handoff.ErrAtCapacity) {
		t.Errorf("bob's claim over his lowered limit: error = %v, want ErrAtCapacity", err)
	}
}
