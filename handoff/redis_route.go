package handoff

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis engine's routing: the keys under {q} and the scripts of redis_scripts.go.

func (s *RedisStore) waitKey(group string) string  { return s.queueKey("wait:" + group) }
func (s *RedisStore) ownedKey(agent string) string { return s.queueKey("owned:" + agent) }

// unusedKey stands in KEYS for a key a script will not touch in this call; it carries the
// hash tag so that every key of the call is in one slot.
func (s *RedisStore) unusedKey() string { return s.queueKey("none") }

// queueOf and ownedOf name the queue or owned set r puts a conversation in, or unusedKey.
func (s *RedisStore) queueOf(r *Route) string {
	if r == nil || r.Agent != "" {
		return s.unusedKey()
	}
	return s.waitKey(r.Group)
}

func (s *RedisStore) ownedOf(r *Route) string {
	if r == nil || r.Agent == "" {
		return s.unusedKey()
	}
	return s.ownedKey(r.Agent)
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Waiting implements Store.
func (s *RedisStore) Waiting(ctx context.Context) ([]Conversation, error) {
	groups, err := s.rdb.SMembers(ctx, s.queueKey("groups")).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the queues: %w", err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.ZSliceCmd, len(groups))
	for i, g := range groups {
		cmds[i] = pipe.ZRangeWithScores(ctx, s.waitKey(g), 0, -1)
	}
	if len(groups) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("reading the queues: %w", err)
		}
	}
	var zs []redis.Z
	for _, c := range cmds {
		zs = append(zs, c.Val()...)
	}
	sort.Slice(zs, func(i, j int) bool {
		if zs[i].Score != zs[j].Score {
			return zs[i].Score < zs[j].Score
		}
		return zs[i].Member.(string) < zs[j].Member.(string)
	})
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.Member.(string)
	}
	// A queue entry joins after its conversation says queued and leaves before it says
	// otherwise, so the filter only hides a claim between its two writes.
	cs, _, err := s.loadAll(ctx, ids, func(c Conversation) bool { return c.Status == StatusQueued })
	return cs, err
}

// Owned implements Store.
func (s *RedisStore) Owned(ctx context.Context, agent string) ([]Conversation, error) {
	ids, err := s.rdb.SMembers(ctx, s.ownedKey(agent)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading owned conversations: %w", err)
	}
	// A conversation whose record does not say so yet is in a claim or transfer between
	// its two writes; it shows once the second is done.
	cs, _, err := s.loadAll(ctx, ids, func(c Conversation) bool {
		return c.Status == StatusActive && c.Agent == agent
	})
	if err != nil {
		return nil, err
	}
	sortByClaim(cs)
	return cs, nil
}

// Load implements Store.
func (s *RedisStore) Load(ctx context.Context, agent string) (int, error) {
	n, err := s.rdb.SCard(ctx, s.ownedKey(agent)).Result()
	if err != nil {
		return 0, fmt.Errorf("reading the load of %q: %w", agent, err)
	}
	return int(n), nil
}

// RouteState implements Store.
func (s *RedisStore) RouteState(ctx context.Context, conv string) (RouteState, error) {
	pipe := s.rdb.TxPipeline()
	route := pipe.HGet(ctx, s.queueKey("route"), conv)
	rev := pipe.HGet(ctx, s.queueKey("rev"), conv)
	pend := pipe.HMGet(ctx, s.queueKey("pending"), conv, conv+":p", conv+":n", conv+":d")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return RouteState{}, fmt.Errorf("reading the route of %q: %w", conv, err)
	}
	var st RouteState
	var err error
	if st.Route, err = decodeRoute(route.Val()); err != nil {
		return RouteState{}, err
	}
	st.Rev, _ = strconv.ParseInt(rev.Val(), 10, 64)
	if vals := pend.Val(); len(vals) == 4 && vals[0] != nil {
		op, err := decodeOp(conv, str(vals[0]), str(vals[1]), str(vals[2]), str(vals[3]))
		if err != nil {
			return RouteState{}, err
		}
		st.Pending = &op
	}
	return st, nil
}

