package console

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/internal/webtest"
	"golang.org/x/crypto/bcrypt"
)

// ctPassword is the password of the fixture's agents.
const ctPassword = "kefu-test-pass"

// ctConsole is a console on one engine, served by a real HTTP server, with four users:
// "admin", "alice" and "bob" (agents of the after-sale group) and "pete" (an agent of
// the pre-sale group). The subtests of one engine share it; each makes its own
// conversations.
type ctConsole struct {
	desk     *handoff.Desk
	accounts *account.Service
	clock    *timetest.Clock
	srv      *httptest.Server
	api      webtest.Client    // calls srv
	token    map[string]string // bearer token of each user
}

// ctAccounts returns an account service on a fresh embedded database, with fast password
// hashing.
func ctAccounts(t *testing.T, now func() time.Time) *account.Service {
	t.Helper()
	st, err := account.NewBoltStore(account.BoltConfig{DB: bolttest.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := account.New(account.Config{Store: st, Groups: []string{string(handoff.GroupPresale), string(handoff.GroupAftersale)}, PasswordCost: bcrypt.MinCost, Now: now, InsecureCookie: true})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// ctAddUser adds a user with the password ctPassword and returns their session token.
func ctAddUser(t *testing.T, acc *account.Service, name string, role account.Role, group handoff.Group) string {
	t.Helper()
	ctx := context.Background()
	if _, err := acc.AddUser(ctx, name, ctPassword, role, string(group)); err != nil {
		t.Fatalf("AddUser(%s): %v", name, err)
	}
	token, _, err := acc.Login(ctx, name, ctPassword)
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return token
}

// ctNewConsoleWith returns a console on a fresh store of engine open, with the desk's
// configuration changed by set, and with the users of ctConsole.
func ctNewConsoleWith(t *testing.T, engine string, set func(*handoff.DeskConfig)) *ctConsole {
	t.Helper()
	clock := ctNewClock()
	acc := ctAccounts(t, clock.Now)
	d := desktest.Open(t, desktest.Options{Engine: engine, Now: clock.Now, Desk: func(c *handoff.DeskConfig) {
		c.Staff = acc
		if set != nil {
			set(c)
		}
	}}).Desk
	f := &ctConsole{desk: d, accounts: acc, clock: clock, token: make(map[string]string)}
	for _, u := range []struct {
		name  string
		role  account.Role
		group handoff.Group
	}{{"admin", account.RoleAdmin, handoff.GroupPresale}, {"alice", account.RoleAgent, handoff.GroupAftersale}, {"bob", account.RoleAgent, handoff.GroupAftersale}, {"pete", account.RoleAgent, handoff.GroupPresale}} {
		f.token[u.name] = ctAddUser(t, acc, u.name, u.role, u.group)
	}
	return f
}

func ctNewConsole(t *testing.T, engine string) *ctConsole {
	t.Helper()
	f := ctNewConsoleWith(t, engine, nil)
	f.serve(t, ctRoutes(t, f.desk, f.accounts, f.clock.Now))
	return f
}

// serve serves h to the test, and points f.api at it.
func (f *ctConsole) serve(t *testing.T, h http.Handler) {
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	f.api = webtest.Client{URL: f.srv.URL, HTTP: f.srv.Client()}
}

// ctRoutes are the console's routes and the account routes, as cmd/kefu serves them.
func ctRoutes(t *testing.T, d *handoff.Desk, acc *account.Service, now func() time.Time) *http.ServeMux {
	t.Helper()
	c, err := New(Config{Desk: d, Accounts: acc, Now: now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	c.Routes(mux)
	acc.API().Routes(mux)
	return mux
}

func TestConsole(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsole(t, engine)
		for _, tc := range []struct {
			name string
			test func(*testing.T, *ctConsole)
		}{
			{"cookie_origin", ctTestCookieOrigin},
			{"queue", ctTestQueue},
			{"conversation", ctTestConversation},
			{"claim", ctTestClaim},
			{"reply", ctTestReply},
			{"resolve", ctTestResolve},
			{"events", ctTestEvents},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.test(t, f) })
		}
	})
}

// ctTestCookieOrigin claims with the session cookie from other origins and then from the
// console's own.
func ctTestCookieOrigin(t *testing.T, f *ctConsole) {
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	claim := func(header map[string]string) (int, []byte) {
		req := f.api.NewRequest(t, "POST", "/api/conversations/"+c.ID+"/claim", nil)
		req.AddCookie(&http.Cookie{Name: account.SessionCookie, Value: f.token["alice"]})
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, body := f.api.Send(t, req)
		return res.StatusCode, body
	}
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "http://" + strings.Replace(f.srv.Listener.Addr().String(), "127.0.0.1", "localhost", 1)},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		status, body := claim(h)
		webtest.WantError(t, "claim with the cookie and "+ctHeaderString(h), status, body, http.StatusForbidden, "forbidden")
	}
	if got, _ := f.desk.Conversation(context.Background(), c.ID); got.Status != handoff.StatusQueued {
		t.Fatalf("after cross-site claims the conversation is %s, want queued", got.Status)
	}

	req := f.api.NewRequest(t, "GET", "/api/me", nil)
	req.AddCookie(&http.Cookie{Name: account.SessionCookie, Value: f.token["alice"]})
	req.Header.Set("Origin", "https://evil.example")
	res, body := f.api.Send(t, req)
	webtest.WantStatus(t, "GET /api/me with the cookie from another origin", res.StatusCode, body, http.StatusOK)

	status, body := claim(map[string]string{"Origin": f.srv.URL, "Sec-Fetch-Site": "same-origin"})
	webtest.WantStatus(t, "claim with the cookie from the console's origin", status, body, http.StatusOK)
	if got, _ := f.desk.Conversation(context.Background(), c.ID); got.Status != handoff.StatusActive || got.Agent != "alice" {
		t.Errorf("after the claim the conversation is %s with %q, want active with alice", got.Status, got.Agent)
	}
}

