package widget

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/rs/zerolog"
)

// Decider is the bot as the gateway needs it.
type Decider interface {
	Decide(ctx context.Context, in bot.Input) (bot.Decision, error)
}

var _ Decider = (*bot.Bot)(nil)

// Config configures a Gateway.
type Config struct {
	// Desk is required: what shoppers say goes to it. Bot answers the public bot API
	// (POST /api/bot/ask) and nothing else; required. It should be a bot whose misses
	// reach no editor's inbox and, unless the shop chose otherwise, without a language
	// model: anyone may ask it anything.
	Desk *handoff.Desk
	Bot  Decider
	// Limiter counts the limits of the shoppers' requests, per client and per
	// conversation (limits.go); nil limits nothing.
	Limiter *ratelimit.Limiter
	// Limits are the limits by name; nil means DefaultLimits. A name missing is off.
	Limits []ratelimit.Rule
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (ratelimit.ClientIP); empty trusts none.
	TrustedProxies []netip.Prefix
	// AskCache is how many answers of the bot API are kept for identical questions;
	// 0 means 512, a negative value none. AskCacheTTL is how long one is kept; 0 means
	// a minute. Generation, when set, names the state of the articles (kb.Index's
	// Generation): an answer kept under another is not given.
	AskCache    int
	AskCacheTTL time.Duration
	Generation  func() uint64
	// AllowedOrigins lists the origins (scheme://host[:port]) of the shop pages that may
	// embed the widget; "*" allows any. The server's own origin is always allowed.
	AllowedOrigins []string
	// Greeting, when set, is sent to every new conversation whatever its language;
	// empty means the greeting of the desk's phrasebook in the conversation's language
	// (handoff.Phrases.Greeting), as an admin last edited it.
	Greeting string
	// PingInterval is how often the server pings; 0 means 25 s.
	PingInterval time.Duration
	// PongWait is how long the server waits for any frame or pong; 0 means 60 s.
	PongWait time.Duration
	// WriteWait bounds one write; 0 means 10 s.
	WriteWait time.Duration
	// SendQueue is the number of frames queued for a socket before it counts as a slow
	// consumer and is dropped; 0 means 256.
	SendQueue int
	// RateBurst and RateEvery limit a socket's frames: a burst of RateBurst, then one
	// per RateEvery; 0 means 10 and 1 s. The limits shared by every socket of a
	// conversation and of a client are Limits'.
	RateBurst int
	RateEvery time.Duration
	// PollInterval is about how often a socket reads its log and place again even
	// without an event, in case one was lost; each wait is drawn between half and one and
	// a half of it, so that sockets opened together do not poll together. Events are
	// lost only when a node's link to the bus breaks, which the bus answers with a
	// resync to every socket, so the poll is a last resort and rare: 0 means 5 minutes,
	// about 0.007 Redis reads a second for a socket.
	PollInterval time.Duration
	// IdentitySecret is the shop's secret for signed shopper identities
	// (KEFU_SHOP_SECRET); empty means no identity is accepted and every shopper is an
	// anonymous visitor.
	IdentitySecret []byte
	// IdentityMaxAge is how old a signed identity may be; 0 means 24 hours.
	IdentityMaxAge time.Duration
	// HelloWait bounds the wait for the hello frame of a client that announced one;
	// 0 means 10 s.
	HelloWait time.Duration
	// Files receives the shoppers' photos and signs the URLs of the photos in frames;
	// nil turns uploads off.
	Files *files.Service
	// Metrics are the process's metrics the gateway counts in; nil means metrics of its
	// own, which nobody scrapes.
	Metrics *metrics.Metrics
	// Now is the clock for identities; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Gateway serves the shopper websocket and the bot API.
type Gateway struct {
	cfg      Config
	desk     *handoff.Desk
	bot      Decider
	log      zerolog.Logger
	origins  map[string]bool
	any      bool
	upgrader websocket.Upgrader
	metrics  *metrics.Metrics
	refused  refusals
	answers  *askCache
}

var _ http.Handler = (*Gateway)(nil)

// New returns a Gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Desk == nil || cfg.Bot == nil {
		return nil, errors.New("widget: Config.Desk and Config.Bot are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.PingInterval, 25*time.Second)
	def(&cfg.PongWait, 60*time.Second)
	def(&cfg.WriteWait, 10*time.Second)
	def(&cfg.RateEvery, time.Second)
	def(&cfg.PollInterval, 5*time.Minute)
	def(&cfg.IdentityMaxAge, 24*time.Hour)
	def(&cfg.HelloWait, 10*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.SendQueue == 0 {
		cfg.SendQueue = 256
	}
	if cfg.RateBurst == 0 {
		cfg.RateBurst = 10
	}
	if cfg.Limits == nil {
		cfg.Limits = DefaultLimits()
	}
	g := &Gateway{cfg: cfg, desk: cfg.Desk, bot: cfg.Bot, log: cfg.Logger, metrics: cfg.Metrics, origins: make(map[string]bool)}
	g.answers = newAskCache(cfg.AskCache, cfg.AskCacheTTL, cfg.Now)
	for _, o := range cfg.AllowedOrigins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		switch {
		case o == "*":
			g.any = true
		case o != "":
			g.origins[strings.ToLower(o)] = true
		}
	}
	g.upgrader = websocket.Upgrader{
		// The read buffer is the HTTP server's, of the hijacked connection; a socket
		// that waits to read holds it. Writes take a buffer from a pool shared by all
		// sockets and give it back after each message, so an idle socket holds none.
		ReadBufferSize:    0,
		WriteBufferSize:   0,
		WriteBufferPool:   new(sync.Pool),
		EnableCompression: false,
		// The origin is checked before the upgrade, in ServeHTTP.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return g, nil
}

// ServeHTTP upgrades GET /ws/shopper to a websocket and runs the shopper's session.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.originAllowed(r) {
		g.refuse(w, r)
		return
	}
	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	g.metrics.ShopperConnections.Inc()
	s := &session{g: g, log: zerolog.Ctx(r.Context()).With().Logger(), ip: ratelimit.ClientIP(r, g.cfg.TrustedProxies)}
	s.c = newConn(ws, g.cfg, g.metrics.DeliverySeconds, s.kick)
	// The session reads its socket in a goroutine of its own, and this one ends: it
	// holds the HTTP server's write buffer and the deep stack of opening the
	// conversation, which an idle socket has no use for.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	sub := s.start(ctx, r.URL.Query())
	if sub == nil {
		cancel()
		s.end()
		g.metrics.ShopperConnections.Dec()
		return
	}
	go s.serve(ctx, cancel, sub)
}
