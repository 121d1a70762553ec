package enginetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

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
