package widget_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/widget"
)

const (
	shopOrigin = "https://shop.example"
	greeting   = "您好"
	// frameWait bounds every wait for a frame or a state; nothing in these tests sleeps.
	frameWait = 5 * time.Second
)

// The test knowledge base.
var (
	invoiceArticle = kb.Article{
		ID: "invoice", Title: "可以开发票吗", Category: kb.CategoryPresale,
		Questions: []string{"可以开发票吗", "能开发票吗", "怎么开发票", "发票抬头怎么填"},
		Answer:    "可以的。下单时在「发票」一栏填写抬头和税号，发货后电子发票会发送到您的邮箱。",
	}
	shippingArticle = kb.Article{
		ID: "shipping-time", Title: "多久发货", Category: kb.CategoryInsale,
		Questions: []string{"多久发货", "什么时候发货", "下单后几天发货", "发货要多久"},
		Answer:    "现货商品付款后 48 小时内发货，预售商品以商品页写明的时间为准。",
	}
	returnArticle = kb.Article{
		ID: "return-procedure", Title: "怎么退货", Category: kb.CategoryAftersale, AfterSales: true,
		Questions: []string{"怎么退货", "我要退货", "退货流程是什么", "如何申请退货退款"},
		Answer:    "签收后 7 天内可在「我的订单」中申请退货，审核通过后请按页面上的地址寄回，我们收到后 1-3 个工作日内退款。",
	}
	paymentArticle = kb.Article{
		ID: "payment", Title: "支持哪些付款方式", Category: kb.CategoryPresale,
		Questions: []string{"支持哪些付款方式", "可以用花呗吗", "能货到付款吗"},
		Answer:    "支持微信支付、支付宝和银行卡，暂不支持货到付款。",
	}
)

// Shopper messages and what the bot makes of them with the test knowledge base.
const (
	askInvoice  = "可以开发票吗？" // answered from invoiceArticle
	askShipping = "多久发货"    // answered from shippingArticle
	askReturn   = "我要退货"    // after-sales: explained from returnArticle and handed off
	stillThere  = "还在吗"     // out of scope
)

// testBot is built once: the index is read-only after Put and safe for concurrent use.
var testBot = sync.OnceValues(func() (*bot.Bot, error) {
	idx, err := kb.New(kb.Config{})
	if err != nil {
		return nil, err
	}
	if err := idx.Put(context.Background(), invoiceArticle, shippingArticle, returnArticle, paymentArticle); err != nil {
		return nil, err
	}
	return bot.New(bot.Config{Searcher: idx})
})

// engine is a storage engine under test: open says how to open the desk on it.
type engine struct {
	name string
	open func(t *testing.T) desktest.Options
}

var (
	boltEngine  = engine{name: "bolt", open: func(*testing.T) desktest.Options { return desktest.Options{Engine: desktest.Bolt} }}
	redisEngine = engine{name: "redis", open: func(*testing.T) desktest.Options { return desktest.Options{Engine: desktest.Redis} }}
	engines     = []engine{boltEngine, redisEngine}
)

// forEngine runs f as a subtest for each engine.
func forEngine(t *testing.T, f func(t *testing.T, eng engine)) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { f(t, eng) })
	}
}

// setup configures a test environment; the zero value is the embedded engine with the
// gateway's defaults.
type setup struct {
	engine  engine
	gateway func(*widget.Config)
	desk    func(*handoff.DeskConfig)
	// wrap, when set, wraps the conversations the desk uses.
	wrap func(handoff.Conversations) handoff.Conversations
	// sndBuf, when > 0, is the socket write buffer of the server's connections.
	sndBuf int
}

// env is a gateway served by a real HTTP server.
type env struct {
	srv     *httptest.Server
	rig     *desktest.Rig
	desk    *handoff.Desk
	staff   *account.Service
	tickets *handoff.Tickets
	running atomic.Int64 // websocket handlers that have not returned
}

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	if s.engine.open == nil {
		s.engine = boltEngine
	}
	b, err := testBot()
	if err != nil {
		t.Fatalf("building the bot: %v", err)
	}
	o := s.engine.open(t)
	o.Wrap = s.wrap
	o.Desk = func(c *handoff.DeskConfig) {
		c.Bot = widget.DeskBot(b)
		if s.desk != nil {
			s.desk(c)
		}
	}
	rig := desktest.Open(t, o)
	desk := rig.Desk
	wc := widget.Config{Desk: desk, Bot: b, AllowedOrigins: []string{shopOrigin}, Greeting: greeting}
	if s.gateway != nil {
		s.gateway(&wc)
	}
	gw, err := widget.New(wc)
	if err != nil {
		t.Fatalf("widget.New: %v", err)
	}
	e := &env{rig: rig, desk: desk, tickets: desk.Tickets()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/shopper", func(w http.ResponseWriter, r *http.Request) {
		e.running.Add(1)
		defer e.running.Add(-1)
		gw.ServeHTTP(w, r)
	})
	mux.HandleFunc("POST /api/bot/ask", gw.Ask)
	mux.HandleFunc("OPTIONS /api/bot/ask", gw.AskPreflight)
	e.srv = httptest.NewUnstartedServer(mux)
	if s.sndBuf > 0 {
		e.srv.Listener = sndBufListener{e.srv.Listener, s.sndBuf}
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	// Runs before srv.Close and after the clients, which are registered later, closed:
	// every session must end once its client is gone.
	t.Cleanup(func() { e.waitIdle(t) })
	return e
}

// sndBufListener shrinks the write buffer of accepted connections, so that a client that
// does not read blocks the server's writes after a few KiB.
type sndBufListener struct {
	net.Listener
	size int
}

func (l sndBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(l.size)
	}
	return c, err
}

// waitIdle waits until every websocket handler has returned.
func (e *env) waitIdle(t *testing.T) {
	t.Helper()
	timetest.Poll(t, frameWait, "the websocket handlers to return", func() bool { return e.running.Load() == 0 })
}