func str(v any) string { s, _ := v.(string); return s }

// Reroute implements Store.
func (s *RedisStore) Reroute(ctx context.Context, ch RouteChange) (RouteOp, error) {
	op := ch.Op
	op.Conv, op.Rev, op.Prev, op.Next = ch.Conv, ch.Rev+1, ch.Prev, ch.Next
	op.At = time.UnixMilli(op.At.UnixMilli())
	keys := []string{
		s.queueKey("route"), s.queueKey("rev"), s.queueKey("pending"), s.queueKey("pendingat"),
		s.queueOf(ch.Prev), s.ownedOf(ch.Prev), s.ownedOf(ch.Next),
	}
	args := []any{ch.Conv, ch.Rev, encodeRoute(ch.Prev), encodeRoute(ch.Next), ch.Cap, encodeOpHeader(op), string(op.Data), ms(op.At)}
	code, err := rerouteScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return RouteOp{}, fmt.Errorf("routing %q: %w", ch.Conv, err)
	}
	switch code {
	case 0:
		return op, nil
	case -1:
		return RouteOp{}, errConflict
	case -2:
		return RouteOp{}, errBusy
	default:
		return RouteOp{}, ErrAtCapacity
	}
}

// Assign implements Store.
func (s *RedisStore) Assign(ctx context.Context, group string, candidates []string, cutoff, at time.Time) (RouteOp, bool, error) {
	keys := []string{
		s.waitKey(group), s.queueKey("route"), s.queueKey("rev"), s.queueKey("pending"), s.queueKey("pendingat"),
		s.queueKey("agents"), s.queueKey("seen"),
	}
	args := []any{group, ms(cutoff), ms(at)}
	for _, a := range candidates {
		keys = append(keys, s.ownedKey(a))
		args = append(args, a)
	}
	res, err := assignScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return RouteOp{}, false, fmt.Errorf("assigning in %q: %w", group, err)
	}
	switch code, _ := res[0].(int64); code {
	case 0:
		return RouteOp{}, false, nil
	case -1:
		return RouteOp{}, false, errConflict
	case -2:
		return RouteOp{}, false, errBusy
	}
	conv := str(res[1])
	rev, _ := res[2].(int64)
	prev, err := decodeRoute(str(res[3]))
	if err != nil {
		return RouteOp{}, false, err
	}
	next, err := decodeRoute(str(res[4]))
	if err != nil {
		return RouteOp{}, false, err
	}
	return RouteOp{Conv: conv, Rev: rev, Kind: opAssign, Agent: next.Agent, To: next.Agent, At: time.UnixMilli(at.UnixMilli()), Prev: prev, Next: next}, true, nil
}

// FinishRoute implements Store.
func (s *RedisStore) FinishRoute(ctx context.Context, op RouteOp) error {
	group := ""
	if op.Next != nil {
		group = op.Next.Group
	}
	keys := []string{s.queueKey("route"), s.queueKey("pending"), s.queueKey("pendingat"), s.queueOf(op.Next), s.queueKey("groups")}
	if err := finishScript.Run(ctx, s.rdb, keys, op.Conv, op.Rev, group).Err(); err != nil {
		return fmt.Errorf("finishing the %s of %q: %w", op.Kind, op.Conv, err)
	}
	return nil
}

// UndoRoute implements Store.
func (s *RedisStore) UndoRoute(ctx context.Context, op RouteOp) error {
	keys := []string{
		s.queueKey("route"), s.queueKey("rev"), s.queueKey("pending"), s.queueKey("pendingat"),
		s.queueOf(op.Prev), s.ownedOf(op.Prev), s.ownedOf(op.Next), s.queueKey("groups"),
	}
	if err := undoScript.Run(ctx, s.rdb, keys, op.Conv, op.Rev).Err(); err != nil {
		return fmt.Errorf("undoing the %s of %q: %w", op.Kind, op.Conv, err)
	}
	return nil
}

