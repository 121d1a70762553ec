package handoff

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/account"
)

// rtDesk returns a desk on a fresh store of engine open, with the clock and cfg changed
// by set.
func rtDesk(t *testing.T, open func(t *testing.T, now func() time.Time) Store, set func(*DeskConfig)) (*Desk, *ctClock) {
	t.Helper()
	clock := ctNewClock()
	cfg := DeskConfig{Store: open(t, clock.Now), Staff: newTestStaff(), Now: clock.Now}
	if set != nil {
		set(&cfg)
	}
	d, err := NewDesk(cfg)
	if err != nil {
		t.Fatalf("NewDesk: %v", err)
	}
	return d, clock
}

// rtUser stores an agent without a password (hashing is slow under the race detector).
func rtUser(t *testing.T, d *Desk, name, group string, maxChats int) {
	t.Helper()
	staffOf(d).put(account.User{Name: name, Role: account.RoleAgent, Group: group, MaxChats: maxChats})
}

// rtHandoff starts a conversation and hands it off.
func rtHandoff(t *testing.T, d *Desk, group, reason string, vip int) string {
	t.Helper()
	ctx := context.Background()
	c, _, err := d.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, _, err := d.Append(ctx, c.ID, Message{ID: "m1", Kind: KindMessage, From: FromShopper, Text: "你好"}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := d.Handoff(ctx, c.ID, HandoffRequest{Key: "m1", Reason: reason, Group: group, VIP: vip}); err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	return c.ID
}

func rtBeat(t *testing.T, d *Desk, agent, status string) {
	t.Helper()
	if _, err := d.Heartbeat(context.Background(), agent, status); err != nil {
		t.Fatalf("Heartbeat(%s, %s): %v", agent, status, err)
	}
}

func rtWaiting(t *testing.T, d *Desk, group string) []string {
	t.Helper()
	w, err := d.Waiting(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	return ctIDs(w)
}

func rtConv(t *testing.T, d *Desk, id string) Conversation {
	t.Helper()
	c, err := d.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rtTexts returns the texts of the system messages of a conversation's log.
func rtTexts(t *testing.T, d *Desk, id string) []string {
	t.Helper()
	var out []string
	for _, m := range ctLog(t, d, id) {
		if m.Kind == KindMessage && m.From == FromSystem {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestDeskPriority: complaints first, then after-sales, then the rest; VIP levels move a
// chat up; waiting moves every chat up, so a chat that waited long enough is ahead of a
// new complaint.
func TestDeskPriority(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, clock := rtDesk(t, e.open, nil)
			plain := rtHandoff(t, d, GroupPresale, "requested", 0) // score t
			clock.Advance(time.Minute)
			angry := rtHandoff(t, d, GroupPresale, "negative_sentiment", 0) // t+1m-10m
			clock.Advance(time.Minute)
			vip := rtHandoff(t, d, GroupPresale, "requested", 2) // t+2m-4m
			clock.Advance(time.Minute)
			later := rtHandoff(t, d, GroupPresale, "low_confidence", 0) // t+3m
			aftersale := rtHandoff(t, d, GroupAftersale, "after_sales", 0)
			clock.Advance(time.Minute)
			aftersaleAngry := rtHandoff(t, d, GroupAftersale, "negative_sentiment", 0)
			clock.Advance(20 * time.Minute)
			angryLate := rtHandoff(t, d, GroupPresale, "negative_sentiment", 99) // t+24m-10m-5×2m

			// later waited 21 minutes longer than angryLate, more than its boosts.
			want := []string{angry, vip, plain, later, angryLate}
			if got := rtWaiting(t, d, GroupPresale); !slices.Equal(got, want) {
				t.Errorf("presale queue = %v, want %v", got, want)
			}
			if got := rtWaiting(t, d, GroupAftersale); !slices.Equal(got, []string{aftersaleAngry, aftersale}) {
				t.Errorf("aftersale queue = %v, want the complaint first", got)
			}
			for i, id := range want {
				if pos, _, err := d.Position(ctx, id); err != nil || pos != i+1 {
					t.Errorf("Position(%d) = %d, %v; want %d", i, pos, err, i+1)
				}
			}
			if pos, _, _ := d.Position(ctx, aftersale); pos != 2 {
				t.Errorf("Position(aftersale) = %d, want 2", pos)
			}
			if c := rtConv(t, d, angryLate); c.VIP != 5 {
				t.Errorf("VIP 99 was stored as %d, want the maximum 5", c.VIP)
			}
		})
	}
}

// TestDeskCapacity: a claim over the agent's limit is refused with ErrAtCapacity and
// leaves the chat waiting; per-agent limits override the desk's.
func TestDeskCapacity(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, _ := rtDesk(t, e.open, func(c *DeskConfig) { c.MaxChats = 2 })
			rtUser(t, d, "alice", GroupPresale, 0)
			rtUser(t, d, "bob", GroupPresale, 3)
			var ids []string
			for range 6 {
				ids = append(ids, rtHandoff(t, d, GroupPresale, "requested", 0))
			}
			for _, id := range ids[:2] {
				if _, err := d.Claim(ctx, id, "alice"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.Claim(ctx, ids[0], "alice"); err != nil {
				t.Errorf("alice's retried claim of her own chat: %v", err)
			}
			if _, err := d.Claim(ctx, ids[2], "alice"); !errors.Is(err, ErrAtCapacity) {
				t.Errorf("alice's third claim: error = %v, want ErrAtCapacity", err)
			}
			if c := rtConv(t, d, ids[2]); c.Status != StatusQueued || !slices.Contains(rtWaiting(t, d, GroupPresale), ids[2]) {
				t.Errorf("the refused chat is %s, want still waiting", c.Status)
			}
			for _, id := range ids[2:5] {
				if _, err := d.Claim(ctx, id, "bob"); err != nil {
					t.Errorf("bob's claim (limit 3): %v", err)
				}
			}
			if _, err := d.Claim(ctx, ids[5], "bob"); !errors.Is(err, ErrAtCapacity) {
				t.Errorf("bob's fourth claim: error = %v, want ErrAtCapacity", err)
			}
			if _, err := d.Resolve(ctx, ids[0], "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Claim(ctx, ids[5], "alice"); err != nil {
				t.Errorf("alice's claim after resolving one: %v", err)
			}
			for _, tc := range []struct {
				agent string
				load  int
				limit int
			}{{"alice", 2, 2}, {"bob", 3, 3}} {
				a, err := d.AgentLoad(ctx, tc.agent)
				if err != nil || a.Load != tc.load || a.MaxChats != tc.limit || a.Status != PresenceOffline {
					t.Errorf("AgentLoad(%s) = %+v, %v; want load %d of %d, offline", tc.agent, a, err, tc.load, tc.limit)
				}
			}
			rtUser(t, d, "alice", GroupPresale, 3)
			if err := d.RenewCap(ctx, "alice"); err != nil {
				t.Fatalf("RenewCap: %v", err)
			}
			if a, _ := d.AgentLoad(ctx, "alice"); a.MaxChats != 3 {
				t.Errorf("alice's limit after RenewCap = %d, want 3", a.MaxChats)
			}
		})
	}
}

// TestDeskAutoAssign: waiting chats go to the least loaded online agent of their group,
// up to each agent's limit, on hand-off, when an agent comes online and when one frees a
// place; away agents get none but may claim.
func TestDeskAutoAssign(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, _ := rtDesk(t, e.open, func(c *DeskConfig) { c.MaxChats = 2 })
			for _, a := range []string{"p1", "p2", "p3"} {
				rtUser(t, d, a, GroupPresale, 0)
			}
			rtUser(t, d, "s1", GroupAftersale, 1)
			rtBeat(t, d, "p1", PresenceOnline)
			rtBeat(t, d, "p2", PresenceOnline)
			rtBeat(t, d, "p3", PresenceAway)
			rtBeat(t, d, "s1", PresenceOnline)

			var ids []string
			for range 5 {
				ids = append(ids, rtHandoff(t, d, GroupPresale, "requested", 0))
			}
			owners := map[string]int{}
			for i, id := range ids[:4] {
				c := rtConv(t, d, id)
				if c.Status != StatusActive {
					t.Fatalf("chat %d is %s, want assigned", i, c.Status)
				}
				owners[c.Agent]++
				if texts := rtTexts(t, d, id); texts[len(texts)-1] != d.joinedPhrase(c.Agent) {
					t.Errorf("chat %d ends with %q, want the agent's greeting", i, texts[len(texts)-1])
				}
			}
			if owners["p1"] != 2 || owners["p2"] != 2 {
				t.Errorf("owners = %v, want two chats each for p1 and p2", owners)
			}
			if got := rtWaiting(t, d, GroupPresale); !slices.Equal(got, ids[4:]) {
				t.Errorf("waiting = %v, want the fifth chat", got)
			}
			// Manual claims work alongside: away p3 takes it.
			if _, err := d.Claim(ctx, ids[4], "p3"); err != nil {
				t.Fatal(err)
			}

			first := rtHandoff(t, d, GroupAftersale, "after_sales", 0)
			second := rtHandoff(t, d, GroupAftersale, "after_sales", 0)
			if c := rtConv(t, d, first); c.Agent != "s1" {
				t.Errorf("first after-sales chat is with %q, want s1", c.Agent)
			}
			if c := rtConv(t, d, second); c.Status != StatusQueued {
				t.Errorf("second after-sales chat is %s, want queued (s1 is full)", c.Status)
			}
			if _, err := d.Resolve(ctx, first, "s1"); err != nil {
				t.Fatal(err)
			}
			if c := rtConv(t, d, second); c.Agent != "s1" || c.Status != StatusActive {
				t.Errorf("after s1 resolved one, the second is %s with %q; want assigned to s1", c.Status, c.Agent)
			}

			// A new agent coming online takes what waits.
			third := rtHandoff(t, d, GroupAftersale, "after_sales", 0)
			rtUser(t, d, "s2", GroupAftersale, 0)
			rtBeat(t, d, "s2", PresenceOnline)
			if c := rtConv(t, d, third); c.Agent != "s2" {
				t.Errorf("third after-sales chat is with %q, want s2, who came online", c.Agent)
			}
			if n, err := d.AutoAssign(ctx, GroupAftersale); err != nil || n != 0 {
				t.Errorf("AutoAssign with nothing waiting = %d, %v", n, err)
			}
			if _, err := d.AutoAssign(ctx, "vip"); !errors.Is(err, ErrUnknownGroup) {
				t.Errorf("AutoAssign(unknown group) error = %v", err)
			}
		})
	}
}

