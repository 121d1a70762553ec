package account

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// A signed-in request is admitted by its session and the session's user, two reads of
// the store; an agent's console makes several requests a second. The service keeps what
// it read for a moment (sessionCacheTTL), so that most requests read nothing, and drops
// it at once when the user or the session changes: on this node when the change is
// made here, on the others when the store tells them (Broadcaster), and at the latest
// when the moment is over, should that word be lost.

// sessionCacheTTL is how long a session and its user are used without reading them
// again; sessionCacheMax bounds the entries, which are signed-in people, so few.
const (
	sessionCacheTTL = 5 * time.Second
	sessionCacheMax = 10_000
)

// Broadcaster is implemented by a store that several nodes share: Changed tells every
// node, through Listen, that a user or a session changed, so that none goes on using
// what it keeps of it.
type Broadcaster interface {
	// Changed announces the change of a key: "u:" and a user's name, or "s:" and the
	// hash of a session token.
	Changed(ctx context.Context, key string) error
	// Listen calls f with every key announced, until ctx ends or the link fails.
	Listen(ctx context.Context, f func(key string)) error
}

// sessionCache keeps sessions, by the hash of their token, and their users.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
	// gen moves on at every drop: a read that began before a drop does not put what it
	// read, possibly from before the change, into the cache.
	gen uint64
}

type cachedSession struct {
	sess  Session
	user  User
	until time.Time
}

// get returns the entry of tokenHash if it is fresh at now, and the generation to
// give put after reading the store.
func (c *sessionCache) get(tokenHash string, now time.Time) (cachedSession, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[tokenHash]
	if ok && !now.Before(e.until) {
		delete(c.m, tokenHash)
		ok = false
	}
	return e, ok, c.gen
}

// put keeps an entry read at generation gen, unless something was dropped since.
func (c *sessionCache) put(tokenHash string, e cachedSession, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil {
		c.m = make(map[string]cachedSession)
	}
	if len(c.m) >= sessionCacheMax {
		clear(c.m) // rare: as many people signed in at once as the bound
	}
	c.m[tokenHash] = e
}

// drop forgets what a changed key names: "u:" and a user's name, "s:" and a session's
// token hash.
func (c *sessionCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	kind, name := key[:min(2, len(key))], key[min(2, len(key)):]
	switch kind {
	case "s:":
		delete(c.m, name)
	case "u:":
		for h, e := range c.m {
			if e.user.Name == name {
				delete(c.m, h)
			}
		}
	default:
		clear(c.m)
	}
}

// changingStore is the service's store: it drops what the cache keeps of a user or a
// session when either is written, here and, through a Broadcaster, on every node.
type changingStore struct {
	Store
	cache *sessionCache
	bc    Broadcaster // nil for a store of one node
}

func (s changingStore) changed(ctx context.Context, key string) {
	s.cache.drop(key)
	if s.bc != nil {
		// A lost word leaves other nodes with the old user for sessionCacheTTL at most.
		s.bc.Changed(ctx, key)
	}
}

func (s changingStore) PutUser(ctx context.Context, u User, create bool) error {
	err := s.Store.PutUser(ctx, u, create)
	if err == nil {
		s.changed(ctx, "u:"+u.Name)
	}
	return err
}

func (s changingStore) DeleteSession(ctx context.Context, tokenHash string) error {
	err := s.Store.DeleteSession(ctx, tokenHash)
	if err == nil {
		s.changed(ctx, "s:"+tokenHash)
	}
	return err
}

// Run listens to the other nodes' changes of users and sessions (when the store is
// shared) until ctx ends; when the link fails it listens again after a pause, and
// forgets everything it kept, since it may have missed a change.
func (s *Service) Run(ctx context.Context) {
	bc := s.store.bc
	if bc == nil {
		return
	}
	for ctx.Err() == nil {
		err := bc.Listen(ctx, s.cache.drop)
		s.cache.drop("*")
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("listening to other nodes' changes of users; listening again")
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
