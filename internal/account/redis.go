package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Client is required; it may be a single node, Sentinel or Cluster client.
	Client redis.UniversalClient
	// Prefix starts every key; empty means "kefu:", as for the desk's RedisStore.
	Prefix string
	// Now is the clock that turns a session's Expires into a key's time to live; nil
	// means time.Now.
	Now func() time.Time
}

// RedisStore keeps users and API tokens in two hashes, PREFIX{u}:users (name → user)
// and PREFIX{u}:tokens (id → token), and each session in a key of its own,
// PREFIX{s}:HASH, which Redis deletes when the session expires. Values are JSON.
type RedisStore struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore returns a RedisStore.
func NewRedisStore(cfg RedisConfig) (*RedisStore, error) {
	if cfg.Client == nil {
		return nil, errors.New("account: RedisConfig.Client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "kefu:"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RedisStore{rdb: cfg.Client, prefix: cfg.Prefix, now: cfg.Now}, nil
}

func (s *RedisStore) usersKey() string           { return s.prefix + "{u}:users" }
func (s *RedisStore) tokensKey() string          { return s.prefix + "{u}:tokens" }
func (s *RedisStore) sessionKey(h string) string { return s.prefix + "{s}:" + h }

// PutUser implements Store.
func (s *RedisStore) PutUser(ctx context.Context, u User, create bool) error {
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encoding user: %w", err)
	}
	if !create {
		if err := s.rdb.HSet(ctx, s.usersKey(), u.Name, b).Err(); err != nil {
			return fmt.Errorf("storing user: %w", err)
		}
		return nil
	}
	ok, err := s.rdb.HSetNX(ctx, s.usersKey(), u.Name, b).Result()
	if err != nil {
		return fmt.Errorf("storing user: %w", err)
	}
	if !ok {
		return ErrUserExists
	}
	return nil
}

// User implements Store.
func (s *RedisStore) User(ctx context.Context, name string) (User, error) {
	return hget[User](ctx, s.rdb, s.usersKey(), name, "user")
}

// Users implements Store.
func (s *RedisStore) Users(ctx context.Context) ([]User, error) {
	return hvals[User](ctx, s.rdb, s.usersKey(), "users")
}

// PutSession implements Store.
func (s *RedisStore) PutSession(ctx context.Context, h string, sess Session) error {
	b, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encoding session: %w", err)
	}
	if err := s.rdb.Set(ctx, s.sessionKey(h), b, max(sess.Expires.Sub(s.now()), time.Millisecond)).Err(); err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	return nil
}

// Session implements Store.
func (s *RedisStore) Session(ctx context.Context, h string) (Session, error) {
	raw, err := s.rdb.Get(ctx, s.sessionKey(h)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("reading session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return Session{}, fmt.Errorf("decoding session: %w", err)
	}
	return sess, nil
}

// DeleteSession implements Store.
func (s *RedisStore) DeleteSession(ctx context.Context, h string) error {
	if err := s.rdb.Del(ctx, s.sessionKey(h)).Err(); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// PutToken implements Store.
func (s *RedisStore) PutToken(ctx context.Context, t APIToken) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding API token: %w", err)
	}
	if err := s.rdb.HSet(ctx, s.tokensKey(), t.ID, b).Err(); err != nil {
		return fmt.Errorf("storing API token: %w", err)
	}
	return nil
}

// Token implements Store.
func (s *RedisStore) Token(ctx context.Context, id string) (APIToken, error) {
	return hget[APIToken](ctx, s.rdb, s.tokensKey(), id, "API token")
}

// Tokens implements Store.
func (s *RedisStore) Tokens(ctx context.Context) ([]APIToken, error) {
	return hvals[APIToken](ctx, s.rdb, s.tokensKey(), "API tokens")
}

// DeleteToken implements Store.
func (s *RedisStore) DeleteToken(ctx context.Context, id string) error {
	n, err := s.rdb.HDel(ctx, s.tokensKey(), id).Result()
	if err != nil {
		return fmt.Errorf("deleting API token: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// hget reads and decodes the field of a hash, or returns ErrNotFound; what names the
// value in errors.
func hget[T any](ctx context.Context, rdb redis.UniversalClient, key, field, what string) (T, error) {
	var v T
	raw, err := rdb.HGet(ctx, key, field).Bytes()
	if errors.Is(err, redis.Nil) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("reading %s: %w", what, err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decoding %s: %w", what, err)
	}
	return v, nil
}

// hvals reads and decodes every value of a hash.
func hvals[T any](ctx context.Context, rdb redis.UniversalClient, key, what string) ([]T, error) {
	raws, err := rdb.HVals(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	out := make([]T, 0, len(raws))
	for _, raw := range raws {
		var v T
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, nil
}

var _ Broadcaster = (*RedisStore)(nil)

func (s *RedisStore) changesChannel() string { return s.prefix + "{u}:changed" }

// Changed implements Broadcaster: it publishes key on PREFIX{u}:changed.
func (s *RedisStore) Changed(ctx context.Context, key string) error {
	if err := s.rdb.Publish(ctx, s.changesChannel(), key).Err(); err != nil {
		return fmt.Errorf("announcing a change of %s: %w", key, err)
	}
	return nil
}

// Listen implements Broadcaster; it returns at the first error of the subscription,
// since messages may have been lost with it.
func (s *RedisStore) Listen(ctx context.Context, f func(key string)) error {
	ps := s.rdb.Subscribe(ctx, s.changesChannel())
	defer ps.Close()
	// A read of the subscription does not end with ctx; closing it ends the read.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	if _, err := ps.Receive(ctx); err != nil {
		return fmt.Errorf("subscribing to changes of users: %w", err)
	}
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("receiving changes of users: %w", err)
		}
		f(msg.Payload)
	}
}
