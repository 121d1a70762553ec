package console

import (
	"context"
	"net/http"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestLeastPrivilege reads conversations as agents of either group, a lead and an
// admin: an agent reads the chats handed off to their group and those they served,
// nothing else, on the API and on the event stream (docs/domain.md rule 32).
func TestLeastPrivilege(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsole(t, engine)
		f.token["lena"] = ctAddUser(t, f.accounts, "lena", account.RoleLead, handoff.GroupPresale)
		ctx := context.Background()

		after := ctQueue(t, f.desk, handoff.GroupAftersale)
		reads := func(user, id string) int {
			t.Helper()
			status, _ := f.api.Call(t, "GET", "/api/conversations/"+id, f.token[user], nil)
			return status
		}
		for _, path := range []string{"", "/messages", "/notes"} {
			status, body := f.api.Call(t, "GET", "/api/conversations/"+after.ID+path, f.token["pete"], nil)
			webtest.WantError(t, "a pre-sale agent reading an after-sale chat"+path, status, body, http.StatusForbidden, "forbidden")
		}
		for _, u := range []string{"alice", "lena", "admin"} {
			if got := reads(u, after.ID); got != http.StatusOK {
				t.Errorf("%s reading an after-sale chat: %d, want 200", u, got)
			}
		}

		// Pete serves a pre-sale chat and sends it on to after-sales: he still reads it
		// (he served it), though it is no longer his group's.
		pre := ctQueue(t, f.desk, handoff.GroupPresale)
		if _, err := f.desk.Claim(ctx, pre.ID, "pete"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.desk.TransferGroup(ctx, pre.ID, "pete", handoff.GroupAftersale); err != nil {
			t.Fatal(err)
		}
		if got := reads("pete", pre.ID); got != http.StatusOK {
			t.Errorf("pete reading the chat he served: %d, want 200", got)
		}
	})
}

// TestEventsForReader reads a pre-sale agent's event stream: it carries the chats of
// their group, tells them once that a chat left it, and nothing of after-sales chats.
func TestEventsForReader(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsole(t, engine)
		_, next := f.events(t, "pete")
		// until reads events up to the first of conversation id, failing on any event
		// of a conversation in hidden.
		until := func(id string, hidden ...string) streamEvent {
			t.Helper()
			for {
				e := next()
				for _, h := range hidden {
					if e.Conversation == h {
						t.Fatalf("the pre-sale agent's stream carries after-sales chat %s: %+v", h, e)
					}
				}
				if e.Conversation == id && e.Type == handoff.EventConversation {
					return e
				}
			}
		}
		after := ctQueue(t, f.desk, handoff.GroupAftersale)
		pre := ctQueue(t, f.desk, handoff.GroupPresale)
		if e := until(pre.ID, after.ID); e.Entry == nil || e.Entry.Group != handoff.GroupPresale {
			t.Fatalf("pre-sale hand-off event = %+v", e)
		}
		if _, err := f.desk.Claim(context.Background(), pre.ID, "pete"); err != nil {
			t.Fatal(err)
		}
		until(pre.ID, after.ID) // the claim
		if _, err := f.desk.TransferGroup(context.Background(), pre.ID, "pete", handoff.GroupAftersale); err != nil {
			t.Fatal(err)
		}
		// The transfer: the chat left pete's group; he is told it left, without its
		// records.
		gone := until(pre.ID, after.ID)
		if gone.Entry == nil || gone.Entry.Status != handoff.StatusQueued || gone.Entry.Group != handoff.GroupAftersale || len(gone.Messages) != 0 || gone.Entry.Preview != nil {
			t.Errorf("the event of a chat leaving the reader's group = %+v (entry %+v)", gone, gone.Entry)
		}
		// Its next change is not his to see.
		if _, err := f.desk.Claim(context.Background(), pre.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		last := ctQueue(t, f.desk, handoff.GroupPresale)
		until(last.ID, after.ID, pre.ID)
	})
}