// TestDeskManualOnly: with ManualOnly nothing is assigned.
func TestDeskManualOnly(t *testing.T) {
	d, _ := rtDesk(t, ctEngines[0].open, func(c *DeskConfig) { c.ManualOnly = true })
	rtUser(t, d, "p1", GroupPresale, 0)
	rtBeat(t, d, "p1", PresenceOnline)
	id := rtHandoff(t, d, GroupPresale, "requested", 0)
	if err := d.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := rtConv(t, d, id); c.Status != StatusQueued {
		t.Errorf("chat is %s, want queued", c.Status)
	}
}

// TestDeskTransfer: to another agent (online, below their limit), to another group's
// queue keeping the waiting time, and back to the bot (not for after-sales).
func TestDeskTransfer(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, clock := rtDesk(t, e.open, func(c *DeskConfig) { c.ManualOnly = true })
			rtUser(t, d, "pete", GroupPresale, 0)
			rtUser(t, d, "alice", GroupAftersale, 1)
			rtUser(t, d, "bob", GroupAftersale, 0)

			c1 := rtHandoff(t, d, GroupPresale, "requested", 0)
			if _, err := d.Claim(ctx, c1, "pete"); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Transfer(ctx, c1, "pete", "alice"); !errors.Is(err, ErrAgentUnavailable) {
				t.Errorf("transfer to offline alice: error = %v, want ErrAgentUnavailable", err)
			}
			if _, err := d.Transfer(ctx, c1, "pete", "nobody"); !errors.Is(err, ErrAgentUnavailable) {
				t.Errorf("transfer to an unknown agent: error = %v, want ErrAgentUnavailable", err)
			}
			rtBeat(t, d, "alice", PresenceOnline)
			if _, err := d.Transfer(ctx, c1, "alice", "pete"); !errors.Is(err, ErrNotOwner) {
				t.Errorf("transfer by a non-owner: error = %v, want ErrNotOwner", err)
			}
			c, err := d.Transfer(ctx, c1, "pete", "alice")
			if err != nil || c.Status != StatusActive || c.Agent != "alice" {
				t.Fatalf("Transfer = %s with %q, %v", c.Status, c.Agent, err)
			}
			if texts := rtTexts(t, d, c1); texts[len(texts)-1] != d.joinedPhrase("alice") {
				t.Errorf("log ends with %q, want alice's greeting", texts[len(texts)-1])
			}
			if _, err := d.Reply(ctx, c1, "pete", "", "还在吗"); !errors.Is(err, ErrNotOwner) {
				t.Errorf("pete's reply after the transfer: error = %v, want ErrNotOwner", err)
			}
			if a, b := must(d.store.Load(ctx, "pete")), must(d.store.Load(ctx, "alice")); a != 0 || b != 1 {
				t.Errorf("loads: pete %d, alice %d; want 0, 1", a, b)
			}
			c2 := rtHandoff(t, d, GroupPresale, "requested", 0)
			d.Claim(ctx, c2, "pete")
			if _, err := d.Transfer(ctx, c2, "pete", "alice"); !errors.Is(err, ErrAtCapacity) {
				t.Errorf("transfer to full alice: error = %v, want ErrAtCapacity", err)
			}

			// To the after-sales queue, keeping the waiting time.
			since := rtConv(t, d, c2).EnqueuedAt
			clock.Advance(10 * time.Minute)
			newer := rtHandoff(t, d, GroupAftersale, "after_sales", 0)
			c, err = d.TransferGroup(ctx, c2, "pete", GroupAftersale)
			if err != nil || c.Status != StatusQueued || c.Group != GroupAftersale || !c.EnqueuedAt.Equal(since) || c.Agent != "" {
				t.Fatalf("TransferGroup = %+v, %v; want queued in aftersale since %v", c, err, since)
			}
			if got := rtWaiting(t, d, GroupAftersale); !slices.Equal(got, []string{c2, newer}) {
				t.Errorf("aftersale queue = %v, want the transferred chat (waiting longer) first", got)
			}
			if texts := rtTexts(t, d, c2); texts[len(texts)-1] != d.phrases.TransferAftersale {
				t.Errorf("log ends with %q, want the after-sales transfer phrase", texts[len(texts)-1])
			}
			if _, err := d.TransferGroup(ctx, c2, "pete", GroupPresale); !errors.Is(err, ErrNotOwner) {
				t.Errorf("TransferGroup of a queued chat: error = %v, want ErrNotOwner", err)
			}
			if _, err := d.TransferGroup(ctx, c1, "alice", "vip"); !errors.Is(err, ErrUnknownGroup) {
				t.Errorf("TransferGroup to an unknown group: error = %v", err)
			}
			if _, err := d.Claim(ctx, c2, "bob"); err != nil {
				t.Fatal(err)
			}

			// Back to the bot: not for after-sales.
			if _, err := d.BackToBot(ctx, c2, "bob"); !errors.Is(err, ErrAftersaleStays) {
				t.Errorf("BackToBot of an after-sales chat: error = %v, want ErrAftersaleStays", err)
			}
			c3 := rtHandoff(t, d, GroupPresale, "requested", 0)
			d.Claim(ctx, c3, "pete")
			c, err = d.BackToBot(ctx, c3, "pete")
			if err != nil || c.Status != StatusBot {
				t.Fatalf("BackToBot = %s, %v", c.Status, err)
			}
			if texts := rtTexts(t, d, c3); texts[len(texts)-1] != d.phrases.BackToBot {
				t.Errorf("log ends with %q, want the back-to-bot phrase", texts[len(texts)-1])
			}
			if n := must(d.store.Load(ctx, "pete")); n != 0 {
				t.Errorf("pete's load after handing back = %d", n)
			}
			if _, err := d.BackToBot(ctx, c3, "pete"); !errors.Is(err, ErrNotOwner) {
				t.Errorf("second BackToBot: error = %v, want ErrNotOwner", err)
			}
			if err := d.Handoff(ctx, c3, HandoffRequest{Key: "m9", Reason: "requested", Group: GroupPresale}); err != nil {
				t.Errorf("a new hand-off after the bot got it back: %v", err)
			}
		})
	}
}