func (e *env) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/shopper"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dialRaw dials the gateway; the connection is closed when the test ends.
func (e *env) dialRaw(t *testing.T, query string, h http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := &websocket.Dialer{HandshakeTimeout: frameWait}
	c, resp, err := d.Dial(e.wsURL(query), h)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

// shopper is one widget connection.
type shopper struct {
	c       *websocket.Conn
	conv    string
	token   string
	welcome frame
}

// connect dials with query and reads the welcome frame.
func (e *env) connect(t *testing.T, query string) *shopper {
	t.Helper()
	c, resp, err := e.dialRaw(t, query, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dialing %q: %v (HTTP %d)", query, err, status)
	}
	w := readFrame(t, c)
	if w.str("type") != "welcome" {
		t.Fatalf("first frame = %v, want a welcome", w)
	}
	return &shopper{c: c, conv: w.str("conversation"), token: w.str("token"), welcome: w}
}

// resumeQuery is the query string that resumes sh's conversation after seq.
func (sh *shopper) resumeQuery(after int64) string {
	return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {fmt.Sprint(after)}}.Encode()
}

// frame is a decoded server frame.
type frame map[string]any

func (f frame) str(k string) string {
	s, _ := f[k].(string)
	return s
}

// num returns a numeric field, or -1 when it is missing.
func (f frame) num(k string) int64 {
	n, ok := f[k].(float64)
	if !ok {
		return -1
	}
	return int64(n)
}

func (f frame) keys() []string {
	var ks []string
	for k := range f {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// isLog reports whether f is a record of the conversation's log.
func (f frame) isLog() bool {
	switch f.str("type") {
	case "message", "handoff", "status", "ticket":
		return true
	}
	return false
}

func (f frame) String() string {
	g := make(map[string]any, len(f))
	for k, v := range f {
		if s, ok := v.(string); ok && len([]rune(s)) > 40 {
			v = string([]rune(s)[:40]) + "…"
		}
		g[k] = v
	}
	b, _ := json.Marshal(g)
	return string(b)
}

func isType(typ string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == typ }
}

func isSeq(seq int64) func(frame) bool {
	return func(f frame) bool { return f.isLog() && f.num("seq") == seq }
}

func isError(code string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "error" && f.str("code") == code }
}

func isAck(id string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "ack" && f.str("id") == id }
}

func isMessageFrom(from string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "message" && f.str("from") == from }
}

// all matches once each of preds has matched some frame.
func all(preds ...func(frame) bool) func(frame) bool {
	seen := make([]bool, len(preds))
	return func(f frame) bool {
		done := true
		for i, p := range preds {
			seen[i] = seen[i] || p(f)
			done = done && seen[i]
		}
		return done
	}
}

// readFrame reads one frame, failing the test after frameWait.
func readFrame(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	f, err := tryRead(c)
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return f
}

func tryRead(c *websocket.Conn) (frame, error) {
	c.SetReadDeadline(time.Now().Add(frameWait))
	kind, data, err := c.ReadMessage()
	if err != nil {
		return nil, err
	}
	if kind != websocket.TextMessage {
		return nil, fmt.Errorf("got a websocket message of kind %d, want text", kind)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("frame %q is not a JSON object: %w", data, err)
	}
	return f, nil
}

// readUntil reads frames until match holds and returns every frame read, the matching
// one last.
func readUntil(t *testing.T, c *websocket.Conn, what string, match func(frame) bool) []frame {
	t.Helper()
	var got []frame
	for {
		f, err := tryRead(c)
		if err != nil {
			t.Fatalf("waiting for %s: %v; frames read: %v", what, err, got)
		}
		got = append(got, f)
		if f.str("type") == "queue" && f.num("position") < 1 {
			t.Errorf("got %v: a queue position is 1 or more", f)
		}
		if match(f) {
			return got
		}
	}
}

// readToClose reads frames until the connection fails and returns them with the error.
// A read timeout fails the test: the server was expected to close.
func readToClose(t *testing.T, c *websocket.Conn) ([]frame, error) {
	t.Helper()
	var got []frame
	for {
		f, err := tryRead(c)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server did not close the connection within %v; frames read: %v", frameWait, got)
			}
			return got, err
		}
		got = append(got, f)
	}
}

func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(frameWait))
	if err := c.WriteJSON(v); err != nil {
		t.Fatalf("sending %v: %v", v, err)
	}
}

func sendRaw(t *testing.T, c *websocket.Conn, kind int, data string) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(frameWait))
	if err := c.WriteMessage(kind, []byte(data)); err != nil {
		t.Fatalf("sending %q: %v", data, err)
	}
}

type msg struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Text    string `json:"text,omitempty"`
	Article string `json:"article,omitempty"`
}

func (sh *shopper) say(t *testing.T, id, text string) {
	t.Helper()
	send(t, sh.c, msg{Type: "message", ID: id, Text: text})
}

// barrier sends a malformed frame and reads up to its bad_json error. The gateway handles
// a connection's frames one after the other, bot included, so when the error arrives
// everything sent before has been fully handled.
func (sh *shopper) barrier(t *testing.T) []frame {
	t.Helper()
	sendRaw(t, sh.c, websocket.TextMessage, "{")
	return readUntil(t, sh.c, "the barrier's bad_json error", isError("bad_json"))
}

// logOf returns the conversation's whole log.
func (e *env) logOf(t *testing.T, conv string) []handoff.Message {
	t.Helper()
	msgs, err := e.desk.Messages(context.Background(), conv, 0, 0)
	if err != nil {
		t.Fatalf("reading the log of %s: %v", conv, err)
	}
	return msgs
}

