package knowledge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/account"
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
	// Logger receives the Service's logs.
	Logger zerolog.Logger
}

// Service is the knowledge editors' back end: their API and UI, the tester, the
// unanswered questions, and the follower that keeps this node's index equal to the
// store's published articles.
type Service struct {
	cfg   Config
	store kb.Store
	index *kb.Index
	bot   *bot.Bot // searches index
	log   zerolog.Logger

	// stale is true while the change feed cannot be read: the index may lag behind.
	stale atomic.Bool
	// ready is closed when Start has built the index once.
	ready     chan struct{}
	readyOnce sync.Once

	cursorMu sync.Mutex // guards cursor
	cursor   string     // the feed position the index reflects

	reviewMu sync.Mutex      // guards review
	review   map[string]bool // ids of the proposals waiting for review, as of cursor

	unanswered chan kb.Unanswered // recorded questions on their way to the store

	ui *web.Page
	// editors admits editors and admins; proposers, agents (and so leads) too, who
	// propose articles from the console.
	editors, proposers func(http.HandlerFunc) http.HandlerFunc
}

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
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
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
	ui, err := newEditorPage()
	if err != nil {
		return nil, err
	}
	return &Service{
		cfg: cfg, store: cfg.Store, index: cfg.Index, bot: b, log: cfg.Logger,
		ready: make(chan struct{}), review: make(map[string]bool), unanswered: make(chan kb.Unanswered, 256), ui: ui,
		editors:   cfg.Accounts.Require(account.RoleEditor, account.RoleAdmin),
		proposers: cfg.Accounts.Require(account.RoleAgent, account.RoleEditor, account.RoleAdmin),
	}, nil
}

// Start imports the seed articles not imported before and builds the index from the
// store. The server calls it once the store is reachable and before it serves.
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
	}
	if err := s.rebuild(ctx); err != nil {
		return err
	}
	s.readyOnce.Do(func() { close(s.ready) })
	return nil
}

// Ready reports whether the index has been built and follows the store.
func (s *Service) Ready() bool {
	select {
	case <-s.ready:
		return !s.stale.Load()
	default:
		return false
	}
}

// Stale reports whether the change feed cannot be read just now, so that the index may
// lag behind the store.
func (s *Service) Stale() bool { return s.stale.Load() }

// rebuild makes the index hold exactly the store's published articles and remembers the
// feed position it reflects. The position is read first: a change saved during the
// rebuild is then applied again by the follower, which is harmless.
func (s *Service) rebuild(ctx context.Context) error {
	start := time.Now()
	head, err := s.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("reading the change feed: %w", err)
	}
	entries, err := s.store.List(ctx)
	if err != nil {
		return fmt.Errorf("listing articles: %w", err)
	}
	var arts []kb.Article
	keep := make(map[string]bool)
	review := make(map[string]bool)
	for _, e := range entries {
		if e.Status == kb.StatusPublished {
			arts = append(arts, e.Article)
			keep[e.ID] = true
		}
		if isProposal(e) {
			review[e.ID] = true
		}
	}
	if err := s.index.Put(ctx, arts...); err != nil {
		return fmt.Errorf("indexing articles: %w", err)
	}
	for _, a := range s.index.Articles() {
		if !keep[a.ID] {
			if err := s.index.Delete(ctx, a.ID); err != nil && !errors.Is(err, kb.ErrNotFound) {
				return fmt.Errorf("removing article %q from the index: %w", a.ID, err)
			}
		}
	}
	s.setReviews(review)
	s.setCursor(head)
	s.log.Info().Int("articles", len(arts)).Dur("took", time.Since(start)).Msg("index built from the article store")
	return nil
}

func (s *Service) setCursor(c string) {
	s.cursorMu.Lock()
	s.cursor = c
	s.cursorMu.Unlock()
}

func (s *Service) getCursor() string {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	return s.cursor
}

// apply brings the index up to date with the changed articles.
func (s *Service) apply(ctx context.Context, changes []kb.Change) error {
	seen := make(map[string]bool, len(changes))
	var put []kb.Article
	var del []string
	review := make(map[string]bool) // id → is a proposal now
	for i := len(changes) - 1; i >= 0; i-- {
		id := changes[i].ID
		if seen[id] {
			continue
		}
		seen[id] = true
		e, err := s.store.Get(ctx, id)
		switch {
		case errors.Is(err, kb.ErrNotFound):
			del = append(del, id)
		case err != nil:
			return err
		case e.Status == kb.StatusPublished:
			put = append(put, e.Article)
		default:
			del = append(del, id)
		}
		review[id] = err == nil && isProposal(e)
	}
	if err := s.index.Put(ctx, put...); err != nil {
		return fmt.Errorf("indexing changed articles: %w", err)
	}
	for _, id := range del {
		if err := s.index.Delete(ctx, id); err != nil && !errors.Is(err, kb.ErrNotFound) {
			return fmt.Errorf("removing article %q from the index: %w", id, err)
		}
	}
	s.markReviews(review)
	return nil
}

// Run follows the store's change feed until ctx ends, keeping the index equal to the
// published articles, and saves the recorded unanswered questions. While the feed
// cannot be read the Service is stale (Ready is false, and it logs so); when it can
// again, it catches up from where it stopped, or rebuilds if the feed no longer holds
// that position.
func (s *Service) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.saveUnanswered(ctx)
	}()
	defer func() { <-done }()

	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		cursor := s.getCursor()
		changes, next, err := s.store.Changes(ctx, cursor, s.cfg.Poll)
		if err == nil && len(changes) > 0 {
			err = s.apply(ctx, changes)
		}
		if errors.Is(err, kb.ErrFeedGap) {
			s.log.Warn().Str("cursor", cursor).Msg("change feed no longer holds our position; rebuilding the index")
			err = s.rebuild(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !s.stale.Swap(true) {
				s.log.Error().Err(err).Msg("cannot follow the article change feed; the index may be stale until it can")
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		if len(changes) > 0 {
			s.setCursor(next)
			s.log.Debug().Int("changes", len(changes)).Str("cursor", next).Msg("index updated")
		}
		if s.stale.Swap(false) {
			s.log.Info().Msg("following the article change feed again; the index is up to date")
		}
		backoff = 100 * time.Millisecond
	}
	return nil
}
