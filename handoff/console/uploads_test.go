package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/files/filestest"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestPhotos: an agent who may see a chat uploads a photo to it and sends it; the
// console delivers the chat's photos with URLs that give their bytes, and a ticket links
// the photos of its conversation as evidence.
func TestPhotos(t *testing.T) {
	store, err := files.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := files.New(files.Config{Store: store, URLKey: []byte("the console test's URL key"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f := ctNewConsoleWith(t, desktest.Bolt, func(c *handoff.DeskConfig) { c.Files = svc })
	c, err := New(Config{Desk: f.desk, Accounts: f.accounts, Files: svc, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tickets, err := NewTicketAPI(TicketAPIConfig{Desk: f.desk, Accounts: f.accounts, Files: svc})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Routes(mux)
	tickets.Routes(mux)
	svc.Routes(mux)
	f.serve(t, mux)
	ctx := context.Background()

	// The shopper's photo of the damage, sent with the return request.
	conv := ctQueue(t, f.desk, handoff.GroupAftersale)
	defect := filestest.PNG(t, 200, 150, 21)
	if err := store.Put(ctx, conv.ID, "f_shopper_defect", "image/png", bytes.NewReader(defect), int64(len(defect))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.ShopperSays(ctx, conv.ID, handoff.ShopperMessage{ID: "m2", Text: "衣服袖口有个洞", Attachments: []string{"f_shopper_defect"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Claim(ctx, conv.ID, "alice"); err != nil {
		t.Fatal(err)
	}

	upload := func(user, conv string, b []byte) (int, []byte) {
		req := f.api.NewRequest(t, "POST", "/api/conversations/"+conv+"/uploads", b)
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Authorization", "Bearer "+f.token[user])
		res, body := f.api.Send(t, req)
		return res.StatusCode, body
	}
	sample := filestest.PNG(t, 80, 80, 66) // the correct item, for the shopper to compare
	status, body := upload("alice", conv.ID, sample)
	webtest.WantStatus(t, "the owner's upload", status, body, http.StatusCreated)
	var up files.Uploaded
	webtest.Decode(t, body, &up)
	if up.Type != "image/png" || up.Size != int64(len(sample)) {
		t.Fatalf("upload = %+v", up)
	}
	status, body = upload("bob", conv.ID, sample)
	webtest.WantStatus(t, "an upload by an agent of the chat's group", status, body, http.StatusCreated)
	status, body = upload("pete", conv.ID, sample)
	webtest.WantError(t, "an upload by a pre-sale agent", status, body, http.StatusForbidden, "forbidden")
	status, body = upload("alice", "c_nothing", sample)
	webtest.WantError(t, "an upload to no conversation", status, body, http.StatusNotFound, "not_found")
	status, body = upload("alice", conv.ID, []byte("不是图片，是一段文字"))
	webtest.WantError(t, "text as a photo", status, body, http.StatusUnsupportedMediaType, "unsupported_type")

	path := "/api/conversations/" + conv.ID + "/messages"
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"id": "r1", "attachments": []string{up.ID}})
	webtest.WantStatus(t, "a photo alone", status, body, http.StatusCreated)
	other := ctQueue(t, f.desk, handoff.GroupAftersale)
	if err := store.Put(ctx, other.ID, "f_other", "image/png", bytes.NewReader(sample), int64(len(sample))); err != nil {
		t.Fatal(err)
	}
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"id": "r2", "text": "请看这张图", "attachments": []string{"f_other"}})
	webtest.WantError(t, "another chat's photo", status, body, http.StatusBadRequest, "bad_attachment")

	var got struct{ Messages []handoff.Message }
	status, body = f.api.Call(t, "GET", "/api/conversations/"+conv.ID, f.token["bob"], nil)
	webtest.WantStatus(t, "the conversation", status, body, http.StatusOK)
	webtest.Decode(t, body, &got)
	want := map[string][]byte{"f_shopper_defect": defect, up.ID: sample}
	seen := 0
	for _, m := range got.Messages {
		for _, a := range m.Attachments {
			res, b := f.api.Send(t, f.api.NewRequest(t, "GET", a.URL, nil))
			if res.StatusCode != http.StatusOK || sha256.Sum256(b) != sha256.Sum256(want[a.ID]) {
				t.Errorf("%s of %s: GET %s = %d, %d bytes; want its bytes", a.ID, m.From, a.URL, res.StatusCode, len(b))
			}
			seen++
		}
	}
	if seen != 2 {
		t.Fatalf("the conversation shows %d photos, want 2: %+v", seen, got.Messages)
	}

	tk, err := f.desk.Tickets().Open(ctx, handoff.TicketDraft{
		Conversation: conv.ID, Order: "2024061812345678", Type: handoff.TicketReturn, Reason: "袖口破洞",
		Evidence: []string{handoff.EvidenceDefectPhoto}, Remedy: handoff.Remedy{Text: "退货退款"},
	}, account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)})
	if err != nil {
		t.Fatal(err)
	}
	var ticket struct{ Photos []handoff.Attachment }
	status, body = f.api.Call(t, "GET", "/api/tickets/"+tk.ID, f.token["alice"], nil)
	webtest.WantStatus(t, "the ticket", status, body, http.StatusOK)
	webtest.Decode(t, body, &ticket)
	if len(ticket.Photos) != 2 || ticket.Photos[0].ID != "f_shopper_defect" || ticket.Photos[1].URL == "" {
		t.Fatalf("ticket photos = %+v, want the shopper's and the agent's", ticket.Photos)
	}
	if ticket.Photos[0].Size != int64(len(defect)) {
		t.Errorf("ticket photo size %d, want %d", ticket.Photos[0].Size, len(defect))
	}
}