func logSeqs(fs []frame) []int64 {
	var out []int64
	for _, f := range fs {
		if f.isLog() {
			out = append(out, f.num("seq"))
		}
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func find(fs []frame, match func(frame) bool) (frame, int) {
	for i, f := range fs {
		if match(f) {
			return f, i
		}
	}
	return nil, -1
}

// checkFields fails unless f has exactly the wanted fields with these values; a nil
// want value only requires the field to be present.
func checkFields(t *testing.T, f frame, want map[string]any) {
	t.Helper()
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	if got := f.keys(); !slices.Equal(got, wantKeys) {
		t.Errorf("frame %v has fields %v, want %v", f, got, wantKeys)
	}
	for k, w := range want {
		if w == nil {
			continue
		}
		if n, ok := w.(int); ok {
			w = float64(n)
		}
		if !reflect.DeepEqual(f[k], w) {
			t.Errorf("frame %v: %s = %#v, want %#v", f, k, f[k], w)
		}
	}
}

func articleField(a kb.Article) map[string]any {
	return map[string]any{"id": a.ID, "title": a.Title, "category": a.Category}
}

// transcript has the shopper ask about invoices and then return an item, and returns
// the six log frames: shopper, bot (invoice), shopper, bot (return procedure), handoff,
// transfer message. The conversation ends up queued.
func (sh *shopper) transcript(t *testing.T) []frame {
	t.Helper()
	sh.say(t, "t1", askInvoice)
	fs := readUntil(t, sh.c, "the invoice answer", isSeq(2))
	sh.say(t, "t2", askReturn)
	fs = append(fs, readUntil(t, sh.c, "the transfer message and the queue frame", all(isSeq(6), isType("queue")))...)
	var logs []frame
	for _, f := range fs {
		if f.isLog() {
			logs = append(logs, f)
		}
	}
	if got := logSeqs(logs); !slices.Equal(got, seqRange(1, 6)) {
		t.Fatalf("transcript seqs = %v, want 1..6", got)
	}
	return logs
}

func TestWelcome(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		checkFields(t, sh.welcome, map[string]any{
			"type": "welcome", "conversation": nil, "token": nil, "seq": 0, "epoch": nil,
			"status": "bot", "greeting": greeting,
		})
		if !strings.HasPrefix(sh.conv, "c_") || !strings.HasPrefix(sh.token, "t_") || sh.welcome.str("epoch") == "" {
			t.Errorf("welcome = %v, want a c_ conversation, a t_ token and an epoch", sh.welcome)
		}
		conv, err := e.desk.Open(context.Background(), sh.conv, sh.token)
		if err != nil {
			t.Fatalf("the welcome's token does not open the conversation: %v", err)
		}
		if conv.Epoch != sh.welcome.str("epoch") || conv.Status != handoff.StatusBot {
			t.Errorf("stored conversation = %+v, want epoch %q and status bot", conv, sh.welcome.str("epoch"))
		}

		// A second connection is a second conversation.
		other := e.connect(t, "")
		if other.conv == sh.conv || other.token == sh.token {
			t.Errorf("two new connections share conversation %q or token", sh.conv)
		}
	})
}

func TestBotAnswers(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.say(t, "m1", askInvoice)
		fs := readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))

		ack, ackAt := find(fs, isType("ack"))
		if ack == nil {
			t.Fatalf("no ack before the bot's answer: %v", fs)
		}
		checkFields(t, ack, map[string]any{"type": "ack", "id": "m1", "seq": 1})
		if got := logSeqs(fs); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("log frames %v, want seqs 1, 2", got)
		}
		shopperMsg, echoAt := find(fs, isSeq(1))
		if ackAt > echoAt {
			t.Errorf("the shopper's message came back before its ack: %v", fs)
		}
		checkFields(t, shopperMsg, map[string]any{
			"type": "message", "seq": 1, "from": "shopper", "id": "m1", "text": askInvoice, "ts": nil,
		})
		botMsg, botAt := find(fs, isSeq(2))
		checkFields(t, botMsg, map[string]any{
			"type": "message", "seq": 2, "from": "bot", "text": invoiceArticle.Answer,
			"article": articleField(invoiceArticle), "ts": nil,
		})
		if botAt < echoAt {
			t.Errorf("the bot's answer came before the shopper's message: %v", fs)
		}
		if shopperMsg.num("ts") <= 0 || botMsg.num("ts") < shopperMsg.num("ts") {
			t.Errorf("timestamps %d, %d: want positive and ordered", shopperMsg.num("ts"), botMsg.num("ts"))
		}
		if c, err := e.desk.Conversation(context.Background(), sh.conv); err != nil || c.Status != handoff.StatusBot || c.Seq != 2 {
			t.Errorf("conversation = %+v, %v; want status bot, seq 2", c, err)
		}
	})
}

// TestPickedSuggestion: a message naming an article (a picked suggestion) is answered
// from that article whatever its text.
func TestPickedSuggestion(t *testing.T) {
	e := newEnv(t, setup{})
	sh := e.connect(t, "")
	send(t, sh.c, msg{Type: "message", ID: "pick", Text: "第二个", Article: shippingArticle.ID})
	fs := readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))
	botMsg, _ := find(fs, isMessageFrom("bot"))
	checkFields(t, botMsg, map[string]any{
		"type": "message", "seq": 2, "from": "bot", "text": shippingArticle.Answer,
		"article": articleField(shippingArticle), "ts": nil,
	})
}

func TestAfterSalesHandoff(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.say(t, "r1", askReturn)
		fs := readUntil(t, sh.c, "the transfer message and the queue frame", all(isSeq(4), isType("queue")))

		if got := logSeqs(fs); !slices.Equal(got, []int64{1, 2, 3, 4}) {
			t.Fatalf("log frames %v, want seqs 1..4; frames: %v", got, fs)
		}
		ack, _ := find(fs, isType("ack"))
		checkFields(t, ack, map[string]any{"type": "ack", "id": "r1", "seq": 1})
		explain, _ := find(fs, isSeq(2))
		checkFields(t, explain, map[string]any{
			"type": "message", "seq": 2, "from": "bot", "text": returnArticle.Answer,
			"article": articleField(returnArticle), "ts": nil,
		})
		h, hAt := find(fs, isSeq(3))
		checkFields(t, h, map[string]any{
			"type": "handoff", "seq": 3, "reason": "after_sales", "group": "aftersale", "ts": nil,
		})
		sys, _ := find(fs, isSeq(4))
		checkFields(t, sys, map[string]any{
			"type": "message", "seq": 4, "from": "system", "text": handoff.DefaultPhrases.TransferAftersale, "ts": nil,
		})
		q, qAt := find(fs, isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		if qAt < hAt {
			t.Errorf("the queue frame came before the handoff frame: %v", fs)
		}

		c, err := e.desk.Conversation(context.Background(), sh.conv)
		if err != nil || c.Status != handoff.StatusQueued || c.Group != handoff.GroupAftersale || c.Reason != "after_sales" {
			t.Errorf("conversation = %+v, %v; want queued in aftersale for after_sales", c, err)
		}
		if c.Context == nil || c.Context.Question != askReturn {
			t.Errorf("hand-off context = %+v, want the shopper's question", c.Context)
		}
	})
}

