package console

import (
	"bytes"
	"context"
	"github.com/kefu-im/kefu/internal/account"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/internal/webtest"
	"github.com/rs/zerolog"
)

// gtLog is a log sink safe for the handlers' goroutines.
type gtLog struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *gtLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *gtLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// gtConsole is a console with canned replies and an allowed link host, whose requests
// log into log: alice and bob (after-sale), pete (pre-sale) and admin.
type gtConsole struct {
	*ctConsole
	log   *gtLog
	audit *audit.Log
}

var gtCanned = []handoff.CannedReply{
	{Key: "greeting", Title: "问候", Text: "您好，我是客服{agent}，很高兴为您服务，请问有什么可以帮到您？"},
	{Key: "wait", Title: "请稍等", Text: "请稍等，正在为您查询，马上回复您。"},
}

func gtNewConsole(t *testing.T, engine string) *gtConsole {
	t.Helper()
	f := &gtConsole{log: &gtLog{}}
	f.ctConsole = ctNewConsoleWith(t, engine, func(c *handoff.DeskConfig) {
		c.CannedReplies, c.AllowedLinkHosts = gtCanned, []string{"shop.example.com"}
	})
	as, err := audit.NewBoltStore(bolttest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.audit, err = audit.New(audit.Config{Store: as}); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Desk: f.desk, Accounts: f.accounts, Now: f.clock.Now, Audit: f.audit})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Routes(mux)
	f.accounts.API().Routes(mux)
	logger := zerolog.New(f.log)
	f.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(logger.WithContext(r.Context())))
	}))
	return f
}

func TestConsoleGuard(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := gtNewConsole(t, engine)
		t.Run("canned", func(t *testing.T) { gtTestCanned(t, f) })
		t.Run("notes", func(t *testing.T) { gtTestNotes(t, f) })
		t.Run("short", func(t *testing.T) { gtTestShort(t, f) })
		t.Run("garbled", func(t *testing.T) { gtTestGarbled(t, f) })
		t.Run("contact", func(t *testing.T) { gtTestContact(t, f) })
		t.Run("first_reply", func(t *testing.T) { gtTestFirstReply(t, f) })
	})
}

// gtClaimed queues an after-sales chat and gives it to alice.
func gtClaimed(t *testing.T, f *gtConsole) handoff.Conversation {
	t.Helper()
	c := ctQueue(t, f.desk, handoff.GroupAftersale)
	c, err := f.desk.Claim(context.Background(), c.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func gtNotes(t *testing.T, f *gtConsole, id string) []handoff.Note {
	t.Helper()
	status, body := f.api.Call(t, "GET", "/api/conversations/"+id+"/notes", f.token["admin"], nil)
	webtest.WantStatus(t, "the admin reading notes", status, body, http.StatusOK)
	var got struct{ Notes []handoff.Note }
	webtest.Decode(t, body, &got)
	return got.Notes
}

func gtTestCanned(t *testing.T, f *gtConsole) {
	status, body := f.api.Call(t, "GET", "/api/canned", f.token["alice"], nil)
	webtest.WantStatus(t, "canned replies", status, body, http.StatusOK)
	var got struct{ Canned []handoff.CannedReply }
	webtest.Decode(t, body, &got)
	if len(got.Canned) != 2 || got.Canned[0].Key != "greeting" || got.Canned[0].Text != "您好，我是客服"+account.NeutralLabel("alice")+"，很高兴为您服务，请问有什么可以帮到您？" {
		t.Errorf("canned = %+v, want the greeting with the label shoppers see for alice (no display name set), never the login, first", got.Canned)
	}
	status, body = f.api.Call(t, "GET", "/api/canned", "", nil)
	webtest.WantError(t, "canned without login", status, body, http.StatusUnauthorized, "unauthorized")
}

func gtTestNotes(t *testing.T, f *gtConsole) {
	c := gtClaimed(t, f)
	path := "/api/conversations/" + c.ID + "/notes"
	const secret = "顾客是老客户，已补偿 5 元优惠券"

	status, body := f.api.Call(t, "POST", path, f.token["alice"], map[string]string{"text": secret, "id": "n1"})
	webtest.WantStatus(t, "the owner's note", status, body, http.StatusCreated)
	var added struct{ Note handoff.Note }
	webtest.Decode(t, body, &added)
	if n := added.Note; n.Author != "alice" || n.Kind != handoff.NoteAgent || n.Text != secret || n.TS == 0 || n.AfterSeq != c.Seq {
		t.Errorf("note = %+v", n)
	}
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]string{"text": secret, "id": "n1"})
	webtest.WantStatus(t, "the same note again", status, body, http.StatusCreated)
	status, body = f.api.Call(t, "POST", path, f.token["bob"], map[string]string{"text": "我明天跟进退款"})
	webtest.WantStatus(t, "a note by an agent of the group", status, body, http.StatusCreated)
	status, body = f.api.Call(t, "POST", path, f.token["pete"], map[string]string{"text": "看看"})
	webtest.WantError(t, "a note by another group's agent", status, body, http.StatusForbidden, "forbidden")
	status, body = f.api.Call(t, "GET", path, f.token["pete"], nil)
	webtest.WantError(t, "another group's agent reading notes", status, body, http.StatusForbidden, "forbidden")
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]string{"text": " "})
	webtest.WantError(t, "an empty note", status, body, http.StatusBadRequest, "bad_request")
	status, body = f.api.Call(t, "POST", "/api/conversations/nope/notes", f.token["alice"], map[string]string{"text": "x"})
	webtest.WantError(t, "a note of an unknown chat", status, body, http.StatusNotFound, "not_found")

	notes := gtNotes(t, f, c.ID)
	if len(notes) != 2 || notes[0].Author != "alice" || notes[1].Author != "bob" {
		t.Fatalf("notes = %+v, want alice's then bob's", notes)
	}
	// The shopper's widget reads the log: no note is in it.
	for _, m := range ctLog(t, f.desk, c.ID) {
		if strings.Contains(m.Text, "优惠券") || strings.Contains(m.Text, "跟进") {
			t.Errorf("a note reached the shopper's log: %+v", m)
		}
	}
}

