package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Client is required: a single node, Sentinel or Cluster client.
	Client redis.UniversalClient
	// Prefix starts every key and the event channel; empty means "kefu:".
	Prefix string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// RedisStore is the Store on Redis. Key layout (docs/handoff.md): each conversation's keys
// share the hash tag {c:ID}; the routing state (queues, owners, agents' presence and the
// pending routing changes) shares {q}.
type RedisStore struct {
	*hub
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
	log    zerolog.Logger
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore returns a RedisStore. It does not contact Redis; Ping does.
func NewRedisStore(cfg RedisConfig) (*RedisStore, error) {
	if cfg.Client == nil {
		return nil, errors.New("handoff: RedisConfig.Client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "kefu:"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RedisStore{hub: newHub(), rdb: cfg.Client, prefix: cfg.Prefix, now: cfg.Now, log: cfg.Logger}, nil
}

func (s *RedisStore) convKeys(id string) []string {
	tag := s.prefix + "{c:" + id + "}:"
	return []string{tag + "meta", tag + "log", tag + "ids"}
}

func (s *RedisStore) queueKey(name string) string { return s.prefix + "{q}:" + name }
func (s *RedisStore) channel() string             { return s.prefix + "events" }

// Create implements Store.
func (s *RedisStore) Create(ctx context.Context, c Conversation) error {
	args := []any{
		"id", c.ID, "token", c.TokenHash, "epoch", c.Epoch, "status", c.Status,
		"seq", 0, "created", c.CreatedAt.UnixMilli(),
	}
	if c.Shopper != nil {
		b, err := json.Marshal(c.Shopper)
		if err != nil {
			return fmt.Errorf("encoding shopper: %w", err)
		}
		args = append(args, "shopper", b)
	}
	n, err := createScript.Run(ctx, s.rdb, s.convKeys(c.ID)[:1], args...).Int()
	if err != nil {
		return fmt.Errorf("creating conversation: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("creating conversation %q: already exists", c.ID)
	}
	return nil
}

// Conversation implements Store.
func (s *RedisStore) Conversation(ctx context.Context, id string) (Conversation, error) {
	m, err := s.rdb.HGetAll(ctx, s.convKeys(id)[0]).Result()
	if err != nil {
		return Conversation{}, fmt.Errorf("reading conversation: %w", err)
	}
	if len(m) == 0 {
		return Conversation{}, ErrNotFound
	}
	return parseMeta(m)
}

func parseMeta(m map[string]string) (Conversation, error) {
	ms := func(k string) time.Time {
		v, _ := strconv.ParseInt(m[k], 10, 64)
		if v == 0 {
			return time.Time{}
		}
		return time.UnixMilli(v)
	}
	seq, _ := strconv.ParseInt(m["seq"], 10, 64)
	vip, _ := strconv.Atoi(m["vip"])
	c := Conversation{
		ID: m["id"], TokenHash: m["token"], Epoch: m["epoch"], Status: m["status"],
		Group: m["group"], Agent: m["agent"], Reason: m["reason"], Intent: m["intent"],
		VIP: vip, Seq: seq, CreatedAt: ms("created"), EnqueuedAt: ms("enqueued"), ClaimedAt: ms("claimed"),
		ClosedAt: ms("closed"),
	}
	if raw := m["context"]; raw != "" {
		c.Context = new(Context)
		if err := json.Unmarshal([]byte(raw), c.Context); err != nil {
			return Conversation{}, fmt.Errorf("decoding context of %q: %w", c.ID, err)
		}
	}
	if raw := m["shopper"]; raw != "" {
		c.Shopper = new(Shopper)
		if err := json.Unmarshal([]byte(raw), c.Shopper); err != nil {
			return Conversation{}, fmt.Errorf("decoding shopper of %q: %w", c.ID, err)
		}
	}
	return c, nil
}

// Append implements Store.
func (s *RedisStore) Append(ctx context.Context, id string, m Message) (Message, bool, error) {
	return s.Apply(ctx, id, Transition{}, m)
}

// Apply implements Store.
func (s *RedisStore) Apply(ctx context.Context, id string, t Transition, m Message) (Message, bool, error) {
	if m.ID == "" {
		return Message{}, false, fmt.Errorf("appending to %q: message without id", id)
	}
	now := s.now()
	m.Seq = 0
	m.TS = now.UnixMilli()
	body, err := json.Marshal(m)
	if err != nil {
		return Message{}, false, fmt.Errorf("encoding message: %w", err)
	}
	args := []any{m.ID, body, strings.Join(t.From, ","), t.To, t.Owner}
	switch t.To {
	case StatusQueued:
		ctxJSON := []byte("")
		if t.Context != nil {
			if ctxJSON, err = json.Marshal(t.Context); err != nil {
				return Message{}, false, fmt.Errorf("encoding context: %w", err)
			}
		}
		since := now
		if !t.Since.IsZero() {
			since = t.Since
		}
		args = append(args, "group", t.Group, "reason", t.Reason, "intent", t.Intent,
			"context", ctxJSON, "enqueued", since.UnixMilli(), "vip", t.VIP, "agent", "")
	case StatusActive:
		args = append(args, "agent", t.Agent, "claimed", now.UnixMilli())
		if !t.Since.IsZero() {
			args = append(args, "enqueued", t.Since.UnixMilli())
		}
	case StatusResolved:
		args = append(args, "closed", now.UnixMilli())
	}
	res, err := applyScript.Run(ctx, s.rdb, s.convKeys(id), args...).Slice()
	if err != nil {
		return Message{}, false, fmt.Errorf("appending to conversation: %w", err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0:
		m.Seq = res[1].(int64)
		return m, false, nil
	case 1:
		seq := res[1].(int64)
		got, err := s.Messages(ctx, id, seq-1, 1)
		if err != nil {
			return Message{}, false, err
		}
		if len(got) != 1 {
			return Message{}, false, fmt.Errorf("record %d of %q missing from the log", seq, id)
		}
		return got[0], true, nil
	case -1:
		return Message{}, false, ErrNotFound
	default:
		status, _ := res[1].(string)
		agent, _ := res[2].(string)
		if err := checkTransition(status, agent, t); err != nil {
			return Message{}, false, err
		}
		return Message{}, false, ErrWrongStatus
	}
}

// Messages implements Store.
func (s *RedisStore) Messages(ctx context.Context, id string, after int64, limit int) ([]Message, error) {
	if after < 0 {
		after = 0
	}
	key := s.convKeys(id)[1]
	start := strconv.FormatInt(after+1, 10) + "-0"
	var (
		xs  []redis.XMessage
		err error
	)
	if limit > 0 {
		xs, err = s.rdb.XRangeN(ctx, key, start, "+", int64(limit)).Result()
	} else {
		xs, err = s.rdb.XRange(ctx, key, start, "+").Result()
	}
	if err != nil {
		return nil, fmt.Errorf("reading log: %w", err)
	}
	out := make([]Message, 0, len(xs))
	for _, x := range xs {
		var m Message
		raw, _ := x.Values["m"].(string)
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("decoding record %s of %q: %w", x.ID, id, err)
		}
		seqPart, _, _ := strings.Cut(x.ID, "-")
		m.Seq, _ = strconv.ParseInt(seqPart, 10, 64)
		out = append(out, m)
	}
	if len(out) == 0 {
		if n, err := s.rdb.Exists(ctx, s.convKeys(id)[0]).Result(); err == nil && n == 0 {
			return nil, ErrNotFound
		}
	}
	return out, nil
}

// loadAll reads the conversations of ids in one pipeline and splits them by keep.
func (s *RedisStore) loadAll(ctx context.Context, ids []string, keep func(Conversation) bool) ([]Conversation, []any, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.convKeys(id)[0])
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("reading conversations: %w", err)
	}
	var (
		out   []Conversation
		stale []any
	)
	for i, cmd := range cmds {
		m := cmd.Val()
		if len(m) == 0 {
			stale = append(stale, ids[i])
			continue
		}
		c, err := parseMeta(m)
		if err != nil {
			return nil, nil, err
		}
		if !keep(c) {
			stale = append(stale, ids[i])
			continue
		}
		out = append(out, c)
	}
	return out, stale, nil
}

func sortByClaim(cs []Conversation) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].ClaimedAt.Before(cs[j-1].ClaimedAt); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// RecordWait implements Store.
func (s *RedisStore) RecordWait(ctx context.Context, d time.Duration) error {
	key := s.queueKey("waits")
	pipe := s.rdb.TxPipeline()
	pipe.LPush(ctx, key, d.Milliseconds())
	pipe.LTrim(ctx, key, 0, maxRecentWaits-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("recording wait: %w", err)
	}
	return nil
}

// RecentWaits implements Store.
func (s *RedisStore) RecentWaits(ctx context.Context) ([]time.Duration, error) {
	vals, err := s.rdb.LRange(ctx, s.queueKey("waits"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading waits: %w", err)
	}
	out := make([]time.Duration, 0, len(vals))
	for _, v := range vals {
		ms, _ := strconv.ParseInt(v, 10, 64)
		out = append(out, time.Duration(ms)*time.Millisecond)
	}
	return out, nil
}

// Publish implements Store. The event reaches this node's subscribers through Redis too,
// so there is one path for every event.
func (s *RedisStore) Publish(ctx context.Context, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if err := s.rdb.Publish(ctx, s.channel(), b).Err(); err != nil {
		return fmt.Errorf("publishing event: %w", err)
	}
	return nil
}

// Subscribe implements Store.
func (s *RedisStore) Subscribe(conv string) *Subscription { return s.subscribe(conv) }

// Run implements Store: it subscribes to the event channel and hands each event to this
// node's subscribers. Every (re)subscription is announced as a resync event, because
// events published while the connection was down are lost.
func (s *RedisStore) Run(ctx context.Context) error {
	ps := s.rdb.Subscribe(ctx, s.channel())
	// Receive blocks in a read that ignores ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	defer ps.Close()
	backoff := 50 * time.Millisecond
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn().Err(err).Msg("event subscription interrupted; reconnecting")
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				s.deliver(Event{Type: EventResync})
			}
		case *redis.Message:
			var e Event
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
				s.log.Warn().Err(err).Msg("ignoring malformed event")
				continue
			}
			s.deliver(e)
		}
	}
}

// Ping implements Store.
func (s *RedisStore) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Close implements Store. It does not close the client, which the caller owns.
func (s *RedisStore) Close() error { return nil }