func TestClientHandoff(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		send(t, sh.c, msg{Type: "handoff", ID: "h1"})
		fs := readUntil(t, sh.c, "the transfer message and the queue frame", all(isSeq(2), isType("queue")))
		if got := logSeqs(fs); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("log frames %v, want seqs 1, 2; frames: %v", got, fs)
		}
		h, _ := find(fs, isSeq(1))
		checkFields(t, h, map[string]any{"type": "handoff", "seq": 1, "reason": "requested", "group": "presale", "ts": nil})
		sys, _ := find(fs, isSeq(2))
		checkFields(t, sys, map[string]any{
			"type": "message", "seq": 2, "from": "system", "text": handoff.DefaultPhrases.TransferPresale, "ts": nil,
		})
		q, _ := find(fs, isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})

		// Asking again while queued changes nothing.
		send(t, sh.c, msg{Type: "handoff", ID: "h2"})
		if fs := sh.barrier(t); len(logSeqs(fs)) != 0 {
			t.Errorf("a second 转人工 while queued sent log frames: %v", fs)
		}
		if n := len(e.logOf(t, sh.conv)); n != 2 {
			t.Errorf("log has %d records after a second 转人工, want 2", n)
		}
	})
}

func TestResume(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		for _, after := range []int64{0, 2, 5, 6} {
			t.Run(fmt.Sprintf("after=%d", after), func(t *testing.T) {
				e := newEnv(t, setup{engine: eng}) // its own queue: the shopper is first in it
				first := e.connect(t, "")
				orig := first.transcript(t)
				first.c.Close()

				sh := e.connect(t, first.resumeQuery(after))
				checkFields(t, sh.welcome, map[string]any{
					"type": "welcome", "conversation": first.conv, "token": first.token, "seq": 6,
					"epoch": first.welcome.str("epoch"), "status": "queued",
				})
				// A message while queued is stored and not answered: the barrier record.
				sh.say(t, "still", stillThere)
				fs := readUntil(t, sh.c, "the barrier message and the queue frame", all(isSeq(7), isType("queue")))
				if got := logSeqs(fs); !slices.Equal(got, seqRange(after+1, 7)) {
					t.Fatalf("resumed log frames = %v, want %v; frames: %v", got, seqRange(after+1, 7), fs)
				}
				for _, f := range fs {
					if f.isLog() && f.num("seq") <= 6 && !reflect.DeepEqual(f, orig[f.num("seq")-1]) {
						t.Errorf("resumed frame %v differs from the first delivery %v", f, orig[f.num("seq")-1])
					}
				}
				qs := 0
				for _, f := range fs {
					if f.str("type") == "queue" {
						qs++
						checkFields(t, f, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
					}
				}
				if qs != 1 {
					t.Errorf("got %d queue frames on resume, want 1: %v", qs, fs)
				}
			})
		}
	})
}

func TestBadToken(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		owner := e.connect(t, "")
		owner.transcript(t)

		other := e.connect(t, "") // a real token of another conversation
		for _, tc := range []struct {
			name  string
			query url.Values
		}{
			{"wrong token", url.Values{"conversation": {owner.conv}, "token": {"t_wrong"}, "after": {"0"}}},
			{"token of another conversation", url.Values{"conversation": {owner.conv}, "token": {other.token}}},
			{"missing token", url.Values{"conversation": {owner.conv}, "after": {"0"}}},
			{"empty token", url.Values{"conversation": {owner.conv}, "token": {""}}},
			{"unknown conversation", url.Values{"conversation": {"c_doesnotexist"}, "token": {owner.token}}},
			{"token without conversation", url.Values{"token": {owner.token}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, _, err := e.dialRaw(t, tc.query.Encode(), nil)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				fs, err := readToClose(t, c)
				if len(fs) != 1 {
					t.Fatalf("got frames %v, want exactly one bad_token error", fs)
				}
				checkFields(t, fs[0], map[string]any{"type": "error", "code": "bad_token", "message": nil})
				if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
					t.Errorf("connection ended with %v, want a close frame 1008", err)
				}
			})
		}
		if n := len(e.logOf(t, owner.conv)); n != 6 {
			t.Errorf("log has %d records after the rejected connections, want 6", n)
		}
	})
}

func TestReset(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		for _, tc := range []struct {
			name      string
			query     func(sh *shopper) url.Values
			wantReset bool
			from      int64 // first log frame resent
		}{
			{"epoch mismatch", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"4"}, "epoch": {"e-of-another-life"}}
			}, true, 1},
			{"after beyond the log", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"99"}, "epoch": {sh.welcome.str("epoch")}}
			}, true, 1},
			{"negative after", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"-1"}}
			}, true, 1},
			{"matching epoch", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"4"}, "epoch": {sh.welcome.str("epoch")}}
			}, false, 5},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, setup{engine: eng})
				first := e.connect(t, "")
				first.transcript(t)
				first.c.Close()

				sh := e.connect(t, tc.query(first).Encode())
				want := map[string]any{
					"type": "welcome", "conversation": first.conv, "token": first.token, "seq": 6,
					"epoch": first.welcome.str("epoch"), "status": "queued",
				}
				if tc.wantReset {
					want["reset"] = true
				}
				checkFields(t, sh.welcome, want)
				sh.say(t, "still", stillThere)
				fs := readUntil(t, sh.c, "the barrier message", isSeq(7))
				if got := logSeqs(fs); !slices.Equal(got, seqRange(tc.from, 7)) {
					t.Errorf("log frames after the welcome = %v, want %v", got, seqRange(tc.from, 7))
				}
			})
		}
	})
}