// TestDeskReopen: a shopper who writes again within the reopen window goes back to the
// agent who resolved the chat when they are online and below their limit, else to the
// front of the chat's group's queue; after the window, or with none, to the bot. A
// resend reopens once.
func TestDeskReopen(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, clock := rtDesk(t, e.open, func(c *DeskConfig) { c.ManualOnly = true })
			rtUser(t, d, "alice", GroupAftersale, 2)
			rtUser(t, d, "bob", GroupAftersale, 0)
			rtBeat(t, d, "alice", PresenceOnline)
			rtBeat(t, d, "bob", PresenceOnline)
			// served hands off a chat, has agent claim it and resolve it.
			served := func(agent string) string {
				t.Helper()
				id := rtHandoff(t, d, GroupAftersale, "after_sales", 1)
				if _, err := d.Claim(ctx, id, agent); err != nil {
					t.Fatal(err)
				}
				if _, err := d.Resolve(ctx, id, agent); err != nil {
					t.Fatal(err)
				}
				return id
			}
			reopen := func(id, key, want string) {
				t.Helper()
				for range 2 { // the second is a resend
					st, err := d.Reopen(ctx, id, key)
					if err != nil || st != want {
						t.Fatalf("Reopen(%s) = %q, %v; want %s", id, st, err, want)
					}
				}
			}

			back := served("alice")
			reopen(back, "m2", StatusActive)
			if c := rtConv(t, d, back); c.Agent != "alice" || ctCount(ctLog(t, d, back), StatusActive) != 2 {
				t.Errorf("reopened chat is %s with %q and %d claims, want alice's again once", c.Status, c.Agent, ctCount(ctLog(t, d, back), StatusActive))
			}
			if texts := rtTexts(t, d, back); texts[len(texts)-1] != "您好，客服alice继续为您服务，请问还有什么可以帮到您？" {
				t.Errorf("reopened chat ends with %q", texts[len(texts)-1])
			}

			// alice is full (back and another): the front of the queue, ahead of an older chat.
			full := served("alice")
			older := rtHandoff(t, d, GroupAftersale, "negative_sentiment", 5)
			if _, err := d.Claim(ctx, rtHandoff(t, d, GroupAftersale, "after_sales", 0), "alice"); err != nil {
				t.Fatal(err)
			}
			reopen(full, "m2", StatusQueued)
			if got := rtWaiting(t, d, GroupAftersale); !slices.Equal(got, []string{full, older}) {
				t.Errorf("queue = %v, want the reopened chat %s ahead of %s", got, full, older)
			}
			if c := rtConv(t, d, full); c.Group != GroupAftersale || c.Reason != ReasonReopened || c.Agent != "" {
				t.Errorf("reopened chat = %+v", c)
			}

			// bob went offline: the queue.
			gone := served("bob")
			rtBeat(t, d, "bob", PresenceOffline)
			reopen(gone, "m2", StatusQueued)

			// After the window: the bot, even with bob online again.
			late := served("bob")
			rtBeat(t, d, "bob", PresenceOnline)
			clock.Advance(31 * time.Minute)
			rtBeat(t, d, "bob", PresenceOnline)
			reopen(late, "m2", StatusBot)

			// Not resolved: nothing changes.
			if st, err := d.Reopen(ctx, back, "m3"); err != nil || st != StatusActive {
				t.Errorf("Reopen of an active chat = %q, %v; want active, nil", st, err)
			}
			if st, _ := d.store.RouteState(ctx, late); st.Route != nil || st.Pending != nil {
				t.Errorf("the chat back with the bot is routed: %+v", st)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		ctx := context.Background()
		d, _ := rtDesk(t, ctEngines[0].open, func(c *DeskConfig) { c.ManualOnly, c.ReopenWindow = true, -1 })
		rtUser(t, d, "alice", GroupPresale, 0)
		rtBeat(t, d, "alice", PresenceOnline)
		id := rtHandoff(t, d, GroupPresale, "requested", 0)
		if _, err := d.Claim(ctx, id, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Resolve(ctx, id, "alice"); err != nil {
			t.Fatal(err)
		}
		if st, err := d.Reopen(ctx, id, "m2"); err != nil || st != StatusBot {
			t.Errorf("Reopen with no window = %q, %v; want bot", st, err)
		}
	})
}
