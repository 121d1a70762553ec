package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/console"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/contactguard"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/internal/webhook"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
	"github.com/kefu-im/kefu/widget"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// app is the wired product.
type app struct {
	storage   *storage
	index     *kb.Index
	knowledge *knowledge.Service
	desk      *handoff.Desk
	accounts  *account.Service
	audit     *audit.Log
	console   *console.Server
	tickets   *console.TicketAPI
	gateway   *widget.Gateway
	files     *files.Service
	metrics   *metrics.Metrics
	webhooks  *webhook.Service
	limiter   *ratelimit.Limiter

	// started is set once the node's start is done (app.start): the storage answered,
	// the index is built and the admin user exists.
	started atomic.Bool
}

// build constructs kb → bot → handoff → widget from the config, on the storage it opens.
func build(c config, log zerolog.Logger) (*app, error) {
	a := &app{metrics: metrics.New()}
	built := false
	defer func() {
		if !built {
			a.close()
		}
	}()
	if c.DataDir != "" {
		if err := ensureDataDir(c.DataDir); err != nil {
			return nil, fmt.Errorf("the data directory: %w", err)
		}
	}
	var err error
	if a.storage, err = openStorage(c, log); errors.Is(err, errDataDirInUse) {
		return nil, fmt.Errorf("%w; one kefu serves a data directory at a time (another one: -data DIR)", err)
	}
	if err != nil {
		return nil, err
	}
	idx, err := kb.New(kb.Config{Path: c.indexDir(), Logger: log.With().Str("part", "kb").Logger()})
	if err != nil {
		return nil, err
	}
	a.index = idx
	// The articles to import on the first start: the bundled ones, or those of
	// KEFU_KNOWLEDGE in their place.
	seed, source := []kb.Article(nil), "bundled"
	if c.Knowledge != "" {
		seed, err = knowledge.Load(c.Knowledge)
		source = "knowledge:" + c.Knowledge
	} else {
		seed, err = knowledge.Bundled()
	}
	if err != nil {
		return nil, fmt.Errorf("loading knowledge: %w", err)
	}

	phrases, err := knowledge.Phrases()
	if err != nil {
		return nil, err
	}
	cats, err := c.categoryThresholds()
	if err != nil {
		return nil, err
	}
	bc := bot.Config{
		Searcher: idx, AnswerThreshold: c.AnswerThreshold, ClarifyThreshold: c.ClarifyThreshold,
		CategoryThresholds: cats,
		ClarifyText:        phrases["clarify"], Logger: log.With().Str("part", "bot").Logger(),
		ContactGuard: contactguard.New(c.linkHosts()),
	}
	if c.LLMBaseURL != "" {
		llm, err := bot.NewLLM(bot.LLMConfig{BaseURL: c.LLMBaseURL, Model: c.LLMModel, APIKey: c.LLMAPIKey, Timeout: c.LLMTimeout})
		if err != nil {
			return nil, fmt.Errorf("configuring the LLM: %w", err)
		}
		bc.Phraser = llm
		log.Info().Str("model", c.LLMModel).Msg("answers are worded by a language model")
	}
	newBot := func(s bot.Searcher) (*bot.Bot, error) {
		cfg := bc
		cfg.Searcher = s
		return bot.New(cfg)
	}
	b, err := bot.New(bc)
	if err != nil {
		return nil, err
	}
	// The public bot API answers anyone: without the language model unless the shop
	// turned it on, and without recording its misses for the editors.
	askBot := b
	if bc.Phraser != nil && !c.BotAPILLM {
		plain := bc
		plain.Phraser = nil
		if askBot, err = bot.New(plain); err != nil {
			return nil, err
		}
	}

	groups, err := c.groups()
	if err != nil {
		return nil, err
	}
	limits, err := c.rateLimits()
	if err != nil {
		return nil, err
	}
	proxies, err := c.trustedProxies()
	if err != nil {
		return nil, err
	}
	if a.audit, err = audit.New(audit.Config{Store: a.storage.audit, Logger: log.With().Str("part", "audit").Logger(), TrustedProxies: proxies}); err != nil {
		return nil, err
	}
	a.limiter = a.newLimiter(c, log)
	// Failed sign-ins are limited on every node alike, by the node's limiter (in Redis
	// when nodes share one), with the limits of KEFU_RATE_LIMITS.
	if a.accounts, err = account.New(account.Config{
		Store: a.storage.accounts, Groups: groups, InsecureCookie: c.InsecureCookie, Audit: a.audit,
		Limiter: a.limiter, LoginRules: limits, TrustedProxies: proxies,
	}); err != nil {
		return nil, err
	}
	a.knowledge, err = knowledge.New(knowledge.Config{
		Store: a.storage.articles, Index: idx, NewBot: newBot, Accounts: a.accounts, Seed: seed, SeedSource: source, Audit: a.audit,
		Logger: log.With().Str("part", "knowledge").Logger(),
	})
	if err != nil {
		return nil, err
	}
	book, cannedByLang, err := bundledPhrasebook()
	if err != nil {
		return nil, err
	}
	// The bot the desk asks records what it could not answer for the editors.
	watched := a.knowledge.Watch(b)
	dc := a.storage.deskConfig()
	dc.Staff, dc.Bot, dc.Unhelpful = a.accounts, widget.DeskBot(watched), a.knowledge
	for _, g := range groups {
		dc.Groups = append(dc.Groups, handoff.Group(g))
	}
	dc.Phrasebook, dc.CannedReplies, dc.CannedByLang = book, cannedByLang[handoff.LangZH], cannedByLang
	dc.MaxChats, dc.Grace, dc.ManualOnly = c.MaxChats, c.AgentGrace, c.Assign == "manual"
	dc.ReopenWindow, dc.QueueTimeout = offIfZero(c.ReopenWindow), offIfZero(c.QueueTimeout)
	dc.AllowedLinkHosts = c.linkHosts()
	dc.TicketApprovalCapFen, _ = c.refundCapFen() // checked by validate
	dc.Logger = log.With().Str("part", "handoff").Logger()
	if a.files, err = openFiles(c, log, a.metrics); err != nil {
		return nil, fmt.Errorf("the photos' store: %w", err)
	}
	dc.Files, dc.Metrics = a.files, a.metrics
	if a.webhooks, err = webhook.New(webhook.Config{
		Store: a.storage.webhooks, AllowPrivate: c.WebhookAllowPrivate, Metrics: a.metrics,
		Backoff: webhook.Backoff{Base: c.WebhookRetry},
		Logger:  log.With().Str("part", "webhook").Logger(),
	}); err != nil {
		return nil, err
	}
	dc.Notifier = a.webhooks
	if a.desk, err = handoff.NewDesk(dc); err != nil {
		return nil, err
	}
	a.tickets, err = console.NewTicketAPI(console.TicketAPIConfig{
		Desk: a.desk, Accounts: a.accounts, Files: a.files, Audit: a.audit, Logger: log.With().Str("part", "tickets").Logger(),
	})
	if err != nil {
		return nil, err
	}
	loc, err := c.location()
	if err != nil {
		return nil, err
	}
	a.console, err = console.New(console.Config{Desk: a.desk, Accounts: a.accounts, Files: a.files, Audit: a.audit, Location: loc, Logger: log})
	if err != nil {
		return nil, err
	}
	a.gateway, err = widget.New(widget.Config{
		Desk: a.desk, Bot: askBot, IdentitySecret: []byte(c.ShopSecret), AllowedOrigins: c.origins(),
		Files: a.files, Metrics: a.metrics, Limiter: a.limiter, Limits: limits, TrustedProxies: proxies, Generation: idx.Generation,
		Logger: log.With().Str("part", "widget").Logger(),
	})
	if err != nil {
		return nil, err
	}
	// GET /metrics serves the process's registry through client_golang, with the
	// gauges read at scrape time.
	a.metrics.Registry.MustRegister(&scrapeGauges{a: a, log: log.With().Str("part", "metrics").Logger()})
	built = true
	return a, nil
}

