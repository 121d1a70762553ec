package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// tokensKey is the hash of the API tokens, by ID, beside the users.
func (s *RedisStore) tokensKey() string { return s.prefix + "{u}:tokens" }

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
	raw, err := s.rdb.HGet(ctx, s.tokensKey(), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return APIToken{}, ErrNotFound
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("reading API token: %w", err)
	}
	var t APIToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return APIToken{}, fmt.Errorf("decoding API token: %w", err)
	}
	return t, nil
}

// Tokens implements Store.
func (s *RedisStore) Tokens(ctx context.Context) ([]APIToken, error) {
	m, err := s.rdb.HGetAll(ctx, s.tokensKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("reading API tokens: %w", err)
	}
	out := make([]APIToken, 0, len(m))
	for _, raw := range m {
		var t APIToken
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			return nil, fmt.Errorf("decoding API token: %w", err)
		}
		out = append(out, t)
	}
	sortTokens(out)
	return out, nil
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
