package account

import (
	"context"
	"errors"

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

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.store.DeleteSession(ctx, secret.Hash(token))
}

// Authenticate returns the user of a session token or of an API token (see APIToken),
// without the password hash, or ErrBadCredentials. A session of a disabled user, or of
// an earlier epoch (User.Epoch), gives ErrBadCredentials: it reads the stored user on
// every call, so a change on one node holds on every node at once.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrBadCredentials
	}
	if isAPIToken(token) {
		return s.authenticateToken(ctx, token)
	}
	sess, err := s.store.Session(ctx, secret.Hash(token))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	if !s.now().Before(sess.Expires) {
		return User{}, ErrBadCredentials
	}
	u, err := s.store.User(ctx, sess.User)
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrBadCredentials
	}
	if err == nil && (u.Disabled || u.Epoch != sess.Epoch) {
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	u.PassHash = ""
	return u, nil
}
