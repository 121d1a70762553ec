package account

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/kefu-im/kefu/internal/secret"
	"golang.org/x/crypto/bcrypt"
)

// Login checks the password and starts a session; it returns the session's token, which
// is stored only as its hash, and the user. A wrong password and an unknown name both
// give ErrBadCredentials, after the same time.
func (s *Service) Login(ctx context.Context, name, password string) (string, User, error) {
	u, err := s.store.User(ctx, name)
	if errors.Is(err, ErrNotFound) {
		bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return "", User{}, ErrBadCredentials
	}
	if err != nil {
		return "", User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PassHash), []byte(password)) != nil {
		return "", User{}, ErrBadCredentials
	}
	if u.Disabled {
		return "", User{}, ErrDisabled
	}
	return s.startSession(ctx, u)
}

// startSession starts a session of u at u's epoch and returns its token and u.
func (s *Service) startSession(ctx context.Context, u User) (string, User, error) {
	token := secret.New("s_")
	if err := s.store.PutSession(ctx, secret.Hash(token), Session{User: u.Name, Expires: s.now().Add(s.ttl), Epoch: u.Epoch}); err != nil {
		return "", User{}, err
	}
	u.PassHash = ""
	return token, u, nil
}

// Logout ends the session of token, and the event streams of it on this node (Ends).
func (s *Service) Logout(ctx context.Context, token string) error {
	if err := s.store.DeleteSession(ctx, secret.Hash(token)); err != nil {
		return err
	}
	s.ends.end(secret.Hash(token))
	return nil
}

// Authenticate returns the user of a session token or of an API token (see APIToken),
// without the password hash, or ErrBadCredentials. A session of a disabled user, or of
// an earlier epoch (User.Epoch), gives ErrBadCredentials. A session and its user are
// read again after a few seconds, or at once after a change of either (cache.go), so a
// change on one node holds on every node at once.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrBadCredentials
	}
	if isAPIToken(token) {
		return s.authenticateToken(ctx, token)
	}
	h := secret.Hash(token)
	now := s.now()
	e, ok, gen := s.cache.get(h, now)
	if !ok {
		var err error
		if e.sess, err = s.store.Session(ctx, h); errors.Is(err, ErrNotFound) {
			return User{}, ErrBadCredentials
		} else if err != nil {
			return User{}, err
		}
		if e.user, err = s.store.User(ctx, e.sess.User); errors.Is(err, ErrNotFound) {
			return User{}, ErrBadCredentials
		} else if err != nil {
			return User{}, err
		}
		e.user.PassHash = ""
		e.until = now.Add(sessionCacheTTL)
		s.cache.put(h, e, gen)
	}
	if !now.Before(e.sess.Expires) || e.user.Disabled || e.user.Epoch != e.sess.Epoch {
		return User{}, ErrBadCredentials
	}
	return e.user, nil
}

// sessionEnds tells the long requests of a session (event streams) that it ended on
// this node, so that they end at once; a session ended on another node ends them at
// their next Recheck.
type sessionEnds struct {
	mu sync.Mutex
	// by maps the hash of a session token to the channels of its open requests.
	by map[string]map[chan struct{}]struct{}
}

// watch returns a channel closed when the session of tokenHash ends here, and a
// function that stops watching.
func (e *sessionEnds) watch(tokenHash string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	e.mu.Lock()
	if e.by == nil {
		e.by = map[string]map[chan struct{}]struct{}{}
	}
	if e.by[tokenHash] == nil {
		e.by[tokenHash] = map[chan struct{}]struct{}{}
	}
	e.by[tokenHash][ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if set := e.by[tokenHash]; set != nil {
			if _, ok := set[ch]; ok {
				delete(set, ch)
				close(ch)
			}
			if len(set) == 0 {
				delete(e.by, tokenHash)
			}
		}
	}
}

// end closes the channels of the session of tokenHash.
func (e *sessionEnds) end(tokenHash string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.by[tokenHash] {
		close(ch)
	}
	delete(e.by, tokenHash)
}

// Ends returns a channel that is closed when the session r was admitted with is signed
// out on this node, and a function to call when r is done. A long request (the event
// stream) selects on it to end with the session.
func (s *Service) Ends(r *http.Request) (<-chan struct{}, func()) {
	return s.ends.watch(secret.Hash(requestToken(r)))
}

// requestToken is the token r carries: the bearer token, or else the session cookie.
func requestToken(r *http.Request) string {
	if t := bearer(r); t != "" {
		return t
	}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		return ck.Value
	}
	return ""
}
