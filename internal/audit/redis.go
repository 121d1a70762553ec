package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/redis/go-redis/v9"
)

// RedisStore keeps the audit log in the stream PREFIX{audit}:log, one field "e" of JSON
// per entry; the stream's IDs are the entries'. It is capped with XADD MAXLEN ~, so it
// holds at least the newest max entries (a little more until Redis trims a whole node).
type RedisStore struct {
	rdb redis.UniversalClient
	key string
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore returns a RedisStore; prefix "" means "kefu:".
func NewRedisStore(rdb redis.UniversalClient, prefix string) (*RedisStore, error) {
	if rdb == nil {
		return nil, errors.New("audit: a Redis client is required")
	}
	if prefix == "" {
		prefix = "kefu:"
	}
	return &RedisStore{rdb: rdb, key: prefix + "{audit}:log"}, nil
}

// Append implements Store.
func (s *RedisStore) Append(ctx context.Context, e Entry, max int) (Entry, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return Entry{}, fmt.Errorf("encoding audit entry: %w", err)
	}
	id, err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.key, MaxLen: int64(max), Approx: true, Values: []any{"e", raw}}).Result()
	if err != nil {
		return Entry{}, fmt.Errorf("appending to the audit log: %w", err)
	}
	e.ID = id
	return e, nil
}

// streamID is what a stream entry's ID looks like.
var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// List implements Store.
func (s *RedisStore) List(ctx context.Context, limit int, before string) ([]Entry, error) {
	end := "+"
	if before != "" {
		if !streamID.MatchString(before) {
			return nil, ErrBadCursor
		}
		end = "(" + before
	}
	msgs, err := s.rdb.XRevRangeN(ctx, s.key, end, "-", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["e"].(string)
		var e Entry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, fmt.Errorf("decoding audit entry %s: %w", m.ID, err)
		}
		e.ID = m.ID
		out = append(out, e)
	}
	return out, nil
}
