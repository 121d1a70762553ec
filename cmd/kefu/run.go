package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/console"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"
)

// app is the wired product.
type app struct {
	index     *kb.Index
	articles  kb.Store
	knowledge *knowledge.Service
	desk      *handoff.Desk
	accounts  *account.Service
	console   *console.Server
	tickets   *console.TicketAPI
	gateway   *widget.Gateway
	store     handoff.Store
	rdb       redis.UniversalClient
	// db is the embedded database, when there is no Redis; dbDir, when set, is the
	// temporary directory that holds it, removed at close.
	db    *bolt.DB
	dbDir string
}

// build constructs kb → bot → handoff → widget from the config.
func build(ctx context.Context, c config, log zerolog.Logger) (*app, error) {
	a := &app{}
	built := false
	defer func() {
		if !built {
			a.close()
		}
	}()
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

	if a.store, a.articles, a.rdb, err = newStores(c, log); err != nil {
		return nil, err
	}
	groups, err := c.groups()
	if err != nil {
		return nil, err
	}
	if a.accounts, err = a.newAccounts(c, groups); err != nil {
		return nil, err
	}
	cannedYAML, err := knowledge.Canned()
	if err != nil {
		return nil, err
	}
	canned := []handoff.CannedReply{
		{Key: "greeting", Title: "问候", Text: phrases["greeting"]},
		{Key: "waiting", Title: "请稍等", Text: phrases["waiting"]},
		{Key: "closing", Title: "结束语", Text: phrases["closing"]},
	}
	for _, r := range cannedYAML {
		canned = append(canned, handoff.CannedReply{Key: r.Key, Title: r.Title, Text: r.Text})
	}
	a.desk, err = handoff.NewDesk(handoff.DeskConfig{
		Store: a.store, Staff: a.accounts, Groups: groups,
		Phrases: handoff.Phrases{
			TransferPresale: phrases["transfer_presale"], TransferAftersale: phrases["transfer_aftersale"],
			AgentJoined: phrases["agent_joined"], Resolved: phrases["closing"],
			Fallback: phrases["fallback_handoff"], AgentOffline: phrases["agent_offline"],
			BackToBot: phrases["back_to_bot"],
		},
		MaxChats: c.MaxChats, Grace: c.AgentGrace, ManualOnly: c.Assign == "manual", ReopenWindow: offIfZero(c.ReopenWindow),
		QueueTimeout:  offIfZero(c.QueueTimeout),
		CannedReplies: canned, AllowedLinkHosts: c.linkHosts(),
		Logger: log.With().Str("part", "handoff").Logger(),
	})
	if err != nil {
		return nil, err
	}
	ticketStore := handoff.TicketStore(handoff.NewMemoryTicketStore())
	if a.rdb != nil {
		if ticketStore, err = handoff.NewRedisTicketStore(a.rdb, c.RedisPrefix); err != nil {
			return nil, err
		}
	}
	a.tickets, err = console.NewTicketAPI(console.TicketAPIConfig{
		Store: ticketStore, Accounts: a.accounts, Desk: a.desk, Logger: log.With().Str("part", "tickets").Logger(),
	})
	if err != nil {
		return nil, err
	}
	a.console, err = console.New(console.Config{Desk: a.desk, Accounts: a.accounts, Logger: log})
	if err != nil {
		return nil, err
	}
	a.knowledge, err = knowledge.New(knowledge.Config{
		Store: a.articles, Index: idx, NewBot: newBot, Accounts: a.accounts, Seed: seed, SeedSource: source,
		Logger: log.With().Str("part", "knowledge").Logger(),
	})
	if err != nil {
		return nil, err
	}
	a.gateway, err = widget.New(widget.Config{
		Desk: a.desk, Bot: a.knowledge.Watch(b), Tickets: a.tickets.Tickets(), IdentitySecret: []byte(c.ShopSecret), AllowedOrigins: c.origins(), Greeting: phrases["greeting"],
		Logger: log.With().Str("part", "widget").Logger(),
	})
	if err != nil {
		return nil, err
	}
	built = true
	return a, nil
}

