// Package redisstore keeps the webhooks (package webhook) in Redis, shared by the nodes.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/internal/secret"
	"github.com/kefu-im/kefu/internal/webhook"
	"github.com/redis/go-redis/v9"
)

// Store is the Redis engine's webhook.Store. The queue is a stream read through a consumer
// group, so that any node delivers: a node reads new entries (XREADGROUP), and entries
// a node read and left unacknowledged for longer than the lease (it died, or hangs) are
// taken over by another (XAUTOCLAIM). An entry is acknowledged and deleted once
// delivered or given up. A delivery to retry leaves the stream for a sorted set scored
// by its due time, from which the first node to look moves it back, atomically, when it
// is due.
type Store struct {
	rdb      redis.UniversalClient
	stream   string
	retries  string
	points   string
	log      string
	group    string
	consumer string
	// grouped is set once the consumer group exists.
	grouped atomic.Bool
}

var _ webhook.Store = (*Store)(nil)

// New returns the store under prefix (empty: "kefu:") on rdb. It does not reach Redis,
// so that a node starts while Redis is not up yet: the first Due creates the consumer
// group, which reads the queue from its start, deliveries enqueued before included.
func New(rdb redis.UniversalClient, prefix string) (*Store, error) {
	if prefix == "" {
		prefix = "kefu:"
	}
	s := &Store{
		rdb: rdb, stream: prefix + "webhook:queue", retries: prefix + "webhook:retries",
		points: prefix + "webhook:endpoints", log: prefix + "webhook:log:", group: "deliverers",
		consumer: secret.New("node_"),
	}
	return s, nil
}

// ensureGroup creates the consumer group unless this store has seen it.
func (s *Store) ensureGroup(ctx context.Context) error {
	if s.grouped.Load() {
		return nil
	}
	err := s.rdb.XGroupCreateMkStream(ctx, s.stream, s.group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("creating the webhook consumer group: %w", err)
	}
	s.grouped.Store(true)
	return nil
}

// AddEndpoint implements webhook.Store.
func (s *Store) AddEndpoint(ctx context.Context, e webhook.Endpoint) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.rdb.HSet(ctx, s.points, e.ID, raw).Err()
}

// Endpoints implements webhook.Store.
func (s *Store) Endpoints(ctx context.Context) ([]webhook.Endpoint, error) {
	all, err := s.rdb.HGetAll(ctx, s.points).Result()
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Endpoint, 0, len(all))
	for id, raw := range all {
		var e webhook.Endpoint
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, fmt.Errorf("reading webhook endpoint %q: %w", id, err)
		}
		out = append(out, e)
	}
	webhook.SortEndpoints(out)
	return out, nil
}

// DeleteEndpoint implements webhook.Store.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	n, err := s.rdb.HDel(ctx, s.points, id).Result()
	if err != nil {
		return err
	}
	if n == 0 {
		return webhook.ErrNotFound
	}
	return s.rdb.Del(ctx, s.log+id).Err()
}

// Enqueue implements webhook.Store: every delivery is added to the stream in one transaction.
func (s *Store) Enqueue(ctx context.Context, ds []webhook.Delivery) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, d := range ds {
			raw, err := json.Marshal(d)
			if err != nil {
				return err
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: s.stream, Values: []any{"d", raw}})
		}
		return nil
	})
	return err
}

// promote moves the retries due by ARGV[1] (ms) from the sorted set KEYS[1] to the
// stream KEYS[2], at most ARGV[2] of them.
var promote = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, d in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'd', d)
  redis.call('ZREM', KEYS[1], d)
end
return #due
`)

// Due implements webhook.Store: retries come due are moved to the stream; then this node takes
// over what other nodes left pending longer than lease, and reads new entries.
func (s *Store) Due(ctx context.Context, now time.Time, lease time.Duration, n int) ([]webhook.Delivery, error) {
	if err := s.ensureGroup(ctx); err != nil {
		return nil, err
	}
	if err := promote.Run(ctx, s.rdb, []string{s.retries, s.stream}, now.UnixMilli(), n).Err(); err != nil {
		return nil, fmt.Errorf("moving due webhook retries: %w", err)
	}
	var out []webhook.Delivery
	take := func(msgs []redis.XMessage) error {
		for _, m := range msgs {
			raw, _ := m.Values["d"].(string)
			var d webhook.Delivery
			if err := json.Unmarshal([]byte(raw), &d); err != nil {
				// Not a delivery: drop it rather than block the queue.
				s.rdb.XAck(ctx, s.stream, s.group, m.ID)
				s.rdb.XDel(ctx, s.stream, m.ID)
				continue
			}
			d.Ref = m.ID
			out = append(out, d)
		}
		return nil
	}
	claimed, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: s.stream, Group: s.group, Consumer: s.consumer, MinIdle: lease, Start: "0-0", Count: int64(n),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("taking over webhook deliveries: %w", err)
	}
	take(claimed)
	if len(out) >= n {
		return out, nil
	}
	streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: s.group, Consumer: s.consumer, Streams: []string{s.stream, ">"}, Count: int64(n - len(out)), Block: -1,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the webhook queue: %w", err)
	}
	for _, st := range streams {
		take(st.Messages)
	}
	return out, nil
}

// Done implements webhook.Store.
func (s *Store) Done(ctx context.Context, d webhook.Delivery) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, s.stream, s.group, d.Ref)
		p.XDel(ctx, s.stream, d.Ref)
		return nil
	})
	return err
}

// Retry implements webhook.Store: the delivery leaves the stream for the sorted set of
// retries, in one transaction.
func (s *Store) Retry(ctx context.Context, d webhook.Delivery) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.retries, redis.Z{Score: float64(d.NextAt.UnixMilli()), Member: raw})
		p.XAck(ctx, s.stream, s.group, d.Ref)
		p.XDel(ctx, s.stream, d.Ref)
		return nil
	})
	return err
}

// Record implements webhook.Store.
func (s *Store) Record(ctx context.Context, endpoint string, a webhook.Attempt) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, s.log+endpoint, raw)
		p.LTrim(ctx, s.log+endpoint, 0, webhook.LogSize-1)
		return nil
	})
	return err
}

// Attempts implements webhook.Store.
func (s *Store) Attempts(ctx context.Context, endpoint string) ([]webhook.Attempt, error) {
	raws, err := s.rdb.LRange(ctx, s.log+endpoint, 0, -1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Attempt, 0, len(raws))
	for i, raw := range raws {
		var a webhook.Attempt
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			return nil, fmt.Errorf("reading entry %s of the webhook log of %q: %w", strconv.Itoa(i), endpoint, err)
		}
		out = append(out, a)
	}
	return out, nil
}
