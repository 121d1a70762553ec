package knowledge

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
	"github.com/rs/zerolog"
)

// Accounts admits the requests of signed-in users by role, the agent console's users:
// editors sign in once for both. account.Service is the one Kefu runs with.
type Accounts interface {
	Require(roles ...account.Role) func(http.HandlerFunc) http.HandlerFunc
}

// Config configures a Service. Store, Index, Accounts and NewBot are required.
type Config struct {
	// Store keeps the articles, their versions and the change feed.
	Store kb.Store
	// Index is this node's search index, the one the bot answers from: the Service keeps
	// it equal to the store's published articles.
	Index *kb.Index
	// NewBot returns a bot, configured as the shoppers' one, that searches s. The
	// editor's tester asks it what the bot would do.
	NewBot func(s bot.Searcher) (*bot.Bot, error)
	// Accounts admits the users of the editor and its API.
	Accounts Accounts
	// Seed, when set, is imported on the first start (and its new ids on later starts)
	// as published articles from SeedSource ("bundled" when empty); see kb.Store.Seed.
	Seed       []kb.Article
	SeedSource string
	// Poll bounds how long one read of the change feed waits; zero means 5 seconds.
	Poll time.Duration
	// Audit receives the deletions of articles; nil records none.
	Audit *audit.Log
	// Logger receives the Service's logs.
	Logger zerolog.Logger
}

// Service is the knowledge editors' back end: their API and UI, the tester, the
// unanswered questions, and the follower (kb.Follower) that keeps this node's index
// equal to the store's published articles.
type Service struct {
	cfg      Config
	store    kb.Store
	index    *kb.Index
	follower *kb.Follower
	bot      *bot.Bot // searches index
	log      zerolog.Logger

	reviewMu sync.Mutex      // guards review
	review   map[string]bool // ids of the proposals waiting for review, as the follower read them

	unanswered chan kb.Unanswered // recorded questions on their way to the store

	ui *web.Page
	// editors admits editors and admins; proposers, agents (and so leads) too, who
	// propose articles from the console.
	editors, proposers func(http.HandlerFunc) http.HandlerFunc
}

// uiFS holds the editor: its page template and static files.
//
//go:embed ui
var uiFS embed.FS

// New returns a Service. It does not touch the store: Start does.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("knowledge: Config.Store is required")
	case cfg.Index == nil:
		return nil, errors.New("knowledge: Config.Index is required")
	case cfg.NewBot == nil:
		return nil, errors.New("knowledge: Config.NewBot is required")
	case cfg.Accounts == nil:
		return nil, errors.New("knowledge: Config.Accounts is required")
	}
	if cfg.SeedSource == "" {
		cfg.SeedSource = "bundled"
	}
	// The seed is written to the store as published articles: it passes the checks of
	// every other write, so that a KEFU_KNOWLEDGE directory cannot bring in a script.
	for _, a := range cfg.Seed {
		if err := checkArticle(a); err != nil {
			return nil, fmt.Errorf("knowledge: %s article %q: %w", cfg.SeedSource, a.ID, err)
		}
	}
	b, err := cfg.NewBot(cfg.Index)
	if err != nil {
		return nil, err
	}
	ui, err := web.NewPage(web.PageConfig{
		Files: uiFS, Template: "ui/editor.html", Static: []string{"ui/*.css", "ui/*.js"}, Prefix: "/editor/static/",
	})
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, store: cfg.Store, index: cfg.Index, bot: b, log: cfg.Logger,
		review: make(map[string]bool), unanswered: make(chan kb.Unanswered, 256), ui: ui,
		editors:   cfg.Accounts.Require(account.RoleEditor, account.RoleAdmin),
		proposers: cfg.Accounts.Require(account.RoleAgent, account.RoleEditor, account.RoleAdmin),
	}
	s.follower, err = kb.NewFollower(kb.FollowerConfig{
		Store: cfg.Store, Index: cfg.Index, Poll: cfg.Poll, Observe: s.observe, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Routes registers the editor on mux: the page under /editor, and its API under
// /api/articles, /api/proposals, /api/editor and /api/unanswered.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.Handle("GET /editor", s.ui)
	mux.HandleFunc("GET /editor/static/{file}", s.ui.ServeStatic)
	mux.HandleFunc("GET /api/articles", s.List())
	mux.HandleFunc("POST /api/articles", s.Create())
	mux.HandleFunc("POST /api/articles/import", s.Import())
	mux.HandleFunc("GET /api/articles/export", s.Export())
	mux.HandleFunc("GET /api/articles/{id}", s.Get())
	mux.HandleFunc("PUT /api/articles/{id}", s.Update())
	mux.HandleFunc("DELETE /api/articles/{id}", s.Delete())
	mux.HandleFunc("GET /api/articles/{id}/versions", s.Versions())
	mux.HandleFunc("GET /api/articles/{id}/versions/{n}", s.Version())
	mux.HandleFunc("POST /api/articles/{id}/restore", s.Restore())
	mux.HandleFunc("POST /api/proposals", s.Propose())
	mux.HandleFunc("POST /api/editor/preview", s.Preview())
	mux.HandleFunc("POST /api/editor/ask", s.Ask())
	mux.HandleFunc("GET /api/editor/status", s.Status())
	mux.HandleFunc("GET /api/unanswered", s.Unanswered())
	mux.HandleFunc("POST /api/unanswered/dismiss", s.DismissUnanswered())
	mux.HandleFunc("POST /api/unanswered/attach", s.AttachUnanswered())
}

// Follower returns the follower that keeps the index equal to the store's published
// articles; the server asks it whether the index is ready, or stale.
func (s *Service) Follower() *kb.Follower { return s.follower }

// Start imports the seed articles not imported before and builds the index from the
// store (kb.Follower.Sync). The server calls it once the store is reachable and before
// it serves, from one goroutine; it is not safe for concurrent use.
func (s *Service) Start(ctx context.Context) error {
	if len(s.cfg.Seed) > 0 {
		es := make([]kb.Entry, len(s.cfg.Seed))
		for i, a := range s.cfg.Seed {
			es[i] = kb.Entry{Article: a, Status: kb.StatusPublished}
		}
		created, err := s.store.Seed(ctx, s.cfg.SeedSource, es, "kefu")
		if err != nil {
			return fmt.Errorf("importing %s articles: %w", s.cfg.SeedSource, err)
		}
		if len(created) > 0 {
			s.log.Info().Int("articles", len(created)).Str("source", s.cfg.SeedSource).Msg("imported articles")
		}
		// Imported: the store has them now, and a big knowledge base's seed (50,000
		// articles, some 150 MB) is not held for the rest of the run. A Start retried
		// after this point has nothing left to import.
		s.cfg.Seed = nil
	}
	return s.follower.Sync(ctx)
}

// Run follows the store's change feed until ctx ends (kb.Follower.Run), and saves the
// recorded unanswered questions.
func (s *Service) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.saveUnanswered(ctx)
	}()
	defer func() { <-done }()
	return s.follower.Run(ctx)
}
