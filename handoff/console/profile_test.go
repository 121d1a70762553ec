package console

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/files/filestest"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestProfiles: a user sets their own display name and avatar (PATCH /api/me), an admin
// anyone's (PATCH /api/users/{name}); a bad name or an avatar never uploaded is refused
// and changes nothing; the avatar loads without a token; shoppers then see the display
// name; serving is turned off and on (PUT /api/me/serving); the agent sees the shopper's
// rating on the conversation.
func TestProfiles(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		store, err := files.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		svc, err := files.New(files.Config{Store: store, URLKey: []byte("the console test's URL key"), TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		f := ctNewConsoleWith(t, engine, func(c *handoff.DeskConfig) { c.Files = svc })
		c, err := New(Config{Desk: f.desk, Accounts: f.accounts, Files: svc, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		c.Routes(mux)
		f.accounts.API().Routes(mux)
		f.serve(t, mux)
		ctx := context.Background()

		// The avatar: uploaded, then made alice's.
		png := filestest.PNG(t, 64, 64, 7)
		req := f.api.NewRequest(t, "POST", "/api/avatars", png)
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Authorization", "Bearer "+f.token["alice"])
		res, body := f.api.Send(t, req)
		webtest.WantStatus(t, "uploading an avatar", res.StatusCode, body, http.StatusCreated)
		var up files.Uploaded
		webtest.Decode(t, body, &up)
		if up.URL != "/avatars/"+up.ID {
			t.Fatalf("avatar upload = %+v, want its public URL", up)
		}
		req = f.api.NewRequest(t, "POST", "/api/avatars", []byte("一段文字"))
		req.Header.Set("Authorization", "Bearer "+f.token["alice"])
		res, body = f.api.Send(t, req)
		webtest.WantError(t, "text as an avatar", res.StatusCode, body, http.StatusUnsupportedMediaType, "unsupported_type")

		for _, bad := range []struct {
			what string
			body map[string]any
		}{
			{"a name too long", map[string]any{"display_name": strings.Repeat("美", 17)}},
			{"a name with a control character", map[string]any{"display_name": "小\u0007美"}},
			{"an avatar never uploaded", map[string]any{"avatar": "f_nothing"}},
			{"an avatar path", map[string]any{"avatar": "../x"}},
		} {
			status, body := f.api.Call(t, "PATCH", "/api/me", f.token["alice"], bad.body)
			webtest.WantError(t, bad.what, status, body, http.StatusBadRequest, "bad_request")
		}
		// Shoppers read the name by every message: a phone number in it is blocked, as in
		// a reply, and an admin's naming too.
		status, body := f.api.Call(t, "PATCH", "/api/me", f.token["alice"], map[string]any{"display_name": "小美13812345678"})
		webtest.WantError(t, "a name with a phone number", status, body, http.StatusUnprocessableEntity, "blocked_contact")
		status, body = f.api.Call(t, "PATCH", "/api/users/alice", f.token["admin"], map[string]any{"display_name": "小美13812345678"})
		webtest.WantError(t, "an admin's name with a phone number", status, body, http.StatusUnprocessableEntity, "blocked_contact")
		if u, _ := f.accounts.User(ctx, "alice"); u.DisplayName != "" || u.Avatar != "" {
			t.Fatalf("refused profiles changed alice: %+v", u)
		}
		status, body = f.api.Call(t, "PATCH", "/api/me", f.token["alice"], map[string]any{"display_name": " 小美 ", "avatar": up.ID})
		webtest.WantStatus(t, "alice's profile", status, body, http.StatusOK)
		var me map[string]any
		webtest.Decode(t, body, &me)
		if me["display_name"] != "小美" || me["shown_name"] != "小美" || me["avatar"] != up.URL || me["name"] != "alice" {
			t.Errorf("alice's profile = %v", me)
		}
		// Anyone loads the avatar, no token needed.
		res, err = f.srv.Client().Get(f.srv.URL + up.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Equal(got, png) || res.Header.Get("Content-Type") != "image/png" {
			t.Errorf("GET %s = %d %s, %d bytes; want the PNG", up.URL, res.StatusCode, res.Header.Get("Content-Type"), len(got))
		}
		res, err = f.srv.Client().Get(f.srv.URL + "/avatars/f_nothing")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown avatar: %d, want 404", res.StatusCode)
		}

		// An admin names bob; bob may not name alice.
		status, body = f.api.Call(t, "PATCH", "/api/users/bob", f.token["admin"], map[string]any{"display_name": "阿波"})
		webtest.WantStatus(t, "the admin naming bob", status, body, http.StatusOK)
		status, body = f.api.Call(t, "PATCH", "/api/users/alice", f.token["bob"], map[string]any{"display_name": "坏人"})
		webtest.WantError(t, "bob naming alice", status, body, http.StatusForbidden, "forbidden")
		status, body = f.api.Call(t, "PATCH", "/api/users/nobody", f.token["admin"], map[string]any{"display_name": "某人"})
		webtest.WantError(t, "naming nobody", status, body, http.StatusNotFound, "not_found")
		if u, _ := f.accounts.User(ctx, "bob"); u.DisplayName != "阿波" {
			t.Errorf("bob = %+v, want 阿波", u)
		}

		// alice takes a chat: the shopper is greeted by 小美.
		conv := ctQueue(t, f.desk, handoff.GroupAftersale)
		status, body = f.api.Call(t, "POST", "/api/conversations/"+conv.ID+"/claim", f.token["alice"], nil)
		webtest.WantStatus(t, "alice's claim", status, body, http.StatusOK)
		texts := strings.Join(ctTexts(t, f.desk, conv.ID), "\n")
		if !strings.Contains(texts, strings.ReplaceAll(handoff.DefaultPhrases.AgentJoined, "{agent}", "小美")) || strings.Contains(texts, "alice") {
			t.Errorf("the shopper's log:\n%s\nwant 小美's greeting and no login", texts)
		}

		// Serving: alice pauses and resumes; the admin starts paused.
		status, body = f.api.Call(t, "POST", "/api/presence", f.token["alice"], map[string]any{"status": "online"})
		webtest.WantStatus(t, "alice's heartbeat", status, body, http.StatusOK)
		status, body = f.api.Call(t, "PUT", "/api/me/serving", f.token["alice"], map[string]any{"serving": false})
		webtest.WantStatus(t, "alice pausing", status, body, http.StatusOK)
		var load handoff.AgentLoad
		webtest.Decode(t, body, &load)
		if load.Serving || load.Agent != "alice" {
			t.Errorf("alice paused: %+v", load)
		}
		if u, _ := f.accounts.User(ctx, "alice"); u.IsServing() {
			t.Error("alice's pause was not kept")
		}
		status, body = f.api.Call(t, "GET", "/api/presence", f.token["admin"], nil)
		webtest.WantStatus(t, "the agents", status, body, http.StatusOK)
		var agents struct{ Agents []handoff.AgentLoad }
		webtest.Decode(t, body, &agents)
		if len(agents.Agents) != 1 || agents.Agents[0].ShownName != "小美" || agents.Agents[0].Serving || agents.Agents[0].Status != handoff.PresenceOnline {
			t.Errorf("the agents = %+v, want alice online as 小美, paused", agents.Agents)
		}
		status, body = f.api.Call(t, "PUT", "/api/me/serving", f.token["alice"], map[string]any{})
		webtest.WantError(t, "serving left out", status, body, http.StatusBadRequest, "bad_request")
		status, body = f.api.Call(t, "PUT", "/api/me/serving", f.token["alice"], map[string]any{"serving": true})
		webtest.WantStatus(t, "alice resuming", status, body, http.StatusOK)
		status, body = f.api.Call(t, "GET", "/api/me", f.token["admin"], nil)
		webtest.WantStatus(t, "the admin's me", status, body, http.StatusOK)
		webtest.Decode(t, body, &me)
		if me["serving"] != false {
			t.Errorf("the admin's serving = %v, want false by default", me["serving"])
		}

		// The shopper rates the resolved chat; alice sees it on the conversation.
		status, body = f.api.Call(t, "POST", "/api/conversations/"+conv.ID+"/resolve", f.token["alice"], nil)
		webtest.WantStatus(t, "resolving", status, body, http.StatusOK)
		if _, err := f.desk.Rate(ctx, conv.ID, "r1", 5, "小美很耐心"); err != nil {
			t.Fatal(err)
		}
		status, body = f.api.Call(t, "GET", "/api/conversations/"+conv.ID, f.token["alice"], nil)
		webtest.WantStatus(t, "alice reading the chat", status, body, http.StatusOK)
		var read struct {
			Conversation struct {
				Rating *struct {
					Score   int
					Comment string
					At      string
				}
			}
		}
		webtest.Decode(t, body, &read)
		if r := read.Conversation.Rating; r == nil || r.Score != 5 || r.Comment != "小美很耐心" || r.At == "" {
			t.Errorf("the conversation's rating = %+v, want 5 with the comment and its time", r)
		}
	})
}
