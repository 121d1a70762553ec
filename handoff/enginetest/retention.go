package enginetest

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/triage"
)

// testRetention: the retention sweep, on a fixed clock, deletes the conversations last
// active before the cutoff — a bot chat with its photo, decisions and note, and one
// still waiting in a queue — with everything of theirs, and keeps the recent one
// (docs/domain.md rule 28).
func testRetention(t *testing.T, open Opener) {
	store, err := files.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, open, func(c *handoff.DeskConfig) { c.Files = store })
	ctx := context.Background()
	const day = 24 * time.Hour

	old := r.start(t, 0)
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)))
	if err := store.Put(ctx, old.ID, "f_old", "image/png", bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.ShopperSays(ctx, old.ID, handoff.ShopperMessage{ID: "m_photo", Attachments: []string{"f_old"}}, nil); err != nil {
		t.Fatal(err)
	}
	r.say(t, old.ID, "怎么修改收货地址")
	if _, _, err := r.e.Annals.AddNote(ctx, old.ID, handoff.Note{ID: "n1", Author: "alice", Text: "老顾客"}, 10); err != nil {
		t.Fatal(err)
	}
	if ds, err := r.e.Annals.Decisions(ctx, old.ID); err != nil || len(ds) == 0 {
		t.Fatalf("the old chat's decisions before the sweep: %v, %v; want some", ds, err)
	}
	waiting := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)

	r.clock.Advance(100 * day)
	recent := r.start(t, 0)
	r.say(t, recent.ID, "发什么快递")
	r.clock.Advance(90 * day)

	if c := r.get(t, old.ID); c.Seq == 0 {
		t.Fatal("the old chat has no records")
	}
	last, err := r.desk.LastActivity(ctx, r.get(t, recent.ID))
	if err != nil || !last.Equal(r.clock.Now().Add(-90*day).Truncate(time.Millisecond)) && last.After(r.clock.Now().Add(-89*day)) {
		t.Fatalf("LastActivity of the recent chat = %v, %v", last, err)
	}
	n, err := r.desk.SweepRetention(ctx, handoff.Sweep{Before: r.clock.Now().Add(-180 * day)})
	if err != nil || n != 2 {
		t.Fatalf("SweepRetention = %d, %v; want the old chat and the waiting one deleted", n, err)
	}
	for _, id := range []string{old.ID, waiting} {
		if _, err := r.e.Conversations.Conversation(ctx, id); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("conversation %s after the sweep: %v, want ErrNotFound", id, err)
		}
		if ms, err := r.e.Conversations.Messages(ctx, id, 0, 0); len(ms) != 0 {
			t.Errorf("the log of %s after the sweep: %v, %v", id, ms, err)
		}
		if ds, _ := r.e.Annals.Decisions(ctx, id); len(ds) != 0 {
			t.Errorf("decisions of %s after the sweep: %+v", id, ds)
		}
		if ns, _ := r.e.Annals.Notes(ctx, id); len(ns) != 0 {
			t.Errorf("notes of %s after the sweep: %+v", id, ns)
		}
	}
	if _, err := store.Stat(ctx, old.ID, "f_old"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("the old chat's photo after the sweep: %v, want ErrNotFound", err)
	}
	if ids, _ := r.e.Annals.ShopperConversations(ctx, old.Shopper.ID); len(ids) != 0 {
		t.Errorf("the old chat's shopper still lists %q", ids)
	}
	if q, _ := r.e.Conversations.Queue(ctx, handoff.GroupPresale, 0); slices.ContainsFunc(q, func(c handoff.Conversation) bool { return c.ID == waiting }) {
		t.Errorf("the presale queue after the sweep still holds %s", waiting)
	}
	if pos, _, err := r.e.Conversations.Place(ctx, handoff.GroupPresale, waiting); err != nil || pos != 0 {
		t.Errorf("Place of the swept chat = %d, %v; want 0", pos, err)
	}
	ids, err := r.e.Purger.ConversationIDs(ctx)
	if err != nil || !slices.Equal(ids, []string{recent.ID}) {
		t.Errorf("conversations after the sweep = %q, %v; want the recent one alone", ids, err)
	}
	if got := r.texts(t, recent.ID); len(got) < 2 {
		t.Errorf("the recent chat's log after the sweep = %q", got)
	}
	if n, err := r.desk.SweepRetention(ctx, handoff.Sweep{Before: r.clock.Now().Add(-180 * day)}); err != nil || n != 0 {
		t.Errorf("a second sweep = %d, %v; want nothing to delete", n, err)
	}
	if err := r.e.Purger.Purge(ctx, "c_never"); err != nil {
		t.Errorf("purging an unknown conversation: %v", err)
	}
}