func ctHeaderString(h map[string]string) string {
	var parts []string
	for k, v := range h {
		parts = append(parts, k+": "+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// ctQueueView is the body of GET /api/queue.
type ctQueueView struct {
	Waiting []entry
	Mine    []entry
}

func (f *ctConsole) queue(t *testing.T, user string) ctQueueView {
	t.Helper()
	status, body := f.api.Call(t, "GET", "/api/queue", f.token[user], nil)
	webtest.WantStatus(t, "GET /api/queue as "+user, status, body, http.StatusOK)
	var q ctQueueView
	webtest.Decode(t, body, &q)
	if q.Waiting == nil || q.Mine == nil {
		t.Errorf("GET /api/queue as %s = %s, want both lists, empty or not", user, body)
	}
	return q
}

func ctFind(es []entry, id string) (entry, bool) {
	i := slices.IndexFunc(es, func(e entry) bool { return e.Conversation == id })
	if i < 0 {
		return entry{}, false
	}
	return es[i], true
}

func ctTestQueue(t *testing.T, f *ctConsole) {
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	f.clock.Advance(90 * time.Second)

	got, ok := ctFind(f.queue(t, "alice").Waiting, c.ID)
	if !ok {
		t.Fatalf("the after-sale agent's queue does not list %s", c.ID)
	}
	_, place, _ := c.Waiting()
	want := entry{
		Conversation: c.ID, Status: handoff.StatusQueued, Group: handoff.GroupAftersale, Reason: "after_sales",
		Intent: "aftersale", Lang: handoff.LangZH, WaitingS: 90, EnqueuedAt: c.EnqueuedAt.UnixMilli(), Order: place.Score,
	}
	if got.Preview == nil || *got.Preview != "我要退货" {
		t.Errorf("queue entry's preview = %v, want 我要退货", got.Preview)
	}
	got.Preview = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queue entry = %+v\nwant %+v", got, want)
	}
	if _, ok := ctFind(f.queue(t, "pete").Waiting, c.ID); ok {
		t.Errorf("the pre-sale agent's queue lists the after-sale %s", c.ID)
	}
	if _, ok := ctFind(f.queue(t, "admin").Waiting, c.ID); !ok {
		t.Errorf("the admin's queue does not list %s", c.ID)
	}
}

func ctTestConversation(t *testing.T, f *ctConsole) {
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	status, body := f.api.Call(t, "GET", "/api/conversations/"+c.ID, f.token["alice"], nil)
	webtest.WantStatus(t, "GET conversation", status, body, http.StatusOK)
	var got struct {
		Conversation handoff.Conversation
		Messages     []handoff.Message
	}
	webtest.Decode(t, body, &got)
	cv := got.Conversation
	if cv.ID != c.ID || cv.Status != handoff.StatusQueued || cv.Group != handoff.GroupAftersale || cv.Reason != "after_sales" || cv.Intent != "aftersale" {
		t.Errorf("conversation = %+v", cv)
	}
	if !reflect.DeepEqual(cv.Context, ctContext()) {
		t.Errorf("context = %+v, want %+v", cv.Context, ctContext())
	}
	if bytes.Contains(body, []byte(c.TokenHash)) {
		t.Errorf("the answer shows the conversation's token hash: %s", body)
	}
	type rec struct {
		Seq    int64
		Kind   handoff.Kind
		From   handoff.From
		Text   string
		Reason triage.Reason
		Group  handoff.Group
	}
	var recs []rec
	for _, m := range got.Messages {
		recs = append(recs, rec{m.Seq, m.Kind, m.From, m.Text, m.Reason, m.Group})
	}
	wantRecs := []rec{
		{1, handoff.KindMessage, handoff.FromShopper, "我要退货", "", ""},
		{2, handoff.KindHandoff, handoff.FromSystem, "", "after_sales", handoff.GroupAftersale},
		{3, handoff.KindMessage, handoff.FromSystem, handoff.DefaultPhrases.TransferAftersale, "", ""},
	}
	if !reflect.DeepEqual(recs, wantRecs) {
		t.Errorf("transcript = %+v\nwant %+v", recs, wantRecs)
	}

	status, body = f.api.Call(t, "GET", "/api/conversations/"+c.ID+"/messages?after=2", f.token["alice"], nil)
	webtest.WantStatus(t, "GET messages after 2", status, body, http.StatusOK)
	var after struct{ Messages []handoff.Message }
	webtest.Decode(t, body, &after)
	if len(after.Messages) != 1 || after.Messages[0].Seq != 3 {
		t.Errorf("messages after 2 = %+v, want record 3", after.Messages)
	}

	status, body = f.api.Call(t, "GET", "/api/conversations/c_unknown", f.token["alice"], nil)
	webtest.WantError(t, "GET unknown conversation", status, body, http.StatusNotFound, "not_found")
}

func ctTestClaim(t *testing.T, f *ctConsole) {
	ctx := context.Background()
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	path := "/api/conversations/" + c.ID + "/claim"

	status, body := f.api.Call(t, "POST", path, f.token["alice"], nil)
	webtest.WantStatus(t, "alice's claim", status, body, http.StatusOK)
	var got struct{ Conversation handoff.Conversation }
	webtest.Decode(t, body, &got)
	if got.Conversation.Status != handoff.StatusActive || got.Conversation.Agent != "alice" {
		t.Errorf("claim answered %s with %q, want active with alice", got.Conversation.Status, got.Conversation.Agent)
	}
	status, body = f.api.Call(t, "POST", path, f.token["bob"], nil)
	webtest.WantError(t, "bob's claim of alice's chat", status, body, http.StatusConflict, "already_claimed")
	if cv, _ := f.desk.Conversation(ctx, c.ID); cv.Agent != "alice" {
		t.Errorf("after bob's claim the owner is %q, want alice", cv.Agent)
	}

	other := ctQueue(t, f.desk, handoff.GroupAftersale)
	status, body = f.api.Call(t, "POST", "/api/conversations/"+other.ID+"/claim", f.token["pete"], nil)
	webtest.WantError(t, "claim by an agent of another group", status, body, http.StatusForbidden, "forbidden")
	if cv, _ := f.desk.Conversation(ctx, other.ID); cv.Status != handoff.StatusQueued {
		t.Errorf("after pete's claim the conversation is %s, want queued", cv.Status)
	}
	status, body = f.api.Call(t, "POST", "/api/conversations/"+other.ID+"/claim", f.token["admin"], nil)
	webtest.WantStatus(t, "the admin's claim of an after-sale chat", status, body, http.StatusOK)

	bot, _, err := f.desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body = f.api.Call(t, "POST", "/api/conversations/"+bot.ID+"/claim", f.token["alice"], nil)
	webtest.WantError(t, "claim of a chat with the bot", status, body, http.StatusConflict, "not_queued")
	status, body = f.api.Call(t, "POST", "/api/conversations/c_unknown/claim", f.token["alice"], nil)
	webtest.WantError(t, "claim of an unknown chat", status, body, http.StatusNotFound, "not_found")
}

func ctTestReply(t *testing.T, f *ctConsole) {
	ctx := context.Background()
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	if _, err := f.desk.Claim(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	path := "/api/conversations/" + c.ID + "/messages"
	reply := map[string]string{"text": "您好，请提供订单号", "id": "r1"}

	status, body := f.api.Call(t, "POST", path, f.token["alice"], reply)
	webtest.WantStatus(t, "the owner's reply", status, body, http.StatusCreated)
	var got struct{ Seq int64 }
	webtest.Decode(t, body, &got)
	log := ctLog(t, f.desk, c.ID)
	if got.Seq != int64(len(log)) {
		t.Fatalf("reply answered seq %d, the log has %d records", got.Seq, len(log))
	}
	if m := log[len(log)-1]; m.Kind != handoff.KindMessage || m.From != handoff.FromAgent || m.Agent != "alice" || m.Text != reply["text"] {
		t.Errorf("stored reply = %+v", m)
	}

	status, body = f.api.Call(t, "POST", path, f.token["alice"], reply)
	webtest.WantStatus(t, "the same reply again", status, body, http.StatusCreated)
	var again struct{ Seq int64 }
	webtest.Decode(t, body, &again)
	if again.Seq != got.Seq {
		t.Errorf("the retried reply answered seq %d, the first %d", again.Seq, got.Seq)
	}
	if n := len(ctLog(t, f.desk, c.ID)); n != len(log) {
		t.Errorf("the retried reply grew the log from %d to %d records", len(log), n)
	}

	status, body = f.api.Call(t, "POST", path, f.token["bob"], map[string]string{"text": "我来"})
	webtest.WantError(t, "reply by someone else", status, body, http.StatusForbidden, "not_owner")
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]string{"text": "  "})
	webtest.WantError(t, "empty reply", status, body, http.StatusBadRequest, "bad_request")
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]string{"text": strings.Repeat("好", handoff.MaxReplyRunes+1)})
	webtest.WantError(t, "reply too long", status, body, http.StatusBadRequest, "bad_request")
	if n := len(ctLog(t, f.desk, c.ID)); n != len(log) {
		t.Errorf("refused replies grew the log from %d to %d records", len(log), n)
	}

	if _, err := f.desk.Resolve(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	resolved := len(ctLog(t, f.desk, c.ID))
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]string{"text": "还在吗？", "id": "r2"})
	webtest.WantError(t, "reply to a resolved chat", status, body, http.StatusConflict, "conversation_resolved")
	if n := len(ctLog(t, f.desk, c.ID)); n != resolved {
		t.Errorf("the reply to a resolved chat grew the log from %d to %d records", resolved, n)
	}
}