func (a *app) close() {
	if a.index != nil {
		a.index.Close()
	}
	if a.storage != nil {
		a.storage.close()
	}
}

// run serves until ctx ends, then shuts down gracefully.
//
// The node listens at once, before its storage answers and before its index is built
// (minutes with tens of thousands of articles): /healthz answers from the first moment,
// so that a liveness probe does not kill a node that is only starting, and /readyz,
// the shoppers' websocket and the bot's API answer 503 until the start is done
// (starting.go).
func run(ctx context.Context, c config, log zerolog.Logger) error {
	a, err := build(c, log)
	if err != nil {
		return err
	}
	defer a.close()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	var adminLn net.Listener
	if a.storage.engine == engineEmbedded {
		if adminLn, err = listenAdmin(adminSocket(c.DataDir)); err != nil {
			ln.Close()
			return err
		}
	}
	// Requests' contexts derive from reqCtx, which ends when shutdown begins, so that
	// event streams and websockets end instead of holding the shutdown up.
	reqCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	srv := newServer(a.untilStarted(routes(a, log)), defaultTimeouts, func(net.Listener) context.Context { return reqCtx })
	admin := &http.Server{Handler: adminRoutes(a, log), ReadHeaderTimeout: 10 * time.Second}
	base := baseURL(ln.Addr())
	log.Info().Str("health", base+"/healthz").Str("ready", base+"/readyz").Msg("listening; starting")

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if adminLn != nil {
		g.Go(func() error {
			if err := admin.Serve(adminLn); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		log.Info().Msg("shutting down")
		endRequests()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin.Shutdown(sctx)
		// Websockets are hijacked connections that Shutdown does not wait for; they end
		// with reqCtx, and their widgets resume on another node or after the restart.
		return srv.Shutdown(sctx)
	})
	g.Go(func() error {
		started, err := a.start(gctx, log, base)
		if err != nil || !started {
			return err
		}
		// The last line of the start: whoever reads the log knows all of the start's
		// lines are written once it shows.
		log.Info().Str("engine", a.storage.engine).Str("data", c.DataDir).Str("shop_demo", base+"/").Str("console", base+"/console").
			Str("editor", base+"/editor").Str("widget", base+"/widget.js").Str("health", base+"/healthz").Msg("kefu is serving")
		g.Go(func() error { return a.knowledge.Run(gctx) })
		g.Go(func() error { return a.desk.Run(gctx) })
		g.Go(func() error { return a.webhooks.Run(gctx) })
		g.Go(func() error {
			a.accounts.Run(log.With().Str("part", "accounts").Logger().WithContext(gctx))
			return nil
		})
		keep, _ := c.retention()
		unattended, _ := c.unattended()
		if keep > 0 || unattended > 0 {
			g.Go(func() error {
				return a.sweepRetention(gctx, keep, unattended, log.With().Str("part", "retention").Logger())
			})
		}
		return nil
	})
	return g.Wait()
}

// start does what the node needs before it serves shoppers: it waits for the storage
// (in a deployment Redis may come up later), builds the index from the article store
// and creates the admin user on a new installation; then it marks the node started. It
// reports false when ctx ends first.
func (a *app) start(ctx context.Context, log zerolog.Logger, base string) (bool, error) {
	if !retry(ctx, log, "storage not reachable yet; retrying", a.desk.Ping) {
		return false, nil
	}
	if !retry(ctx, log, "building the index from the article store; retrying", a.knowledge.Start) {
		return false, nil
	}
	password, err := a.accounts.EnsureAdmin(ctx)
	if err != nil {
		return false, fmt.Errorf("creating the admin user: %w", err)
	}
	if password != "" {
		log.Warn().Str("user", "admin").Str("password", password).
			Msg("created the admin user with this one-time password; sign in at " + base + "/console and keep it safe")
	}
	a.started.Store(true)
	return true, nil
}

// retry calls f until it succeeds, every half second, and logs every tenth failure
// with the message waiting; it reports false when ctx ends first.
func retry(ctx context.Context, log zerolog.Logger, waiting string, f func(context.Context) error) bool {
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt%10 == 0 {
			log.Warn().Err(err).Msg(waiting)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// offIfZero maps a configured duration where 0 means off to the desk's, where 0 means
// the default and a negative value off.
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func baseURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
