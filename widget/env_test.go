package widget_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/ratelimit"
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
	stillThere  = "明天上海下雨吗" // out of scope
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
	// limits turns the limits on (the defaults unless gateway changes them): counted
	// in the desk's Redis on the Redis engine, in memory on the embedded one, on
	// env.limitClock, which stands still unless moved.
	limits bool
}

// env is a gateway served by a real HTTP server.
type env struct {
	srv     *httptest.Server
	rig     *desktest.Rig
	desk    *handoff.Desk
	staff   *account.Service
	tickets *handoff.Tickets
	files   *files.Service
	running atomic.Int64 // websocket handlers that have not returned
	// limitClock is the limiter's clock when setup.limits is set.
	limitClock *timetest.Clock
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
	store, err := files.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fsvc, err := files.New(files.Config{Store: store, URLKey: []byte("a test key of the photos' URLs"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	o := s.engine.open(t)
	o.Wrap = s.wrap
	o.Desk = func(c *handoff.DeskConfig) {
		c.Bot = widget.DeskBot(b)
		c.Files = fsvc
		if s.desk != nil {
			s.desk(c)
		}
	}
	rig := desktest.Open(t, o)
	desk := rig.Desk
	wc := widget.Config{Desk: desk, Bot: b, AllowedOrigins: []string{shopOrigin}, Greeting: greeting, Files: fsvc}
	var limitClock *timetest.Clock
	if s.limits {
		limitClock = timetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), 0)
		lc := ratelimit.Config{Now: limitClock.Now}
		if rig.Client != nil {
			lc.Redis, lc.Prefix = rig.Client, rig.Server.Prefix(t)
		}
		wc.Limiter = ratelimit.New(lc)
	}
	if s.gateway != nil {
		s.gateway(&wc)
	}
	gw, err := widget.New(wc)
	if err != nil {
		t.Fatalf("widget.New: %v", err)
	}
	e := &env{rig: rig, desk: desk, tickets: desk.Tickets(), files: fsvc, limitClock: limitClock}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/shopper", func(w http.ResponseWriter, r *http.Request) {
		e.running.Add(1)
		defer e.running.Add(-1)
		gw.ServeHTTP(w, r)
	})
	mux.HandleFunc("POST /api/bot/ask", gw.Ask)
	mux.HandleFunc("OPTIONS /api/bot/ask", gw.AskPreflight)
	mux.HandleFunc("POST /api/uploads", gw.Upload)
	mux.HandleFunc("OPTIONS /api/uploads", gw.UploadPreflight)
	fsvc.Routes(mux)
	mux.HandleFunc("GET /widget.js", gw.Script)
	mux.HandleFunc("GET /api/widget/origin", gw.Origin)
	mux.HandleFunc("GET /{$}", gw.Demo)
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

// online puts agent of group online, so that the shoppers waiting for the group are told
// a wait. A desk that assigns chats by itself would give them to the agent: the test's
// desk is ManualOnly.
func (e *env) online(t *testing.T, agent string, group handoff.Group) {
	t.Helper()
	e.rig.Staff.Add(account.User{Name: agent, Role: account.RoleAgent, Group: string(group)})
	if _, err := e.desk.Heartbeat(context.Background(), agent, handoff.PresenceOnline); err != nil {
		t.Fatalf("Heartbeat(%s): %v", agent, err)
	}
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

// resume dials again as sh's widget does: the conversation and its token in the hello
// frame, the records after seq asked for in the URL; it reads the welcome frame.
func (e *env) resume(t *testing.T, sh *shopper, after int64) *shopper {
	t.Helper()
	c, _, err := e.dialRaw(t, url.Values{"hello": {"1"}, "after": {fmt.Sprint(after)}}.Encode(), nil)
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	send(t, c, helloFrame{Type: "hello", Conversation: sh.conv, Token: sh.token})
	w := readFrame(t, c)
	if w.str("type") != "welcome" {
		t.Fatalf("first frame = %v, want a welcome", w)
	}
	return &shopper{c: c, conv: w.str("conversation"), token: w.str("token"), welcome: w}
}

// keep stores sh's conversation, a draft until its shopper says something, so that a
// test can write into it from the desk's side first.
func (e *env) keep(t *testing.T, sh *shopper) {
	t.Helper()
	ctx := context.Background()
	c, err := e.desk.OpenAs(ctx, sh.conv, sh.token, "")
	if err == nil {
		c.Shopper = &handoff.Shopper{ID: "v_" + sh.conv}
		_, err = e.desk.Keep(ctx, c)
	}
	if err != nil {
		t.Fatalf("keeping %s: %v", sh.conv, err)
	}
}
