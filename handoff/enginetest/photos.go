package enginetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"slices"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/files"
)

// testPhotos: messages carry the photos uploaded to their own conversation, the engine
// keeps them with the record, and a photo alone in a bot chat gets the bot's
// acknowledgement instead of an answer (docs/domain.md rule 8).
func testPhotos(t *testing.T, open Opener) {
	store, err := files.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, open, func(c *handoff.DeskConfig) { c.Files = store })
	ctx := context.Background()
	c, other := r.start(t, 0), r.start(t, 0)
	upload := func(conv, id string, w int) int64 {
		t.Helper()
		var buf bytes.Buffer
		png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, w)))
		if err := store.Put(ctx, conv, id, "image/png", bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			t.Fatal(err)
		}
		return int64(buf.Len())
	}
	defectSize := upload(c.ID, "f_defect", 40)
	upload(c.ID, "f_waybill", 30)
	upload(c.ID, "f_agent", 20)
	upload(other.ID, "f_theirs", 10)

	said, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m_photo", Attachments: []string{"f_defect"}}, nil)
	if err != nil {
		t.Fatalf("a photo alone: %v", err)
	}
	want := []handoff.Attachment{{ID: "f_defect", Type: "image/png", Size: defectSize}}
	if !slices.Equal(said.Message.Attachments, want) || said.Decision != nil {
		t.Fatalf("a photo alone stored %+v with decision %v; want %+v and no decision", said.Message.Attachments, said.Decision, want)
	}
	if got := r.texts(t, c.ID); !slices.Equal(got, []string{"message:", "bot:" + handoff.DefaultPhrases.PhotoReceived}) {
		t.Fatalf("log after a photo alone = %q; want it and the bot's acknowledgement", got)
	}
	if _, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m_photo", Attachments: []string{"f_defect"}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(r.texts(t, c.ID)); n != 2 {
		t.Fatalf("a resent photo made %d records, want the 2 of the first", n)
	}

	seq := r.get(t, c.ID).Seq
	for name, ids := range map[string][]string{
		"another conversation's photo": {"f_theirs"},
		"an unknown id":                {"f_nothing"},
		"the same photo twice":         {"f_waybill", "f_waybill"},
		"ten photos":                   {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
	} {
		_, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m_bad", Text: "看看这个", Attachments: ids}, nil)
		if !errors.Is(err, handoff.ErrBadAttachment) {
			t.Errorf("%s: ShopperSays = %v, want ErrBadAttachment", name, err)
		}
	}
	if got := r.get(t, c.ID).Seq; got != seq {
		t.Fatalf("refused messages were stored: seq %d, want %d", got, seq)
	}

	// Words with a photo go to the bot as words: here a return, handed to after-sales.
	said = r.say(t, c.ID, "我要退货")
	if _, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m_waybill", Text: "这是快递面单", Attachments: []string{"f_waybill"}}, nil); err != nil {
		t.Fatal(err)
	}
	if st := r.get(t, c.ID).Status; st != handoff.StatusQueued {
		t.Fatalf("status %s after a return, want queued", st)
	}
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.ReplyOverriding(ctx, c.ID, "carol", handoff.AgentMessage{ID: "r1", Attachments: []string{"f_theirs"}}, nil, ""); !errors.Is(err, handoff.ErrBadAttachment) {
		t.Fatalf("an agent sending another conversation's photo: %v, want ErrBadAttachment", err)
	}
	m, err := r.desk.ReplyOverriding(ctx, c.ID, "carol", handoff.AgentMessage{ID: "r2", Attachments: []string{"f_agent"}}, nil, "")
	if err != nil || len(m.Attachments) != 1 || m.Text != "" {
		t.Fatalf("an agent's photo alone = %+v, %v", m, err)
	}

	// The engine keeps them with the records; URLs are made on delivery only.
	msgs, err := r.desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, m := range msgs {
		for _, a := range m.Attachments {
			if a.URL != "" || a.Type != "image/png" || a.Size == 0 {
				t.Errorf("stored attachment %+v", a)
			}
			kept = append(kept, string(m.From)+":"+a.ID)
		}
	}
	if want := []string{"shopper:f_defect", "shopper:f_waybill", "agent:f_agent"}; !slices.Equal(kept, want) {
		t.Fatalf("attachments in the log = %q, want %q", kept, want)
	}
	url := func(conv, id string) string { return fmt.Sprintf("/files/%s/%s?signed", conv, id) }
	photos, err := r.desk.Photos(ctx, c.ID, url)
	if err != nil || len(photos) != 3 || photos[2].URL != url(c.ID, "f_agent") {
		t.Fatalf("Photos = %+v, %v", photos, err)
	}
	if msgs[0].Attachments[0].URL != "" {
		t.Error("Photos changed the records it read")
	}
}