// gtTestGarbled: replies, reasons and notes with invalid UTF-8, control characters, bidi
// overrides or only invisible characters are refused with bad_message, and nothing is
// stored.
func gtTestGarbled(t *testing.T, f *gtConsole) {
	c := gtClaimed(t, f)
	before, notes := len(ctLog(t, f.desk, c.ID)), len(gtNotes(t, f, c.ID))
	for _, text := range []string{"bad \xff byte", "nul \x00 inside", "订单\u202e87654321", "\u200b\u200b", "replaced \ufffd"} {
		status, body := f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/messages", f.token["alice"], map[string]any{"text": text})
		webtest.WantError(t, "the reply "+text, status, body, http.StatusBadRequest, "bad_message")
		status, body = f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/notes", f.token["alice"], map[string]any{"text": text})
		webtest.WantError(t, "the note "+text, status, body, http.StatusBadRequest, "bad_message")
	}
	// The bytes as sent, not as a JSON encoder would mend them.
	status, body := f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/messages", f.token["alice"], []byte("{\"text\":\"bad \xff\xfe byte\"}"))
	webtest.WantError(t, "a reply of invalid UTF-8", status, body, http.StatusBadRequest, "bad_message")
	ov := map[string]any{"text": "拨打 13812345678", "override": true, "reason": "顾客\u202e要求"}
	status, body = f.api.Call(t, "POST", "/api/conversations/"+c.ID+"/messages", f.token["alice"], ov)
	webtest.WantError(t, "an override with a bidi override in its reason", status, body, http.StatusBadRequest, "bad_message")
	if n, m := len(ctLog(t, f.desk, c.ID)), len(gtNotes(t, f, c.ID)); n != before || m != notes {
		t.Errorf("refused texts stored: log %d to %d, notes %d to %d", before, n, notes, m)
	}
}

func gtTestShort(t *testing.T, f *gtConsole) {
	c := gtClaimed(t, f)
	path := "/api/conversations/" + c.ID + "/messages"
	before := len(ctLog(t, f.desk, c.ID))
	for _, text := range []string{"嗯", "好的！", "ok", "👍"} {
		status, body := f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": text})
		webtest.WantError(t, "the one-word reply "+text, status, body, http.StatusConflict, "confirm_short")
	}
	if n := len(ctLog(t, f.desk, c.ID)); n != before {
		t.Fatalf("refused short replies grew the log from %d to %d", before, n)
	}
	status, body := f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": "好的", "confirm": true})
	webtest.WantStatus(t, "a confirmed short reply", status, body, http.StatusCreated)
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": "好的，马上为您处理"})
	webtest.WantStatus(t, "a full sentence", status, body, http.StatusCreated)
}

