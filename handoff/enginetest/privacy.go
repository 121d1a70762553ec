package enginetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
)

// testShopperErasure: a verified shopper's conversations are all found (more than the
// shopper's list keeps is not needed: every record is read), exported with their logs,
// notes and tickets, then erased: the conversations are gone, the tickets stay without
// personal data, another shopper's conversation is untouched; a conversation id names
// that conversation alone (docs/domain.md rule 29).
func testShopperErasure(t *testing.T, r *rig) {
	ctx := context.Background()
	const buyer, phone = "buyer-42", "13912345678"
	var mine []string
	for range 2 {
		c, _, err := r.desk.StartAs(ctx, &handoff.Shopper{ID: buyer, Name: "王小明", Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		r.say(t, c.ID, "我的电话 "+phone)
		mine = append(mine, c.ID)
	}
	other := r.start(t, 0)
	r.say(t, other.ID, "发什么快递")
	if _, _, err := r.e.Annals.AddNote(ctx, mine[0], handoff.Note{ID: "n1", Author: "alice", Text: "王先生很急"}, 10); err != nil {
		t.Fatal(err)
	}
	tk, err := r.e.Tickets.CreateTicket(ctx, "20261207", handoff.Ticket{
		Conversation: mine[0], Order: "O-778", Type: "refund", Reason: "杯子碎了 " + phone, Contact: phone,
		Evidence: []string{"defect_photo"}, Status: handoff.TicketOpen, CreatedBy: "alice",
	}, handoff.TicketEvent{To: handoff.TicketOpen, By: "alice", Role: account.RoleAgent, At: r.clock.Now(), Note: "电话 " + phone})
	if err != nil {
		t.Fatal(err)
	}

	ids, err := r.desk.ShopperConversations(ctx, buyer)
	slices.Sort(ids)
	slices.Sort(mine)
	if err != nil || !slices.Equal(ids, mine) {
		t.Fatalf("ShopperConversations(%s) = %q, %v; want %q", buyer, ids, err, mine)
	}
	data, err := r.desk.ExportShopper(ctx, buyer)
	if err != nil || len(data.Conversations) != 2 || len(data.Tickets) != 1 || len(data.Tickets[0].History) != 1 {
		t.Fatalf("ExportShopper = %+v, %v; want 2 conversations and the ticket with its history", data, err)
	}
	dump, _ := json.Marshal(data)
	for _, want := range []string{phone, "王先生很急", "O-778", "王小明"} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("the export lacks %q", want)
		}
	}
	if strings.Contains(string(dump), "发什么快递") {
		t.Error("the export holds another shopper's message")
	}

	erased, err := r.desk.EraseShopper(ctx, buyer)
	if err != nil || erased.Conversations != 2 || erased.Tickets != 1 || len(erased.Texts) < 2 {
		t.Fatalf("EraseShopper = %+v, %v", erased, err)
	}
	for _, id := range mine {
		if _, err := r.e.Conversations.Conversation(ctx, id); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("conversation %s after the erasure: %v", id, err)
		}
	}
	if ns, _ := r.e.Annals.Notes(ctx, mine[0]); len(ns) != 0 {
		t.Errorf("notes after the erasure: %+v", ns)
	}
	kept, err := r.e.Tickets.Ticket(ctx, tk.ID)
	if err != nil {
		t.Fatalf("the ticket after the erasure: %v", err)
	}
	kb, _ := json.Marshal(kept)
	if strings.Contains(string(kb), phone) || strings.Contains(string(kb), "O-778") || strings.Contains(string(kb), mine[0]) ||
		kept.Reason != handoff.ErasedText || kept.Type != "refund" || len(kept.History) != 1 {
		t.Errorf("the ticket after the erasure = %s", kb)
	}
	if ts, _ := r.e.Tickets.Tickets(ctx, handoff.TicketFilter{Conversation: mine[0]}); len(ts) != 0 {
		t.Errorf("the erased conversation still lists tickets: %+v", ts)
	}
	if got := r.texts(t, other.ID); len(got) == 0 {
		t.Error("another shopper's conversation went too")
	}
	if data, err := r.desk.ExportShopper(ctx, buyer); err != nil || len(data.Conversations) != 0 {
		t.Errorf("ExportShopper after the erasure = %+v, %v; want nothing", data, err)
	}

	// A conversation id names that conversation alone.
	ids, err = r.desk.ShopperConversations(ctx, other.ID)
	if err != nil || !slices.Equal(ids, []string{other.ID}) {
		t.Errorf("ShopperConversations(a conversation id) = %q, %v", ids, err)
	}
	if erased, err := r.desk.EraseShopper(ctx, other.ID); err != nil || erased.Conversations != 1 {
		t.Errorf("EraseShopper(a conversation id) = %+v, %v", erased, err)
	}
	if erased, err := r.desk.EraseShopper(ctx, "c_nobody"); err != nil || erased.Conversations != 0 {
		t.Errorf("EraseShopper(an unknown conversation) = %+v, %v", erased, err)
	}
}