// newStores returns the memory engines, or the Redis engines when a Redis URL is set:
// the conversations' and the articles'.
func newStores(c config, log zerolog.Logger) (handoff.Store, kb.Store, redis.UniversalClient, error) {
	if c.RedisURL == "" {
		return handoff.NewMemoryStore(nil), kb.NewMemoryStore(nil), nil, nil
	}
	opts, err := redisOptions(c.RedisURL)
	if err != nil {
		return nil, nil, nil, err
	}
	rdb := redis.NewUniversalClient(opts)
	rlog := log.With().Str("part", "redis").Logger()
	st, err := handoff.NewRedisStore(handoff.RedisConfig{Client: rdb, Prefix: c.RedisPrefix, Logger: rlog})
	if err != nil {
		rdb.Close()
		return nil, nil, nil, err
	}
	arts, err := kb.NewRedisStore(kb.RedisConfig{Client: rdb, Prefix: c.RedisPrefix, Logger: rlog})
	if err != nil {
		rdb.Close()
		return nil, nil, nil, err
	}
	return st, arts, rdb, nil
}

// newAccounts returns the accounts: in Redis when there is one, else in the embedded
// database of the data directory, or of a temporary directory without one.
func (a *app) newAccounts(c config, groups []string) (*account.Service, error) {
	var (
		st  account.Store
		err error
	)
	if a.rdb != nil {
		st, err = account.NewRedisStore(account.RedisConfig{Client: a.rdb, Prefix: c.RedisPrefix})
	} else {
		dir := c.DataDir
		if dir == "" {
			if a.dbDir, err = os.MkdirTemp("", "kefu-"); err != nil {
				return nil, err
			}
			dir = a.dbDir
		}
		if a.db, err = boltdb.Open(dir); err != nil {
			return nil, err
		}
		st, err = account.NewBoltStore(account.BoltConfig{DB: a.db})
	}
	if err != nil {
		return nil, err
	}
	return account.New(account.Config{Store: st, Groups: groups, InsecureCookie: c.InsecureCookie})
}

func (a *app) close() {
	if a.index != nil {
		a.index.Close()
	}
	if a.rdb != nil {
		a.rdb.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
	if a.dbDir != "" {
		os.RemoveAll(a.dbDir)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, c config, log zerolog.Logger) error {
	a, err := build(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.close()

	// Wait for Redis at start rather than fail: in a deployment it may come up later.
	for attempt := 0; ; attempt++ {
		err := a.store.Ping(ctx)
		if err == nil {
			break
		}
		if attempt%10 == 0 {
			log.Warn().Err(err).Msg("storage not reachable yet; retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	// The index is built from the article store before the first shopper is served.
	for attempt := 0; ; attempt++ {
		err := a.knowledge.Start(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if attempt%10 == 0 {
			log.Warn().Err(err).Msg("building the index from the article store; retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	password, err := a.accounts.EnsureAdmin(ctx)
	if err != nil {
		return fmt.Errorf("creating the admin user: %w", err)
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	// Requests' contexts derive from reqCtx, which ends when shutdown begins, so that
	// event streams and websockets end instead of holding the shutdown up.
	reqCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		Handler:           routes(a, log),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	base := baseURL(ln.Addr())
	engine := "memory"
	if c.RedisURL != "" {
		engine = "redis"
	}
	log.Info().Str("engine", engine).Str("shop_demo", base+"/").Str("console", base+"/console").Str("editor", base+"/editor").
		Str("widget", base+"/widget.js").Str("health", base+"/healthz").Msg("kefu is serving")
	if password != "" {
		log.Warn().Str("user", "admin").Str("password", password).
			Msg("created the admin user with this one-time password; sign in at " + base + "/console and keep it safe")
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.store.Run(gctx) })
	g.Go(func() error { return a.knowledge.Run(gctx) })
	g.Go(func() error { return a.desk.Run(gctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info().Msg("shutting down")
		endRequests()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Websockets are hijacked connections that Shutdown does not wait for; they end
		// with reqCtx, and their widgets resume on another node or after the restart.
		return srv.Shutdown(sctx)
	})
	return g.Wait()
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