func TestDuplicateMessageID(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.say(t, "dup1", askInvoice)
		readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))

		for _, text := range []string{askInvoice, askShipping} { // the same resend, and the same id with another text
			sh.say(t, "dup1", text)
			fs := sh.barrier(t)
			if len(fs) != 2 {
				t.Fatalf("after resending id dup1 got frames %v, want only an ack and the barrier error", fs)
			}
			checkFields(t, fs[0], map[string]any{"type": "ack", "id": "dup1", "seq": 1})
		}
		log := e.logOf(t, sh.conv)
		if len(log) != 2 || log[0].ID != "dup1" || log[0].Text != askInvoice || log[1].From != handoff.FromBot {
			t.Errorf("log = %+v, want the message once and one bot answer", log)
		}
	})
}

func TestClientErrors(t *testing.T) {
	e := newEnv(t, setup{gateway: func(c *widget.Config) { c.RateBurst = 1000 }})
	for _, tc := range []struct {
		name   string
		kind   int
		data   string
		code   string
		id     string // the id the error names
		stored bool   // the frame is valid: acked instead
	}{
		{name: "truncated JSON", data: `{"type":"message"`, code: "bad_json"},
		{name: "not JSON", data: `hello`, code: "bad_json"},
		{name: "null", data: `null`, code: "bad_json"},
		{name: "array", data: `[{"type":"message","id":"a1","text":"hi"}]`, code: "bad_json"},
		{name: "string", data: `"message"`, code: "bad_json"},
		{name: "binary frame", kind: websocket.BinaryMessage, data: `{"type":"message","id":"b1","text":"hi"}`, code: "bad_json"},
		{name: "unknown type", data: `{"type":"typing","id":"u1"}`, code: "unknown_type", id: "u1"},
		{name: "missing type", data: `{"id":"u2","text":"hi"}`, code: "unknown_type", id: "u2"},
		{name: "type in capitals", data: `{"type":"MESSAGE","id":"u3","text":"hi"}`, code: "unknown_type", id: "u3"},
		{name: "empty text", data: `{"type":"message","id":"e1","text":""}`, code: "bad_message", id: "e1"},
		{name: "blank text", data: `{"type":"message","id":"e2","text":" \n\t　 "}`, code: "bad_message", id: "e2"},
		{name: "missing text", data: `{"type":"message","id":"e3"}`, code: "bad_message", id: "e3"},
		{name: "1001 characters", data: mustJSON(msg{Type: "message", ID: "e4", Text: strings.Repeat("好", 1001)}), code: "bad_message", id: "e4"},
		{name: "missing id", data: `{"type":"message","text":"hi"}`, code: "bad_message"},
		{name: "id with a space", data: `{"type":"message","id":"m 1","text":"hi"}`, code: "bad_message", id: "m 1"},
		{name: "id with a colon", data: `{"type":"message","id":"bot:m1","text":"hi"}`, code: "bad_message", id: "bot:m1"},
		{name: "id of 65 characters", data: mustJSON(msg{Type: "message", ID: strings.Repeat("a", 65), Text: "hi"}), code: "bad_message", id: strings.Repeat("a", 65)},
		{name: "article id of 97 characters", data: mustJSON(msg{Type: "message", ID: "e5", Text: "hi", Article: strings.Repeat("a", 97)}), code: "bad_message", id: "e5"},
		{name: "1000 characters", data: mustJSON(msg{Type: "message", ID: "ok1", Text: strings.Repeat("好", 1000)}), id: "ok1", stored: true},
		{name: "id of 64 characters", data: mustJSON(msg{Type: "message", ID: strings.Repeat("a", 64), Text: "hi"}), id: strings.Repeat("a", 64), stored: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := e.connect(t, "")
			kind := tc.kind
			if kind == 0 {
				kind = websocket.TextMessage
			}
			sendRaw(t, sh.c, kind, tc.data)
			f := readFrame(t, sh.c)
			if tc.stored {
				checkFields(t, f, map[string]any{"type": "ack", "id": tc.id, "seq": 1})
				return
			}
			want := map[string]any{"type": "error", "code": tc.code, "message": nil}
			if tc.id != "" {
				want["id"] = tc.id
			}
			checkFields(t, f, want)
			if f.str("message") == "" {
				t.Errorf("error frame %v has an empty message", f)
			}

			// The connection stays usable, and nothing was stored.
			sh.say(t, "next", askInvoice)
			fs := readUntil(t, sh.c, "the ack of the next message", isAck("next"))
			checkFields(t, fs[len(fs)-1], map[string]any{"type": "ack", "id": "next", "seq": 1})
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestOversizedFrame(t *testing.T) {
	e := newEnv(t, setup{})
	// frameOf returns a valid message frame of exactly n bytes, padded with white space.
	frameOf := func(id string, n int) string {
		s := mustJSON(msg{Type: "message", ID: id, Text: askInvoice})
		return s[:len(s)-1] + strings.Repeat(" ", n-len(s)) + "}"
	}

	t.Run("8 KiB is accepted", func(t *testing.T) {
		sh := e.connect(t, "")
		sendRaw(t, sh.c, websocket.TextMessage, frameOf("edge", widget.MaxFrameBytes))
		checkFields(t, readFrame(t, sh.c), map[string]any{"type": "ack", "id": "edge", "seq": 1})
	})

	t.Run("one byte more closes with 1009", func(t *testing.T) {
		sh := e.connect(t, "")
		sendRaw(t, sh.c, websocket.TextMessage, frameOf("big", widget.MaxFrameBytes+1))
		fs, err := readToClose(t, sh.c)
		for _, f := range fs {
			if f.str("type") != "error" || f.str("code") != "too_large" {
				t.Errorf("got frame %v before the close, want at most a too_large error", f)
			}
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("connection ended with %v, want close code 1009", err)
		}
		if log := e.logOf(t, sh.conv); len(log) != 0 {
			t.Errorf("log = %+v, want nothing stored", log)
		}
		e.waitIdle(t)
	})
}

func TestOrigin(t *testing.T) {
	e := newEnv(t, setup{})
	for _, tc := range []struct {
		name   string
		origin string
		ok     bool
	}{
		{"allowed shop", shopOrigin, true},
		{"same origin", e.srv.URL, true},
		{"no Origin header", "", true},
		{"other site", "https://evil.example", false},
		{"suffix of an allowed host", "https://shop.example.evil.example", false},
		{"allowed host over http", "http://shop.example", false},
		{"allowed host on another port", "https://shop.example:8443", false},
		{"opaque origin", "null", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := e.dialRaw(t, "", h)
			if !tc.ok {
				if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
					status := 0
					if resp != nil {
						status = resp.StatusCode
					}
					t.Fatalf("dial from %q: err %v, HTTP %d; want HTTP 403", tc.origin, err, status)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial from %q: %v", tc.origin, err)
			}
			if f := readFrame(t, c); f.str("type") != "welcome" {
				t.Errorf("first frame %v, want a welcome", f)
			}
		})
	}
}

// handOff asks for a person and waits until the shopper has seen the transfer message
// and the queue frame, which may come in either order.
func (sh *shopper) handOff(t *testing.T, id string) []frame {
	t.Helper()
	send(t, sh.c, msg{Type: "handoff", ID: id})
	transfer := func(f frame) bool {
		return isMessageFrom("system")(f) && f.str("text") == handoff.DefaultPhrases.TransferPresale
	}
	return readUntil(t, sh.c, "the transfer message and the queue frame", all(transfer, isType("queue")))
}

func TestAgentReply(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.handOff(t, "h1") // seqs 1, 2

		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		fs := readUntil(t, sh.c, "the agent's greeting", isSeq(4))
		if got := logSeqs(fs); !slices.Equal(got, []int64{3, 4}) {
			t.Fatalf("log frames after the claim = %v, want 3, 4", got)
		}
		st, _ := find(fs, isSeq(3))
		checkFields(t, st, map[string]any{"type": "status", "seq": 3, "status": "active", "agent": "alice", "ts": nil})
		joined, _ := find(fs, isSeq(4))
		checkFields(t, joined, map[string]any{
			"type": "message", "seq": 4, "from": "system", "ts": nil,
			"text": strings.ReplaceAll(handoff.DefaultPhrases.AgentJoined, "{agent}", "alice"),
		})
		// A position read as the claim went through may arrive before the status
		// frame, never after it.
		_, stAt := find(fs, isSeq(3))
		if f, _ := find(fs[stAt:], isType("queue")); f != nil {
			t.Errorf("got a queue frame %v after the active status: %v", f, fs)
		}

		const reply = "您好，我是客服 alice，请问订单号是多少？"
		if _, err := e.desk.Reply(ctx, sh.conv, "alice", "r1", reply); err != nil {
			t.Fatalf("Reply: %v", err)
		}
		fs = readUntil(t, sh.c, "the agent's reply", isSeq(5))
		checkFields(t, fs[len(fs)-1], map[string]any{
			"type": "message", "seq": 5, "from": "agent", "agent": "alice", "text": reply, "ts": nil,
		})

		// While a person has the chat, the bot keeps quiet, even on a question it knows.
		sh.say(t, "m-active", askInvoice)
		fs = readUntil(t, sh.c, "the shopper's message", isSeq(6))
		fs = append(fs, sh.barrier(t)...)
		if f, _ := find(fs, isMessageFrom("bot")); f != nil {
			t.Errorf("the bot answered while an agent had the chat: %v", f)
		}
		log := e.logOf(t, sh.conv)
		if len(log) != 6 || log[5].From != handoff.FromShopper || log[5].ID != "m-active" {
			t.Errorf("log = %+v, want 6 records ending with the shopper's message", log)
		}
	})
}

