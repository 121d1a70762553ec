package enginetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
)

// testDocuments: a named document is stored with a revision and replaced only by a
// writer that read the revision stored (compare-and-set).
func testDocuments(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	docs := e.Documents
	if docs == nil {
		t.Fatal("the engine keeps no documents")
	}
	if doc, rev, err := docs.Document(ctx, "settings"); err != nil || doc != nil || rev != 0 {
		t.Fatalf("Document(never stored) = %q, %d, %v; want nothing at revision 0", doc, rev, err)
	}
	if rev, err := docs.PutDocument(ctx, "settings", []byte(`{"a":1}`), 0); err != nil || rev != 1 {
		t.Fatalf("PutDocument(rev 0) = %d, %v; want revision 1", rev, err)
	}
	if _, err := docs.PutDocument(ctx, "settings", []byte(`{"a":2}`), 0); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("PutDocument at a stale revision: %v, want ErrConflict", err)
	}
	if _, err := docs.PutDocument(ctx, "settings", []byte(`{"a":3}`), 5); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("PutDocument at a revision never stored: %v, want ErrConflict", err)
	}
	if rev, err := docs.PutDocument(ctx, "settings", []byte(`{"a":4}`), 1); err != nil || rev != 2 {
		t.Fatalf("PutDocument(rev 1) = %d, %v; want revision 2", rev, err)
	}
	if doc, rev, err := docs.Document(ctx, "settings"); err != nil || string(doc) != `{"a":4}` || rev != 2 {
		t.Errorf("Document = %q, %d, %v; want the last one at revision 2", doc, rev, err)
	}
	if doc, rev, err := docs.Document(ctx, "other"); err != nil || doc != nil || rev != 0 {
		t.Errorf("another document = %q, %d, %v; want nothing", doc, rev, err)
	}
}

// askOrder is the canned reply of the phrasebook's desks.
var askOrder = []handoff.CannedReply{{Key: "ask_order", Title: "询问订单号", Text: "亲，麻烦您提供一下订单号，我这边马上为您查询。"}}

// runningDesk is a second desk on engine e, as another node would run it: its Run
// listens to the engine's events until the test ends.
func runningDesk(t *testing.T, e handoff.Engine, staff Staff) *handoff.Desk {
	t.Helper()
	d, err := handoff.NewDesk(handoff.DeskConfig{Engine: e, Staff: staff, Bot: ShopBot, ManualOnly: true, SweepInterval: time.Hour, CannedReplies: askOrder})
	if err != nil {
		t.Fatalf("NewDesk: %v", err)
	}
	run(t, e, d)
	return d
}

