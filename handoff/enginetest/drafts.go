package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// testDrafts: a conversation is stored at the shopper's first message, not when the
// widget opens (docs/domain.md rule 30): drafts store nothing, open again by their
// token, and are kept once however many sockets keep them.
func testDrafts(t *testing.T, r *rig) {
	ctx := context.Background()
	var first handoff.Conversation
	var token string
	for i := range 300 {
		c, tok := r.desk.Draft(nil, handoff.LangEN)
		if i == 0 {
			first, token = c, tok
		}
	}
	if ids, err := r.e.Purger.ConversationIDs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("after 300 drafts the engine holds %d conversations (%v); want none", len(ids), err)
	}
	got, err := r.desk.OpenAs(ctx, first.ID, token, "")
	if err != nil || got.ID != first.ID || got.Epoch != first.Epoch || got.Stored() {
		t.Fatalf("OpenAs of a draft = %+v, %v; want the draft again, unstored", got, err)
	}
	if _, err := r.desk.OpenAs(ctx, first.ID, token+"x", ""); !errors.Is(err, handoff.ErrBadToken) {
		t.Errorf("OpenAs of a draft with a wrong token: %v, want ErrBadToken", err)
	}
	mine, mineToken := r.desk.Draft(&handoff.Shopper{ID: "buyer-1", Verified: true}, handoff.LangZH)
	if got, err := r.desk.OpenAs(ctx, mine.ID, mineToken, "buyer-1"); err != nil || got.ID != mine.ID {
		t.Errorf("OpenAs of a verified shopper's draft by that shopper = %+v, %v", got, err)
	}
	for _, who := range []string{"", "buyer-2"} {
		if _, err := r.desk.OpenAs(ctx, mine.ID, mineToken, who); !errors.Is(err, handoff.ErrBadToken) {
			t.Errorf("OpenAs(%q) of buyer-1's draft: %v, want ErrBadToken", who, err)
		}
	}
	first.Shopper = &handoff.Shopper{ID: "v_1"}
	kept, err := r.desk.Keep(ctx, first)
	if err != nil || !kept.Stored() {
		t.Fatalf("Keep = %+v, %v", kept, err)
	}
	again, err := r.desk.Keep(ctx, first) // another socket of the same draft
	if err != nil || again.ID != kept.ID || !again.Stored() {
		t.Fatalf("Keep of a draft kept already = %+v, %v; want the stored one", again, err)
	}
	if err := r.e.Conversations.Create(ctx, kept); !errors.Is(err, handoff.ErrExists) {
		t.Errorf("Create of a stored id: %v, want ErrExists", err)
	}
	if got, err := r.desk.OpenAs(ctx, first.ID, token, ""); err != nil || !got.Stored() || got.Lang != handoff.LangEN {
		t.Errorf("Open once kept = %+v, %v; want the stored conversation in English", got, err)
	}
	r.say(t, kept.ID, "发票")
	if ids, _ := r.e.Purger.ConversationIDs(ctx); !slices.Equal(ids, []string{kept.ID}) {
		t.Errorf("stored conversations = %q, want the kept one alone", ids)
	}
}

// testUnattended: anonymous chats that never went to people are deleted after their
// own, shorter time; a verified shopper's and a handed-off one wait for the retention.
func testUnattended(t *testing.T, r *rig) {
	ctx := context.Background()
	anon, _, err := r.desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.say(t, anon.ID, "发票")
	handed, _, err := r.desk.StartAs(ctx, &handoff.Shopper{ID: "v_2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.desk.AskForPerson(ctx, handed.ID, "k"); err != nil {
		t.Fatal(err)
	}
	verified := r.start(t, 0)
	r.say(t, verified.ID, "发票")
	r.clock.Advance(8 * 24 * time.Hour)
	week := r.clock.Now().Add(-7 * 24 * time.Hour)
	n, err := r.desk.SweepRetention(ctx, handoff.Sweep{Before: r.clock.Now().Add(-180 * 24 * time.Hour), Unattended: week})
	if err != nil || n != 1 {
		t.Fatalf("SweepRetention = %d, %v; want the unattended anonymous chat deleted", n, err)
	}
	ids, _ := r.e.Purger.ConversationIDs(ctx)
	slices.Sort(ids)
	want := []string{handed.ID, verified.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("kept after the sweep: %q, want the handed-off and the verified chat", ids)
	}
	if n, err := r.desk.SweepRetention(ctx, handoff.Sweep{}); err != nil || n != 0 {
		t.Errorf("an empty Sweep deleted %d (%v)", n, err)
	}
}

// testLogLimits: a full log takes no more of the shopper's messages, and a hand-off
// the shopper's client may not make stores nothing past the message.
func testLogLimits(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.start(t, 0)
	for i := range 3 {
		r.say(t, c.ID, fmt.Sprint("发票", i)) // the message and the bot's answer
	}
	_, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m_full", Text: "发票"}, nil)
	if !errors.Is(err, handoff.ErrLogFull) {
		t.Fatalf("a message to a log of 6 records: %v, want ErrLogFull", err)
	}
	if got := r.get(t, c.ID); got.Seq != 6 {
		t.Errorf("log after the refusal holds %d records, want 6", got.Seq)
	}

	d := r.start(t, 0)
	no := func(context.Context) bool { return false }
	said, err := r.desk.ShopperSays(ctx, d.ID, handoff.ShopperMessage{ID: "m_c", Text: "我要投诉", MayHandOff: no}, nil)
	if !errors.Is(err, handoff.ErrLimited) || said.Message.Seq != 1 {
		t.Fatalf("a complaint over the limit: %+v, %v; want the message stored and ErrLimited", said, err)
	}
	if got := r.get(t, d.ID); got.Status != handoff.StatusBot || got.Seq != 1 {
		t.Errorf("after the refused hand-off: status %s, %d records; want the bot's, the message alone", got.Status, got.Seq)
	}
	if q, _ := r.e.Conversations.Queue(ctx, handoff.GroupAftersale, 0); len(q) != 0 {
		t.Errorf("the after-sale queue holds %d chats, want none", len(q))
	}
}