// TestReopenAfterResolve: a shopper who writes after the reopen window (here: none)
// gets the bot again.
func TestReopenAfterResolve(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng, desk: func(c *handoff.DeskConfig) { c.ReopenWindow = -1 }})
		sh := e.connect(t, "")
		sh.handOff(t, "h1") // seqs 1, 2
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		readUntil(t, sh.c, "the agent's greeting", isSeq(4))

		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		fs := readUntil(t, sh.c, "the resolved status", isSeq(6))
		closing, _ := find(fs, isSeq(5))
		checkFields(t, closing, map[string]any{
			"type": "message", "seq": 5, "from": "system", "text": handoff.DefaultPhrases.Resolved, "ts": nil,
		})
		if st, _ := find(fs, isSeq(6)); st.str("type") != "status" || st.str("status") != "resolved" {
			t.Errorf("seq 6 = %v, want status resolved", st)
		}

		sh.say(t, "again", askInvoice)
		fs = readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))
		if got := logSeqs(fs); !slices.Equal(got, []int64{7, 8, 9}) {
			t.Fatalf("log frames = %v, want 7, 8, 9; frames: %v", got, fs)
		}
		reopened, _ := find(fs, isSeq(7))
		checkFields(t, reopened, map[string]any{"type": "status", "seq": 7, "status": "bot", "ts": nil})
		ack, _ := find(fs, isType("ack"))
		checkFields(t, ack, map[string]any{"type": "ack", "id": "again", "seq": 8})
		if m, _ := find(fs, isSeq(8)); m.str("from") != "shopper" || m.str("id") != "again" {
			t.Errorf("seq 8 = %v, want the shopper's message", m)
		}
		botMsg, _ := find(fs, isSeq(9))
		checkFields(t, botMsg, map[string]any{
			"type": "message", "seq": 9, "from": "bot", "text": invoiceArticle.Answer,
			"article": articleField(invoiceArticle), "ts": nil,
		})
		if c, err := e.desk.Conversation(ctx, sh.conv); err != nil || c.Status != handoff.StatusBot {
			t.Errorf("conversation = %+v, %v; want status bot", c, err)
		}
	})
}