// testPhrasebook: an admin's edits of the phrasebook are kept by the engine with a
// revision, refused when stale or when the reply guard refuses a text, reach another
// node at once through the engine's events, and speak to each conversation in its own
// language; a key whose edit is dropped is back at its default.
func testPhrasebook(t *testing.T, r *rig) {
	ctx := context.Background()
	other := runningDesk(t, r.e, r.staff)
	const greeting, transfer = "Hi there! Ask me anything about your order.", "正在为您转接金牌客服，请稍候"
	edits := handoff.PhrasebookEdits{
		Phrases: map[handoff.Lang]map[string]string{
			handoff.LangEN: {"greeting": greeting},
			handoff.LangZH: {"transfer_presale": transfer},
		},
		Canned: map[handoff.Lang]map[string]string{handoff.LangEN: {"ask_order": "Could you tell me your order number, please?"}},
		Hours:  &handoff.OpeningHours{Days: []int{1, 2, 3, 4, 5}, From: "10:00", To: "18:00", Zone: "Asia/Shanghai"},
	}

	for name, bad := range map[string]handoff.PhrasebookEdits{
		"a phone number":  {Phrases: map[handoff.Lang]map[string]string{handoff.LangZH: {"greeting": "有问题请打 13800138000 找我"}}},
		"a one-word text": {Phrases: map[handoff.Lang]map[string]string{handoff.LangZH: {"closing": "好的"}}},
		"a hidden phone":  {Phrases: map[handoff.Lang]map[string]string{handoff.LangZH: {"greeting": "请加 wei xin 或拨打 138\u200b0013\u200b8000"}}},
		"a bidi override": {Phrases: map[handoff.Lang]map[string]string{handoff.LangZH: {"closing": "感谢您的耐心\u202e等待"}}},
		"an unknown key":  {Phrases: map[handoff.Lang]map[string]string{handoff.LangEN: {"no_such_phrase": "Hello there, friend"}}},
		"bad hours":       {Hours: &handoff.OpeningHours{Days: []int{1}, From: "18:00", To: "10:00", Zone: "Asia/Shanghai"}},
	} {
		if _, err := r.desk.SavePhrasebook(ctx, bad, 0); !errors.Is(err, handoff.ErrBadPhrase) {
			t.Errorf("saving %s: %v, want ErrBadPhrase", name, err)
		}
	}
	rev, err := r.desk.SavePhrasebook(ctx, edits, 0)
	if err != nil || rev != 1 {
		t.Fatalf("SavePhrasebook = %d, %v; want revision 1", rev, err)
	}
	if _, err := other.SavePhrasebook(ctx, handoff.PhrasebookEdits{}, 0); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("saving over revision 0 on another node: %v, want ErrConflict", err)
	}
	// The other node hears of it through the engine.
	timetest.Poll(t, 10*time.Second, "the other node to use the edited phrasebook", func() bool {
		return other.PhrasesFor(handoff.LangEN).Greeting == greeting && other.PhrasesFor(handoff.LangZH).TransferPresale == transfer
	})
	if got := other.PhrasesFor(handoff.LangZH).Greeting; got != handoff.DefaultPhrases.Greeting {
		t.Errorf("an unedited phrase = %q, want its default", got)
	}
	if got := other.NoAgentText(handoff.LangEN); !strings.Contains(got, "Monday to Friday 10:00–18:00") {
		t.Errorf("NoAgentText(en) = %q, want the edited hours", got)
	}
	if cs := other.CannedRepliesIn(handoff.LangEN, "alice"); len(cs) != 1 || cs[0].Text != edits.Canned[handoff.LangEN]["ask_order"] {
		t.Errorf("the English canned replies = %+v, want the edited one", cs)
	}
	if cs := other.CannedRepliesIn(handoff.LangZH, "alice"); len(cs) != 1 || cs[0] != askOrder[0] {
		t.Errorf("the Chinese canned replies = %+v, want the default", cs)
	}

	// Each conversation hears the phrases of its own language, as edited.
	en, _, err := other.StartIn(ctx, &handoff.Shopper{ID: "v_en"}, handoff.LangEN)
	if err != nil {
		t.Fatal(err)
	}
	zh := r.start(t, 0)
	for _, c := range []handoff.Conversation{en, zh} {
		if err := r.desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "h1", Reason: triage.ReasonRequested, Intent: triage.IntentPresale}); err != nil {
			t.Fatalf("Handoff(%s): %v", c.ID, err)
		}
	}
	if got := r.lastSystem(t, en.ID); got != handoff.DefaultPhrasesEN.TransferPresale {
		t.Errorf("the English chat's transfer = %q, want %q", got, handoff.DefaultPhrasesEN.TransferPresale)
	}
	if got := r.lastSystem(t, zh.ID); got != transfer {
		t.Errorf("the Chinese chat's transfer = %q, want the edited %q", got, transfer)
	}
	if got := r.get(t, en.ID).Lang; got != handoff.LangEN {
		t.Errorf("the English chat's language = %q", got)
	}

	// 恢复默认: the edit dropped, the default is back on every node.
	view, err := other.Phrasebook(ctx)
	if err != nil || view.Rev != 1 {
		t.Fatalf("Phrasebook = rev %d, %v", view.Rev, err)
	}
	edits.Phrases = map[handoff.Lang]map[string]string{handoff.LangEN: {"greeting": greeting}}
	if rev, err = other.SavePhrasebook(ctx, edits, view.Rev); err != nil || rev != 2 {
		t.Fatalf("SavePhrasebook(rev 1) = %d, %v", rev, err)
	}
	timetest.Poll(t, 10*time.Second, "the first node to drop the edit", func() bool {
		return r.desk.PhrasesFor(handoff.LangZH).TransferPresale == handoff.DefaultPhrases.TransferPresale
	})
	view, err = r.desk.Phrasebook(ctx)
	if err != nil || view.Rev != 2 {
		t.Fatalf("Phrasebook = rev %d, %v", view.Rev, err)
	}
	for _, p := range view.Phrases[handoff.LangEN] {
		if p.Key == "greeting" && (!p.Edited || p.Text != greeting || p.Default != handoff.DefaultPhrasesEN.Greeting) {
			t.Errorf("the edited greeting in the view = %+v", p)
		}
		if p.Key == "transfer_presale" && p.Edited {
			t.Errorf("an unedited phrase marked edited: %+v", p)
		}
	}
}