// PendingRoutes implements Store.
func (s *RedisStore) PendingRoutes(ctx context.Context, before time.Time) ([]RouteOp, error) {
	convs, err := s.rdb.ZRangeByScore(ctx, s.queueKey("pendingat"), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + ms(before),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("reading pending routing changes: %w", err)
	}
	if len(convs) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(convs))
	for i, c := range convs {
		cmds[i] = pipe.HMGet(ctx, s.queueKey("pending"), c, c+":p", c+":n", c+":d")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("reading pending routing changes: %w", err)
	}
	var out []RouteOp
	for i, cmd := range cmds {
		vals := cmd.Val()
		if len(vals) != 4 || vals[0] == nil {
			continue // finished since
		}
		op, err := decodeOp(convs[i], str(vals[0]), str(vals[1]), str(vals[2]), str(vals[3]))
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, nil
}

// Heartbeat implements Store.
func (s *RedisStore) Heartbeat(ctx context.Context, p Presence) error {
	score := float64(p.Seen.UnixMilli())
	if p.Status == PresenceOffline {
		score = 0
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.queueKey("agents"), p.Agent, encodePresence(p))
	pipe.ZAdd(ctx, s.queueKey("seen"), redis.Z{Score: score, Member: p.Agent})
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("recording the presence of %q: %w", p.Agent, err)
	}
	return nil
}

// Presences implements Store.
func (s *RedisStore) Presences(ctx context.Context) ([]Presence, error) {
	m, err := s.rdb.HGetAll(ctx, s.queueKey("agents")).Result()
	if err != nil {
		return nil, fmt.Errorf("reading presences: %w", err)
	}
	out := make([]Presence, 0, len(m))
	for a, v := range m {
		p, err := decodePresence(a, v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out, nil
}

// Expired implements Store.
func (s *RedisStore) Expired(ctx context.Context, cutoff time.Time) ([]string, error) {
	as, err := s.rdb.ZRangeByScore(ctx, s.queueKey("seen"), &redis.ZRangeBy{Min: "-inf", Max: "(" + ms(cutoff)}).Result()
	if err != nil {
		return nil, fmt.Errorf("reading expired agents: %w", err)
	}
	sort.Strings(as)
	return as, nil
}

// Expire implements Store.
func (s *RedisStore) Expire(ctx context.Context, agent string, cutoff, at time.Time) ([]RouteOp, error) {
	keys := []string{
		s.queueKey("agents"), s.queueKey("seen"), s.ownedKey(agent), s.queueKey("route"), s.queueKey("rev"),
		s.queueKey("pending"), s.queueKey("pendingat"),
	}
	res, err := expireScript.Run(ctx, s.rdb, keys, agent, ms(cutoff), ms(at)).Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("expiring %q: %w", agent, err)
	}
	var ops []RouteOp
	for i := 0; i+3 < len(res); i += 4 {
		rev, _ := res[i+1].(int64)
		prev, err := decodeRoute(str(res[i+2]))
		if err != nil {
			return nil, err
		}
		next, err := decodeRoute(str(res[i+3]))
		if err != nil {
			return nil, err
		}
		ops = append(ops, RouteOp{Conv: str(res[i]), Rev: rev, Kind: opRequeue, Agent: agent, Enter: true, At: time.UnixMilli(at.UnixMilli()), Prev: prev, Next: next})
	}
	return ops, nil
}

// LegacyWaiting implements Store.
func (s *RedisStore) LegacyWaiting(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, s.queueKey("waiting"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the old waiting index: %w", err)
	}
	return ids, nil
}

// ForgetLegacy implements Store.
func (s *RedisStore) ForgetLegacy(ctx context.Context, id string) error {
	if err := s.rdb.ZRem(ctx, s.queueKey("waiting"), id).Err(); err != nil {
		return fmt.Errorf("removing %q from the old waiting index: %w", id, err)
	}
	return nil
}