// TestReopenWithinWindow: a shopper who writes again soon after the agent resolved the
// chat gets that agent back, and the bot stays quiet.
func TestReopenWithinWindow(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		e.rig.Staff.Add(account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
		if _, err := e.desk.Heartbeat(ctx, "alice", handoff.PresenceOnline); err != nil {
			t.Fatal(err)
		}
		sh := e.connect(t, "")
		send(t, sh.c, msg{Type: "handoff", ID: "h1"}) // seqs 1, 2; alice is online: assigned, 3, 4
		readUntil(t, sh.c, "alice's greeting", isSeq(4))
		// The assignment may still be finishing (ErrBusy): alice's console tries again.
		timetest.Poll(t, frameWait, "alice's resolve", func() bool {
			_, err := e.desk.Resolve(ctx, sh.conv, "alice")
			if err != nil && !errors.Is(err, handoff.ErrBusy) {
				t.Fatalf("Resolve: %v", err)
			}
			return err == nil
		})
		readUntil(t, sh.c, "the resolved status", isSeq(6))

		sh.say(t, "again", askInvoice)
		fs := readUntil(t, sh.c, "the shopper's message", isSeq(9))
		fs = append(fs, sh.barrier(t)...)
		st, _ := find(fs, isSeq(7))
		checkFields(t, st, map[string]any{"type": "status", "seq": 7, "status": "active", "agent": "alice", "reason": "reopened", "group": "presale", "ts": nil})
		note, _ := find(fs, isSeq(8))
		if want := strings.ReplaceAll(handoff.DefaultPhrases.ReopenedAgent, "{agent}", "alice"); note.str("text") != want {
			t.Errorf("seq 8 = %v, want %q", note, want)
		}
		if f, _ := find(fs, isMessageFrom("bot")); f != nil {
			t.Errorf("the bot answered a chat back with alice: %v", f)
		}
		if c, err := e.desk.Conversation(ctx, sh.conv); err != nil || c.Status != handoff.StatusActive || c.Agent != "alice" {
			t.Errorf("conversation = %+v, %v; want active with alice", c, err)
		}
	})
}

// TestSlowConsumer: a client that never reads is disconnected by the server on its own
// (its send queue overflows, or a write times out), Append never waits for it, and the
// gateway goes on serving.
func TestSlowConsumer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, setup{
		gateway: func(c *widget.Config) { c.SendQueue = 2; c.WriteWait = 200 * time.Millisecond },
		sndBuf:  4096,
	})
	// A client that reads its welcome and then nothing.
	sh := e.connect(t, "")

	// Far more than the socket buffers (the server's is 8 KiB, the client's receive
	// window a few hundred KiB at most) and the queue hold: the server's writes block.
	const n = 200
	big := strings.Repeat("慢", 5000)
	for i := range n {
		m := handoff.Message{ID: fmt.Sprintf("flood-%d", i), Kind: handoff.KindMessage, From: handoff.FromSystem, Text: big}
		if _, _, err := e.desk.Append(ctx, sh.conv, m); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	// The server gives up on the client by itself, while the client still holds the
	// connection open.
	e.waitIdle(t)

	fs, _ := readToClose(t, sh.c)
	if got := len(logSeqs(fs)); got >= n {
		t.Errorf("the slow client received all %d records; want it disconnected", got)
	}
	for i, s := range logSeqs(fs) {
		if s != int64(i+1) {
			t.Fatalf("frames before the disconnect have seqs %v, want 1, 2, …", logSeqs(fs))
		}
	}

	// The gateway still serves: the client resumes.
	again := e.connect(t, sh.resumeQuery(n))
	if got := again.welcome.num("seq"); got != n {
		t.Errorf("welcome on resume has seq %d, want %d", got, n)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, setup{gateway: func(c *widget.Config) { c.RateBurst = 2; c.RateEvery = time.Hour }})
	sh := e.connect(t, "")
	sh.say(t, "m1", askInvoice)
	sh.say(t, "m2", askShipping)
	sh.say(t, "m3", askInvoice)
	fs := readUntil(t, sh.c, "the rate_limited error", isType("error"))
	checkFields(t, fs[len(fs)-1], map[string]any{"type": "error", "code": "rate_limited", "message": nil, "id": "m3"})
	for _, id := range []string{"m1", "m2"} {
		if f, _ := find(fs, isAck(id)); f == nil {
			t.Errorf("no ack for %s before the rate_limited error: %v", id, fs)
		}
	}
	send(t, sh.c, msg{Type: "handoff", ID: "h1"})
	fs = readUntil(t, sh.c, "the rate_limited error of the handoff", isType("error"))
	checkFields(t, fs[len(fs)-1], map[string]any{"type": "error", "code": "rate_limited", "message": nil, "id": "h1"})

	log := e.logOf(t, sh.conv)
	var ids []string
	for _, m := range log {
		if m.From == handoff.FromShopper {
			ids = append(ids, m.ID)
		}
	}
	if len(log) != 4 || !slices.Equal(ids, []string{"m1", "m2"}) {
		t.Errorf("log = %+v, want m1, m2 and their answers only", log)
	}
}

func TestQueuePosition(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		// Each shopper hands off while no other shopper is connected: a connected
		// shopper's session reads the queue on its own wake-ups, and such a read racing
		// with a hand-off can drop the new entry from the Redis queue index (a bug of
		// handoff.RedisStore.Waiting, reported separately).
		// queued hands off a new shopper, returns its queue frame once the transfer
		// message is in too, and disconnects it.
		queued := func(name string, handoffFrame bool) (*shopper, frame) {
			t.Helper()
			sh := e.connect(t, "")
			last := int64(4) // shopper, bot, handoff, transfer message
			if handoffFrame {
				send(t, sh.c, msg{Type: "handoff", ID: "h1"})
				last = 2 // handoff, transfer message
			} else {
				sh.say(t, "r1", askReturn)
			}
			q, _ := find(readUntil(t, sh.c, name+"'s queue frame and transfer message", all(isSeq(last), isType("queue"))), isType("queue"))
			sh.c.Close()
			e.waitIdle(t)
			return sh, q
		}
		a, q := queued("a", false)
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		// Someone in another group does not count.
		_, q = queued("p", true)
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		b, q := queued("b", false)
		checkFields(t, q, map[string]any{"type": "queue", "position": 2, "eta_s": 120})

		// Both come back, and are told their places again.
		a = e.connect(t, a.resumeQuery(4))
		q, _ = find(readUntil(t, a.c, "a's queue frame", isType("queue")), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		b = e.connect(t, b.resumeQuery(4))
		q, _ = find(readUntil(t, b.c, "b's queue frame", isType("queue")), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 2, "eta_s": 120})

		if _, err := e.desk.Claim(ctx, a.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		// a waited a few milliseconds: the estimate per chat is its floor, 10 s.
		// Position reads the queue and the recent waits one after the other, so a
		// wake-up that lands in the middle of the claim may show a mixed estimate
		// first; the last word is position 1 in 10 s.
		fs := readUntil(t, b.c, "b's queue frame after a was claimed", func(f frame) bool {
			return f.str("type") == "queue" && f.num("position") == 1 && f.num("eta_s") == 10
		})
		for _, f := range fs {
			if f.str("type") == "queue" && f.num("position") != 1 && f.num("position") != 2 {
				t.Errorf("b got %v after a was claimed, want position 1 or 2", f)
			}
		}
		if got := logSeqs(fs); len(got) != 0 {
			t.Errorf("b got log frames %v for a's claim", got)
		}
		readUntil(t, a.c, "a's active status", isType("status"))
		if f, _ := find(a.barrier(t), isType("queue")); f != nil {
			t.Errorf("a got a queue frame %v after its active status", f)
		}
	})
}

