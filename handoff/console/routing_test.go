package console

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestConsoleRouting drives the routing API: presence, load, limits, transfers and the
// hand-back to the bot, with alice and bob (after-sale) and pete (pre-sale).
func TestConsoleRouting(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		f := ctNewConsole(t, engine)
		alice, bob, pete, admin := f.token["alice"], f.token["bob"], f.token["pete"], f.token["admin"]

		status, body := f.api.Call(t, "POST", "/api/presence", alice, map[string]string{"status": "sleeping"})
		webtest.WantError(t, "an unknown status", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "POST", "/api/presence", alice, map[string]string{"status": "online"})
		webtest.WantStatus(t, "alice's heartbeat", status, body, http.StatusOK)
		var load handoff.AgentLoad
		webtest.Decode(t, body, &load)
		if load.Agent != "alice" || load.Status != handoff.PresenceOnline || load.Load != 0 || load.MaxChats != 20 || load.Group != handoff.GroupAftersale {
			t.Errorf("heartbeat answered %+v", load)
		}

		// A hand-off goes to alice, the one online agent of after-sales.
		c := ctConv(t, f.desk, ctHandoff(t, f.desk, handoff.GroupAftersale, "after_sales"))
		status, body = f.api.Call(t, "GET", "/api/me/load", alice, nil)
		webtest.WantStatus(t, "alice's load", status, body, http.StatusOK)
		webtest.Decode(t, body, &load)
		if load.Load != 1 {
			t.Errorf("alice's load = %+v, want 1 chat", load)
		}
		status, body = f.api.Call(t, "GET", "/api/presence", bob, nil)
		webtest.WantStatus(t, "bob's view of presence", status, body, http.StatusOK)
		var list struct{ Agents []handoff.AgentLoad }
		webtest.Decode(t, body, &list)
		if len(list.Agents) != 1 || list.Agents[0].Agent != "alice" || list.Agents[0].Load != 1 {
			t.Errorf("presence = %+v, want alice with 1 chat", list.Agents)
		}
		status, body = f.api.Call(t, "GET", "/api/presence", pete, nil)
		webtest.Decode(t, body, &list)
		if status != http.StatusOK || len(list.Agents) != 0 {
			t.Errorf("pete (pre-sale) sees %d %+v, want nobody of after-sales", status, list.Agents)
		}

		// Limits: the admin sets alice's to 1; a claim over it is refused.
		status, body = f.api.Call(t, "PUT", "/api/users/alice/max_chats", alice, map[string]int{"max_chats": 1})
		webtest.WantError(t, "an agent setting a limit", status, body, http.StatusForbidden, "forbidden")
		status, body = f.api.Call(t, "PUT", "/api/users/nobody/max_chats", admin, map[string]int{"max_chats": 1})
		webtest.WantError(t, "a limit of an unknown user", status, body, http.StatusNotFound, "not_found")
		status, body = f.api.Call(t, "PUT", "/api/users/alice/max_chats", admin, map[string]int{"max_chats": -2})
		webtest.WantError(t, "a negative limit", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "PUT", "/api/users/alice/max_chats", admin, map[string]int{"max_chats": 1})
		webtest.WantStatus(t, "setting alice's limit", status, body, http.StatusOK)
		other := ctQueue(t, f.desk, handoff.GroupAftersale) // alice is full: it waits
		status, body = f.api.Call(t, "POST", "/api/conversations/"+other.ID+"/claim", alice, nil)
		webtest.WantError(t, "alice's claim over her limit", status, body, http.StatusConflict, "at_capacity")

		// Transfers.
		path := "/api/conversations/" + c.ID + "/transfer"
		status, body = f.api.Call(t, "POST", path, alice, map[string]string{})
		webtest.WantError(t, "a transfer to nobody", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "POST", path, alice, map[string]string{"agent": "alice"})
		webtest.WantError(t, "a transfer to oneself", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "POST", path, alice, map[string]string{"agent": "bob"})
		webtest.WantError(t, "a transfer to offline bob", status, body, http.StatusConflict, "agent_unavailable")
		status, body = f.api.Call(t, "POST", path, bob, map[string]string{"agent": "pete"})
		webtest.WantError(t, "a transfer by a non-owner", status, body, http.StatusForbidden, "not_owner")
		status, body = f.api.Call(t, "POST", "/api/presence", bob, map[string]string{"status": "online"})
		webtest.WantStatus(t, "bob's heartbeat", status, body, http.StatusOK) // bob takes the waiting one
		if cv, _ := f.desk.Conversation(ctx, other.ID); cv.Agent != "bob" {
			t.Fatalf("the waiting chat is with %q, want bob", cv.Agent)
		}
		f.api.Call(t, "PUT", "/api/users/bob/max_chats", admin, map[string]int{"max_chats": 1})
		f.api.Call(t, "POST", "/api/presence", bob, map[string]string{"status": "online"})
		status, body = f.api.Call(t, "POST", path, alice, map[string]string{"agent": "bob"})
		webtest.WantError(t, "a transfer to full bob", status, body, http.StatusConflict, "at_capacity")
		f.api.Call(t, "PUT", "/api/users/bob/max_chats", admin, map[string]int{"max_chats": 0})
		status, body = f.api.Call(t, "POST", path, alice, map[string]string{"agent": "bob"})
		webtest.WantStatus(t, "alice's transfer to bob", status, body, http.StatusOK)
		var got struct{ Conversation handoff.Conversation }
		webtest.Decode(t, body, &got)
		if got.Conversation.Agent != "bob" || got.Conversation.Status != handoff.StatusActive {
			t.Errorf("after the transfer the chat is %s with %q", got.Conversation.Status, got.Conversation.Agent)
		}
		status, body = f.api.Call(t, "POST", path, bob, map[string]string{"group": "vip"})
		webtest.WantError(t, "a transfer to an unknown group", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "POST", path, bob, map[string]string{"group": string(handoff.GroupPresale)})
		webtest.WantStatus(t, "bob's transfer to pre-sales", status, body, http.StatusOK)
		webtest.Decode(t, body, &got)
		if got.Conversation.Status != handoff.StatusQueued || got.Conversation.Group != handoff.GroupPresale || !got.Conversation.EnqueuedAt.Equal(c.EnqueuedAt) {
			t.Errorf("after the transfer to pre-sales the chat is %+v, want queued since %v", got.Conversation, c.EnqueuedAt)
		}

		// Back to the bot: pre-sales may, after-sales may not.
		status, body = f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/claim", pete, nil)
		webtest.WantStatus(t, "pete's claim", status, body, http.StatusOK)
		status, body = f.api.Call(t, "POST", "/api/conversations/"+other.ID+"/bot", bob, nil)
		webtest.WantError(t, "an after-sales chat back to the bot", status, body, http.StatusConflict, "aftersale_stays")
		status, body = f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/bot", bob, nil)
		webtest.WantError(t, "someone else's chat back to the bot", status, body, http.StatusForbidden, "not_owner")
		status, body = f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/bot", pete, nil)
		webtest.WantStatus(t, "pete's chat back to the bot", status, body, http.StatusOK)
		webtest.Decode(t, body, &got)
		if got.Conversation.Status != handoff.StatusBot {
			t.Errorf("after the hand-back the chat is %s", got.Conversation.Status)
		}

		// Going offline gives bob's chats back to the queue, and so to alice.
		status, body = f.api.Call(t, "POST", "/api/presence", bob, map[string]string{"status": "offline"})
		webtest.WantStatus(t, "bob going offline", status, body, http.StatusOK)
		webtest.Decode(t, body, &load)
		if load.Status != handoff.PresenceOffline || load.Load != 0 {
			t.Errorf("bob offline = %+v", load)
		}
		if cv, _ := f.desk.Conversation(ctx, other.ID); cv.Status != handoff.StatusActive || cv.Agent != "alice" {
			t.Errorf("bob's chat is %s with %q after he went offline, want alice's", cv.Status, cv.Agent)
		}
		if texts := ctTexts(t, f.desk, other.ID); !slices.Contains(texts, handoff.DefaultPhrases.AgentOffline) {
			t.Errorf("the shopper was not told: %q", texts)
		}
	})
}