func gtTestContact(t *testing.T, f *gtConsole) {
	c := gtClaimed(t, f)
	path := "/api/conversations/" + c.ID + "/messages"
	before := len(ctLog(t, f.desk, c.ID))
	const text = "您可以加我微信 kefu_2024 或拨打 13812345678"

	status, body := f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": text, "id": "x1"})
	webtest.WantError(t, "outside contact", status, body, http.StatusUnprocessableEntity, "blocked_contact")
	var blocked struct {
		Error web.Error
		Found []handoff.ContactFinding
	}
	webtest.Decode(t, body, &blocked)
	if len(blocked.Found) != 2 || blocked.Found[0].Kind != handoff.FindWeChat || blocked.Found[1].Kind != handoff.FindPhone ||
		!strings.Contains(blocked.Error.Message, "138******78") || strings.Contains(string(body), "13812345678") {
		t.Errorf("blocked answer = %s", body)
	}
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": text, "id": "x1", "override": true})
	webtest.WantError(t, "an override without a reason", status, body, http.StatusBadRequest, "bad_request")
	if n := len(ctLog(t, f.desk, c.ID)); n != before {
		t.Fatalf("refused replies grew the log from %d to %d", before, n)
	}

	ov := map[string]any{"text": text, "id": "x1", "override": true, "reason": "顾客要求提供售后联系方式"}
	status, body = f.api.Call(t, "POST", path, f.token["alice"], ov)
	webtest.WantStatus(t, "an override with a reason", status, body, http.StatusCreated)
	var sent struct{ Seq int64 }
	webtest.Decode(t, body, &sent)
	status, body = f.api.Call(t, "POST", path, f.token["alice"], ov)
	webtest.WantStatus(t, "the override retried", status, body, http.StatusCreated)

	notes := gtNotes(t, f, c.ID)
	if len(notes) != 1 {
		t.Fatalf("notes after an override and its retry = %+v, want one", notes)
	}
	n := notes[0]
	if n.Kind != handoff.NoteOverride || n.Author != "alice" || n.Reason != "顾客要求提供售后联系方式" || n.Message != sent.Seq ||
		len(n.Found) != 2 || strings.Contains(n.Text, "13812345678") || strings.Contains(n.Text, "kefu_2024") {
		t.Errorf("override note = %+v", n)
	}
	logged := f.log.String()
	if !strings.Contains(logged, "reply sent past the contact guard") || !strings.Contains(logged, "138******78") {
		t.Errorf("the override was not logged: %s", logged)
	}
	if strings.Contains(logged, "13812345678") || strings.Contains(logged, "kefu_2024") {
		t.Errorf("the log holds the contact details: %s", logged)
	}
	entries, err := f.audit.List(context.Background(), 10, "")
	if err != nil || len(entries) == 0 {
		t.Fatalf("the audit log after an override: %v, %v", entries, err)
	}
	for _, e := range entries {
		if e.Action != audit.ActionGuardOverride || e.Actor != "alice" || e.Target != c.ID || !strings.Contains(e.Detail, "138******78") ||
			!strings.Contains(e.Detail, "顾客要求提供售后联系方式") || strings.Contains(e.Detail, "13812345678") || strings.Contains(e.Detail, "kefu_2024") {
			t.Errorf("audit entry of the override = %+v", e)
		}
	}

	// Written so that it looks like an ordinary number, or not like one at all.
	for _, text := range []string{"有事打 138\u200b1234\u200b5678", "加 wei xin：kefu_2024", "电话 ①③⑧-①②③④-⑤⑥⑦⑧", "邮箱 me(at)other-shop.com"} {
		status, body := f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": text})
		webtest.WantError(t, "hidden contact "+text, status, body, http.StatusUnprocessableEntity, "blocked_contact")
	}
	if n := len(ctLog(t, f.desk, c.ID)); n != before+1 {
		t.Fatalf("refused hidden contacts grew the log to %d, want %d", n, before+1)
	}

	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": "商品详情请看 https://shop.example.com/item/1"})
	webtest.WantStatus(t, "a link to the shop", status, body, http.StatusCreated)
	status, body = f.api.Call(t, "POST", path, f.token["alice"], map[string]any{"text": "您的订单号 13812345678 已发货"})
	webtest.WantStatus(t, "an order number", status, body, http.StatusCreated)
}

func gtTestFirstReply(t *testing.T, f *gtConsole) {
	c := gtClaimed(t, f)
	awaiting := func() bool {
		t.Helper()
		status, body := f.api.Call(t, "GET", "/api/queue", f.token["alice"], nil)
		webtest.WantStatus(t, "alice's queue", status, body, http.StatusOK)
		var q struct{ Mine []entry }
		webtest.Decode(t, body, &q)
		e, ok := ctFind(q.Mine, c.ID)
		if !ok {
			t.Fatalf("the claimed chat is not in alice's list: %+v", q.Mine)
		}
		return e.AwaitingReply
	}
	if !awaiting() {
		t.Error("a claimed chat without a reply is not awaiting its first reply")
	}
	if _, err := f.desk.Reply(context.Background(), c.ID, "alice", "", "您好，请问有什么可以帮您？"); err != nil {
		t.Fatal(err)
	}
	if awaiting() {
		t.Error("a chat with a reply is still awaiting its first reply")
	}
	status, body := f.api.Call(t, "GET", "/api/presence", f.token["alice"], nil)
	webtest.WantStatus(t, "presence", status, body, http.StatusOK)
	var p struct{ Groups []handoff.Group }
	webtest.Decode(t, body, &p)
	if len(p.Groups) != 2 || p.Groups[0] != handoff.GroupPresale {
		t.Errorf("presence groups = %v, want the desk's groups", p.Groups)
	}
}