// TestQueueFrameOnEveryHandoff: a conversation handed off a second time is told its
// queue position again, even when position and wait are those of its first hand-off.
func TestQueueFrameOnEveryHandoff(t *testing.T) {
	ctx := context.Background()
	// With a default wait of 10 s, the estimate before and after a claim is the same.
	// No reopen window: each round is a new hand-off from the bot.
	e := newEnv(t, setup{desk: func(c *handoff.DeskConfig) { c.DefaultWait, c.ReopenWindow = 10*time.Second, -1 }})
	sh := e.connect(t, "")
	for round := range 3 {
		q, _ := find(sh.handOff(t, fmt.Sprintf("h%d", round)), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 10})
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		readUntil(t, sh.c, "the resolved status", func(f frame) bool { return f.str("status") == "resolved" })
	}
}

// placeCounter counts the reads of queue places.
type placeCounter struct {
	handoff.Conversations
	n atomic.Int64
}

func (p *placeCounter) Place(ctx context.Context, g handoff.Group, id string) (int, int64, error) {
	p.n.Add(1)
	return p.Conversations.Place(ctx, g, id)
}

// TestQueuePositions: waiting shoppers are told their new place when a chat ahead of them
// is claimed, from the queue's events: each reads its place once, when it joins.
func TestQueuePositions(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		pc := new(placeCounter)
		e := newEnv(t, setup{engine: eng, wrap: func(c handoff.Conversations) handoff.Conversations { pc.Conversations = c; return pc }})
		var shoppers []*shopper
		for i := range 4 {
			sh := e.connect(t, "")
			if q, _ := find(sh.handOff(t, "h1"), isType("queue")); q.num("position") != int64(i+1) {
				t.Fatalf("shopper %d's queue frame = %v", i, q)
			}
			shoppers = append(shoppers, sh)
		}
		reads := pc.n.Load()
		if _, err := e.desk.Claim(ctx, shoppers[0].conv, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.desk.Claim(ctx, shoppers[2].conv, "alice"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, shoppers[1].c, "place 1", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 1 })
		readUntil(t, shoppers[3].c, "place 3, then 2", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 3 })
		readUntil(t, shoppers[3].c, "place 2", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 2 })
		if n := pc.n.Load() - reads; n != 0 {
			t.Errorf("the gateway read places %d times after the claims; want none: events carry the moves", n)
		}
	})
}

// cutStore watches the gateway's reads of the log in pages (limit > 0) and tells when
// one starts before the end of the page read before it: the gateway failed to queue
// all of that page.
type cutStore struct {
	handoff.Conversations
	mu      sync.Mutex // guards lastEnd
	lastEnd int64      // after + length of the last page read
	cut     atomic.Bool
}

func (s *cutStore) Messages(ctx context.Context, id string, after int64, limit int) ([]handoff.Message, error) {
	msgs, err := s.Conversations.Messages(ctx, id, after, limit)
	if limit > 0 && err == nil {
		s.mu.Lock()
		if after < s.lastEnd {
			s.cut.Store(true)
		}
		s.lastEnd = after + int64(len(msgs))
		s.mu.Unlock()
	}
	return msgs, err
}

// TestSlowConsumerQueueOverflow: once a client's send queue overflows, the client is
// disconnected with 1008 after what was queued, even if it reads again; the server does
// not buffer the whole backlog for it.
func TestSlowConsumerQueueOverflow(t *testing.T) {
	ctx := context.Background()
	cs := new(cutStore)
	e := newEnv(t, setup{
		wrap:    func(c handoff.Conversations) handoff.Conversations { cs.Conversations = c; return cs },
		gateway: func(c *widget.Config) { c.SendQueue = 2 }, // and writes may wait 10 s
		sndBuf:  4096,
	})
	sh := e.connect(t, "") // and then read nothing

	big := strings.Repeat("慢", 10000) // 30 KB a frame
	appended := 0
	appendOne := func() {
		m := handoff.Message{ID: fmt.Sprintf("flood-%d", appended), Kind: handoff.KindMessage, From: handoff.FromSystem, Text: big}
		if _, _, err := e.desk.Append(ctx, sh.conv, m); err != nil {
			t.Fatalf("Append: %v", err)
		}
		appended++
	}
	// 6 MB, far more than the socket buffers and the queue hold.
	for range 200 {
		appendOne()
	}
	// The queue has overflowed once the gateway gave up a page of the log half-sent
	// (its writes wait for the client) or closed the connection (they did not). Each
	// further record wakes it to read the log again.
	timetest.Poll(t, frameWait, "the send queue to overflow", func() bool {
		if cs.cut.Load() || e.running.Load() == 0 {
			return true
		}
		appendOne()
		return false
	})

	// The client now reads all it can get.
	fs, err := readToClose(t, sh.c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "slow consumer" {
		t.Errorf("connection ended with %v, want close 1008 slow consumer", err)
	}
	seqs := logSeqs(fs)
	if !slices.Equal(seqs, seqRange(1, int64(len(seqs)))) || len(seqs) >= appended {
		t.Fatalf("got records %v before the close, want a prefix of 1..%d", seqs, appended)
	}
	e.waitIdle(t)

	// It resumes where it was cut off.
	again := e.connect(t, sh.resumeQuery(int64(len(seqs))))
	if f := readFrame(t, again.c); f.num("seq") != int64(len(seqs))+1 {
		t.Errorf("first frame on resume = %v, want seq %d", f, len(seqs)+1)
	}
}
