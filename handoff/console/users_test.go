package console

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestUserChanges: an admin changes an agent's group and limit (PATCH /api/users/{name})
// and the desk follows; disabling the agent ends their session at once and gives their
// chat back to the queue; the last enabled admin cannot be disabled or demoted (409).
func TestUserChanges(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsole(t, engine)
		ctx := context.Background()
		admin, alice := f.token["admin"], f.token["alice"]

		status, body := f.api.Call(t, "PATCH", "/api/users/alice", admin, map[string]any{"role": "emperor"})
		webtest.WantError(t, "an unknown role", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "PATCH", "/api/users/alice", alice, map[string]any{"max_chats": 3})
		webtest.WantError(t, "an agent's change", status, body, http.StatusForbidden, "forbidden")
		status, body = f.api.Call(t, "PATCH", "/api/users/nobody", admin, map[string]any{"max_chats": 3})
		webtest.WantError(t, "an unknown user", status, body, http.StatusNotFound, "not_found")
		for _, c := range []map[string]any{{"disabled": true}, {"role": "agent"}} {
			status, body = f.api.Call(t, "PATCH", "/api/users/admin", admin, c)
			webtest.WantError(t, "the last admin's change", status, body, http.StatusConflict, "last_admin")
		}

		if _, err := f.desk.Heartbeat(ctx, "alice", handoff.PresenceOnline); err != nil {
			t.Fatal(err)
		}
		status, body = f.api.Call(t, "PATCH", "/api/users/alice", admin, map[string]any{"group": "presale", "max_chats": 2})
		webtest.WantStatus(t, "alice's group and limit", status, body, http.StatusOK)
		var u map[string]any
		webtest.Decode(t, body, &u)
		if u["group"] != "presale" || u["max_chats"] != 2.0 || len(u["changed"].([]any)) != 2 {
			t.Errorf("PATCH answered %v", u)
		}
		load, err := f.desk.AgentLoad(ctx, "alice")
		if err != nil || load.Group != handoff.GroupPresale || load.MaxChats != 2 || load.Status != handoff.PresenceOnline {
			t.Errorf("alice's load after the change = %+v, %v; want presale, 2, online", load, err)
		}

		id := ctHandoff(t, f.desk, handoff.GroupPresale, triage.ReasonRequested)
		status, body = f.api.Call(t, "POST", "/api/conversations/"+id+"/claim", alice, nil)
		webtest.WantStatus(t, "alice claims", status, body, http.StatusOK)
		status, body = f.api.Call(t, "PATCH", "/api/users/alice", admin, map[string]any{"disabled": true})
		webtest.WantStatus(t, "disabling alice", status, body, http.StatusOK)
		status, body = f.api.Call(t, "GET", "/api/queue", alice, nil)
		webtest.WantError(t, "alice's session after disabling", status, body, http.StatusUnauthorized, "unauthorized")
		if c := ctConv(t, f.desk, id); c.Status != handoff.StatusQueued || c.Agent != "" {
			t.Errorf("alice's chat after disabling her: %s with %q; want queued", c.Status, c.Agent)
		}
		if load, _ := f.desk.AgentLoad(ctx, "alice"); load.Status != handoff.PresenceOffline {
			t.Errorf("alice's presence after disabling: %s, want offline", load.Status)
		}
		status, body = f.api.Call(t, "POST", "/api/login", "", map[string]string{"username": "alice", "password": ctPassword})
		webtest.WantError(t, "alice's sign-in while disabled", status, body, http.StatusForbidden, "user_disabled")
	})
}

// TestEventsEndWhenDisabled: an agent's open event stream ends once an admin disables
// them (the stream checks its user again now and then).
func TestEventsEndWhenDisabled(t *testing.T) {
	old := sseRecheck
	sseRecheck = 20 * time.Millisecond
	t.Cleanup(func() { sseRecheck = old })
	f := ctNewConsole(t, "bolt")
	res, _ := f.events(t, "alice")
	status, body := f.api.Call(t, "PATCH", "/api/users/alice", f.token["admin"], map[string]any{"disabled": true})
	webtest.WantStatus(t, "disabling alice", status, body, http.StatusOK)
	// The stream ends: reading it to the end returns before the 10 s deadline.
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Fatalf("the disabled agent's event stream did not end: %v", err)
	}
}