func ctTestResolve(t *testing.T, f *ctConsole) {
	ctx := context.Background()
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	if _, err := f.desk.Claim(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := ctFind(f.queue(t, "alice").Mine, c.ID); !ok {
		t.Fatalf("alice's chats do not list the claimed %s", c.ID)
	}
	path := "/api/conversations/" + c.ID + "/resolve"

	status, body := f.api.Call(t, "POST", path, f.token["bob"], nil)
	webtest.WantError(t, "resolve by someone else", status, body, http.StatusForbidden, "not_owner")
	status, body = f.api.Call(t, "POST", path, f.token["alice"], nil)
	webtest.WantStatus(t, "the owner's resolve", status, body, http.StatusOK)
	var got struct{ Conversation handoff.Conversation }
	webtest.Decode(t, body, &got)
	if got.Conversation.Status != handoff.StatusResolved {
		t.Errorf("resolve answered status %s, want resolved", got.Conversation.Status)
	}
	log := ctLog(t, f.desk, c.ID)
	status, body = f.api.Call(t, "POST", path, f.token["alice"], nil)
	webtest.WantError(t, "second resolve", status, body, http.StatusConflict, "conversation_resolved")
	if after := ctLog(t, f.desk, c.ID); len(after) != len(log) || ctCount(after, handoff.StatusResolved) != 1 {
		t.Errorf("after the second resolve the log has %d records (%d before), %d resolutions",
			len(after), len(log), ctCount(after, handoff.StatusResolved))
	}
	owned, err := f.desk.Owned(ctx, "alice")
	if err != nil || slices.Contains(ctIDs(owned), c.ID) {
		t.Errorf("Owned(alice) = %v, %v; want it without the resolved %s", ctIDs(owned), err, c.ID)
	}
	if _, ok := ctFind(f.queue(t, "alice").Mine, c.ID); ok {
		t.Errorf("alice's chats still list the resolved %s", c.ID)
	}
}

// ctTestEvents reads the event stream while a chat is handed off and answered.
func ctTestEvents(t *testing.T, f *ctConsole) {
	status, body := f.api.Call(t, "GET", "/api/events", "", nil)
	webtest.WantError(t, "events without a token", status, body, http.StatusUnauthorized, "unauthorized")

	_, next := f.events(t, "alice")

	// Events carry what changed: the chat's queue line, and the records it gained.
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	for e := next(); ; e = next() {
		if e.Type == handoff.EventQueue {
			t.Fatalf("the stream carries queue moves: %+v", e)
		}
		if e.Type == handoff.EventConversation && e.Conversation == c.ID && e.Entry != nil && e.Entry.Status == handoff.StatusQueued {
			if e.Entry.Group != handoff.GroupAftersale || e.Entry.Order == 0 || e.Entry.Preview != nil {
				t.Errorf("the hand-off's entry = %+v", e.Entry)
			}
			break
		}
	}
	if _, err := f.desk.Claim(context.Background(), c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	m, err := f.desk.Reply(context.Background(), c.ID, "alice", "", "您好")
	if err != nil {
		t.Fatal(err)
	}
	for {
		e := next()
		if e.Type != handoff.EventConversation || e.Conversation != c.ID || len(e.Messages) == 0 || e.Messages[0].Seq != m.Seq {
			continue
		}
		if e.Entry == nil || e.Entry.Agent != "alice" || e.Entry.AwaitingReply || e.Messages[0].Text != "您好" {
			t.Errorf("the reply's event = %+v (entry %+v)", e, e.Entry)
		}
		break
	}
}
