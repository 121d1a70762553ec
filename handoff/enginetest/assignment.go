package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// Who takes a waiting chat: claims, racing ones too, the agents' limits, and the
// assignment to the least loaded online agent of the chat's group.

func testClaims(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.queued(t)
	var wg sync.WaitGroup
	wins := make(chan string, 10)
	for _, a := range []string{"carol", "lead", "alice", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.desk.Claim(ctx, c.ID, a); err == nil {
				wins <- a
			} else if !errors.Is(err, handoff.ErrAlreadyClaimed) {
				t.Errorf("Claim(%s): %v", a, err)
			}
		}()
	}
	wg.Wait()
	close(wins)
	var won []string
	for a := range wins {
		won = append(won, a)
	}
	if len(won) != 1 {
		t.Fatalf("claims that won: %v, want exactly one", won)
	}
	if _, err := r.desk.Claim(ctx, c.ID, won[0]); err != nil {
		t.Errorf("claiming one's own chat again: %v", err)
	}
	// carol may own two chats.
	for i := range 3 {
		c := r.queued(t)
		_, err := r.desk.Claim(ctx, c.ID, "carol")
		full := i+btoi(won[0] == "carol") >= 2
		if full != errors.Is(err, handoff.ErrAtCapacity) || !full && err != nil {
			t.Errorf("claim %d by carol: %v (at capacity: %v)", i, err, full)
		}
	}
	bot := r.start(t, 0)
	if _, err := r.desk.Claim(ctx, bot.ID, "alice"); !errors.Is(err, handoff.ErrNotQueued) {
		t.Errorf("claiming a chat with the bot: %v, want ErrNotQueued", err)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

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

// testAssignment: waiting chats go to the least loaded online agent of their group, up
// to each agent's limit, when they are handed off, when an agent frees a place and when
// one comes online; away agents get none but may claim. A desk with ManualOnly assigns
// nothing.
func testAssignment(t *testing.T, open Opener) {
	ctx := context.Background()
	r := newRig(t, open, func(c *handoff.DeskConfig) { c.ManualOnly, c.MaxChats = false, 2 })
	for _, u := range []account.User{
		{Name: "p1", Role: account.RoleAgent, Group: string(handoff.GroupPresale)},
		{Name: "p2", Role: account.RoleAgent, Group: string(handoff.GroupPresale)},
		{Name: "p3", Role: account.RoleAgent, Group: string(handoff.GroupPresale)},
		{Name: "s1", Role: account.RoleAgent, Group: string(handoff.GroupAftersale), MaxChats: 1},
		{Name: "s2", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)},
	} {
		r.staff[u.Name] = u
	}
	r.online(t, "p1", "p2", "s1")
	if _, err := r.desk.Heartbeat(ctx, "p3", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	var convs []string
	for range 5 {
		convs = append(convs, r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0))
	}
	owners := map[string]int{}
	for i, id := range convs[:4] {
		c := r.get(t, id)
		if c.Status != handoff.StatusActive {
			t.Fatalf("chat %d is %s, want assigned", i, c.Status)
		}
		owners[c.Agent]++
		if got := r.lastSystem(t, id); got != joined(c.Agent) {
			t.Errorf("chat %d ends with %q, want the agent's greeting", i, got)
		}
	}
	if owners["p1"] != 2 || owners["p2"] != 2 {
		t.Errorf("owners = %v, want two chats each for p1 and p2", owners)
	}
	if w, _ := r.desk.Waiting(ctx, handoff.GroupPresale); !slices.Equal(IDs(w), convs[4:]) {
		t.Errorf("waiting = %v, want the fifth chat", IDs(w))
	}
	// Manual claims work alongside: away p3 takes it.
	if _, err := r.desk.Claim(ctx, convs[4], "p3"); err != nil {
		t.Fatal(err)
	}

	first := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	second := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	if c := r.get(t, first); c.Agent != "s1" {
		t.Errorf("first after-sales chat is with %q, want s1", c.Agent)
	}
	if c := r.get(t, second); c.Status != handoff.StatusQueued {
		t.Errorf("second after-sales chat is %s, want queued (s1 is full)", c.Status)
	}
	if _, err := r.desk.Resolve(ctx, first, "s1"); err != nil {
		t.Fatal(err)
	}
	if c := r.get(t, second); c.Agent != "s1" || c.Status != handoff.StatusActive {
		t.Errorf("after s1 resolved one, the second is %s with %q; want assigned to s1", c.Status, c.Agent)
	}
	// A new agent coming online takes what waits.
	third := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	r.online(t, "s2")
	if c := r.get(t, third); c.Agent != "s2" {
		t.Errorf("third after-sales chat is with %q, want s2, who came online", c.Agent)
	}
	if n, err := r.desk.AutoAssign(ctx, handoff.GroupAftersale); err != nil || n != 0 {
		t.Errorf("AutoAssign with nothing waiting = %d, %v", n, err)
	}
	if _, err := r.desk.AutoAssign(ctx, "vip"); !errors.Is(err, handoff.ErrUnknownGroup) {
		t.Errorf("AutoAssign(unknown group) error = %v, want ErrUnknownGroup", err)
	}

	// ManualOnly: nothing is assigned, by a hand-off, a heartbeat or a sweep.
	manual := newRig(t, open)
	manual.online(t, "alice")
	id := manual.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	manual.online(t, "alice")
	if err := manual.desk.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if c := manual.get(t, id); c.Status != handoff.StatusQueued {
		t.Errorf("a chat on a desk with ManualOnly is %s, want queued", c.Status)
	}
}

func testAutoAssign(t *testing.T, r *rig) {
	ctx := context.Background()
	// The rig's desk assigns by hand; one that assigns by itself is made here on the
	// same engine.
	d, err := handoff.NewDesk(handoff.DeskConfig{
		Engine: r.e, Staff: r.staff, Bot: ShopBot, Now: r.clock.Now, SweepInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r.asking(t, d, 0)
	}
	if n, err := d.AutoAssign(ctx, handoff.GroupPresale); err != nil || n != 0 {
		t.Fatalf("AutoAssign with nobody online = %d, %v", n, err)
	}
	if _, err := d.Heartbeat(ctx, "alice", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	// alice went online and took every waiting chat: she is the only one.
	if a, _ := d.AgentLoad(ctx, "alice"); a.Load != 3 || a.Status != handoff.PresenceOnline {
		t.Fatalf("alice after going online: %+v", a)
	}
	if _, err := d.Heartbeat(ctx, "bob", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r.asking(t, d, 0)
	}
	// The two new chats went to bob, the least loaded.
	agents, err := d.Agents(ctx, handoff.GroupPresale)
	if err != nil || len(agents) != 2 || agents[0].Load != 3 || agents[1].Load != 2 {
		t.Errorf("Agents = %+v, %v; want alice 3, bob 2", agents, err)
	}
	// Away agents keep their chats and take no new ones.
	if _, err := d.Heartbeat(ctx, "bob", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Heartbeat(ctx, "alice", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	c := r.asking(t, d, 0)
	if got := r.get(t, c.ID); got.Status != handoff.StatusQueued {
		t.Errorf("a chat with everyone away: %s", got.Status)
	}
}
