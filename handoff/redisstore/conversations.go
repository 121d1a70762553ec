package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
)

// Create implements handoff.Conversations.
func (s *Store) Create(ctx context.Context, c handoff.Conversation) error {
	c.Rev, c.Seq = 1, 0
	b, err := handoff.EncodeRecord(c)
	if err != nil {
		return err
	}
	n, err := createScript.Run(ctx, s.rdb, []string{s.recKey(c.ID)}, b).Int()
	if err != nil {
		return fmt.Errorf("creating conversation: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("creating conversation %q: %w", c.ID, handoff.ErrExists)
	}
	return nil
}

// Conversation implements handoff.Conversations.
func (s *Store) Conversation(ctx context.Context, id string) (handoff.Conversation, error) {
	m, err := s.rdb.HGetAll(ctx, s.recKey(id)).Result()
	if err != nil {
		return handoff.Conversation{}, fmt.Errorf("reading conversation: %w", err)
	}
	return decodeConv(id, m)
}

// Messages implements handoff.Conversations.
func (s *Store) Messages(ctx context.Context, id string, after int64, limit int) ([]handoff.Message, error) {
	start := strconv.FormatInt(max(after, 0)+1, 10) + "-0"
	var (
		xs  []redis.XMessage
		err error
	)
	if limit > 0 {
		xs, err = s.rdb.XRangeN(ctx, s.logKey(id), start, "+", int64(limit)).Result()
	} else {
		xs, err = s.rdb.XRange(ctx, s.logKey(id), start, "+").Result()
	}
	if err != nil {
		return nil, fmt.Errorf("reading log: %w", err)
	}
	out, err := decodeLog(id, xs)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if n, err := s.rdb.Exists(ctx, s.recKey(id)).Result(); err == nil && n == 0 {
			return nil, handoff.ErrNotFound
		}
	}
	return out, nil
}

func decodeLog(id string, xs []redis.XMessage) ([]handoff.Message, error) {
	out := make([]handoff.Message, 0, len(xs))
	for _, x := range xs {
		var m handoff.Message
		raw, _ := x.Values["m"].(string)
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("decoding record %s of %q: %w", x.ID, id, err)
		}
		seqPart, _, _ := strings.Cut(x.ID, "-")
		m.Seq, _ = strconv.ParseInt(seqPart, 10, 64)
		out = append(out, m)
	}
	return out, nil
}

// pending is a change being written, as the routing side keeps it until it is finished,
// so that any node can finish it.
type pending struct {
	ID     string            `json:"id"`
	Conv   string            `json:"conv"`
	Rev    int64             `json:"rev"`
	Prev   json.RawMessage   `json:"prev"`
	Next   json.RawMessage   `json:"next"`
	Append []handoff.Message `json:"append"`
	Owner  string            `json:"owner,omitempty"`
	Load   int               `json:"load,omitempty"`
	Waited int64             `json:"waited,omitempty"` // ms
	Keep   int               `json:"keep,omitempty"`
	// Tallies are the change's counters, added by whoever finishes it.
	Tallies []handoff.Tally `json:"tallies,omitempty"`
}

// moves is how a change moves the routing side, from the records before and after.
type moves struct {
	leave, join        bool // the queue
	from, to           handoff.Group
	left, joined       handoff.QueueKey
	unown, own         bool // the owners
	oldOwner, newOwner string
}

func movesOf(prev, next handoff.Conversation) moves {
	var m moves
	var inQ, toQ bool
	m.from, m.left, inQ = prev.Waiting()
	m.to, m.joined, toQ = next.Waiting()
	same := inQ && toQ && m.from == m.to && m.left == m.joined
	m.leave, m.join = inQ && !same, toQ && !same
	var had, has bool
	m.oldOwner, had = prev.Owner()
	m.newOwner, has = next.Owner()
	m.unown = had && (!has || m.oldOwner != m.newOwner)
	m.own = has && (!had || m.oldOwner != m.newOwner)
	return m
}

func (m moves) routing() bool { return m.leave || m.join || m.unown || m.own }

// Commit implements handoff.Conversations.
func (s *Store) Commit(ctx context.Context, ch handoff.Change) (handoff.Committed, error) {
	if ch.Next == nil {
		return s.write(ctx, ch.Conv, ch.Rev, nil, ch.Append, ch.Tallies, false)
	}
	if ch.Prev == nil {
		prev, err := s.Conversation(ctx, ch.Conv)
		if err != nil {
			return handoff.Committed{}, err
		}
		ch.Prev = &prev
	}
	next := *ch.Next
	next.ID = ch.Conv
	mv := movesOf(*ch.Prev, next)
	if !mv.routing() && ch.Owner == "" && ch.Waited <= 0 {
		return s.write(ctx, ch.Conv, ch.Rev, &next, ch.Append, ch.Tallies, false)
	}
	p, err := newPending(ch, next)
	if err != nil {
		return handoff.Committed{}, err
	}
	code, err := s.reserve(ctx, p, mv)
	if err != nil {
		return handoff.Committed{}, err
	}
	switch code {
	case -1:
		// A later routing change was made or the load moved, or this change was made
		// before.
		if res, ok, err := s.made(ctx, ch); err != nil || ok {
			return res, err
		}
		return handoff.Committed{}, handoff.ErrConflict
	case -2:
		// Another change is being written; a stale one is finished first.
		if err := s.finishStale(ctx, ch.Conv); err != nil {
			return handoff.Committed{}, err
		}
		time.Sleep(time.Millisecond)
		return handoff.Committed{}, handoff.ErrConflict
	}
	return s.complete(ctx, p, mv)
}

func newPending(ch handoff.Change, next handoff.Conversation) (pending, error) {
	b := make([]byte, 12)
	rand.Read(b)
	prev, err := handoff.EncodeRecord(*ch.Prev)
	if err != nil {
		return pending{}, err
	}
	nb, err := handoff.EncodeRecord(next)
	if err != nil {
		return pending{}, err
	}
	return pending{ID: hex.EncodeToString(b), Conv: ch.Conv, Rev: ch.Rev, Prev: prev, Next: nb, Append: ch.Append, Owner: ch.Owner, Load: ch.Load,
		Waited: ch.Waited.Milliseconds(), Keep: ch.KeepWaits, Tallies: ch.Tallies}, nil
}

// reserve runs the first step of a change that moves the routing side.
func (s *Store) reserve(ctx context.Context, p pending, mv moves) (int, error) {
	blob, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("encoding a change: %w", err)
	}
	load := "-1"
	if p.Owner != "" {
		load = strconv.Itoa(p.Load)
	}
	keys := []string{
		s.q("rev"), s.q("pending"), s.q("pendingat"),
		s.keyOr(mv.leave, func() string { return s.waitKey(mv.from) }),
		s.keyOr(mv.unown, func() string { return s.ownedKey(mv.oldOwner) }),
		s.keyOr(mv.own, func() string { return s.ownedKey(mv.newOwner) }),
		s.keyOr(p.Owner != "", func() string { return s.ownedKey(p.Owner) }),
		s.q("ver"), s.q("waits"),
	}
	args := []any{p.Conv, p.Rev, p.ID, blob, ms(s.now()), load, flag(mv.leave), string(mv.from),
		queueEvent(mv.from, mv.left, false), s.channel(), flag(mv.unown), flag(mv.own), p.Waited, p.Keep}
	code, err := reserveScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("routing %q: %w", p.Conv, err)
	}
	return code, nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// complete writes the conversation side of a reserved change and finishes it, or undoes
// it when the conversation side refuses it.
func (s *Store) complete(ctx context.Context, p pending, mv moves) (handoff.Committed, error) {
	next, err := handoff.DecodeRecord(p.Next)
	if err != nil {
		return handoff.Committed{}, err
	}
	// The tallies are added even when the conversation side was written before (a node
	// stopped between the steps): the done marker adds them once.
	res, err := s.write(ctx, p.Conv, p.Rev, &next, p.Append, p.Tallies, true)
	if errors.Is(err, handoff.ErrConflict) || errors.Is(err, handoff.ErrNotFound) {
		if uerr := s.undo(ctx, p, mv); uerr != nil {
			return handoff.Committed{}, uerr
		}
		return handoff.Committed{}, err
	}
	if err != nil {
		return handoff.Committed{}, err // still pending: finished by a retry or by Recover
	}
	keys := []string{s.q("pending"), s.q("pendingat"), s.keyOr(mv.join, func() string { return s.waitKey(mv.to) }), s.q("ver")}
	args := []any{p.Conv, p.ID, flag(mv.join), mv.joined.Score, string(mv.to), queueEvent(mv.to, mv.joined, true), s.channel()}
	if err := finishScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return handoff.Committed{}, fmt.Errorf("finishing a change of %q: %w", p.Conv, err)
	}
	return res, nil
}

func (s *Store) undo(ctx context.Context, p pending, mv moves) error {
	keys := []string{
		s.q("rev"), s.q("pending"), s.q("pendingat"),
		s.keyOr(mv.leave, func() string { return s.waitKey(mv.from) }),
		s.keyOr(mv.unown, func() string { return s.ownedKey(mv.oldOwner) }),
		s.keyOr(mv.own, func() string { return s.ownedKey(mv.newOwner) }),
		s.q("ver"),
	}
	args := []any{p.Conv, p.ID, p.Rev, flag(mv.leave), mv.left.Score, string(mv.from), queueEvent(mv.from, mv.left, true),
		s.channel(), flag(mv.unown), flag(mv.own)}
	if err := undoScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("undoing a change of %q: %w", p.Conv, err)
	}
	return nil
}

// write runs the commit script: the conversation's side of a change; then it adds the
// change's tallies when it stored the change, or (always) when it finishes a pending one.
func (s *Store) write(ctx context.Context, conv string, rev int64, next *handoff.Conversation, records []handoff.Message, tallies []handoff.Tally, always bool) (handoff.Committed, error) {
	rec := ""
	if next != nil {
		b, err := handoff.EncodeRecord(*next)
		if err != nil {
			return handoff.Committed{}, err
		}
		rec = string(b)
	}
	args := []any{conv, rev, rec, s.channel(), len(records)}
	for _, m := range records {
		if m.ID == "" {
			return handoff.Committed{}, fmt.Errorf("committing to %q: a record needs an id", conv)
		}
		m.Seq = 0
		b, err := json.Marshal(m)
		if err != nil {
			return handoff.Committed{}, fmt.Errorf("encoding a record: %w", err)
		}
		args = append(args, m.ID, b)
	}
	out, err := commitScript.Run(ctx, s.rdb, []string{s.recKey(conv), s.logKey(conv), s.idsKey(conv)}, args...).Slice()
	if err != nil {
		return handoff.Committed{}, fmt.Errorf("committing to %q: %w", conv, err)
	}
	switch code, _ := out[0].(int64); code {
	case -1:
		return handoff.Committed{}, handoff.ErrNotFound
	case -2:
		return handoff.Committed{}, handoff.ErrConflict
	}
	n := len(records)
	newRev, _ := out[n+1].(int64)
	last, _ := out[n+2].(int64)
	c, err := decodeConv(conv, map[string]string{"rec": str(out[n+3]), "rev": strconv.FormatInt(newRev, 10), "seq": strconv.FormatInt(last, 10)})
	if err != nil {
		return handoff.Committed{}, err
	}
	res := handoff.Committed{Conversation: c, Dup: out[0].(int64) == 1, Messages: make([]handoff.Message, n)}
	if !res.Dup || always {
		key := strconv.FormatInt(newRev, 10)
		if n > 0 {
			key = records[0].ID
		}
		if err := s.addTallies(ctx, conv, key, tallies); err != nil {
			return handoff.Committed{}, err
		}
	}
	for i, m := range records {
		got, _ := out[i+1].(int64)
		m.Seq = got
		if got < 0 {
			// Stored before: read back as stored.
			stored, err := s.Messages(ctx, conv, -got-1, 1)
			if err != nil {
				return handoff.Committed{}, err
			}
			if len(stored) == 1 {
				m = stored[0]
			}
		}
		res.Messages[i] = m
	}
	return res, nil
}

// made returns the result of ch when it was made before (its first record is stored).
func (s *Store) made(ctx context.Context, ch handoff.Change) (handoff.Committed, bool, error) {
	if len(ch.Append) == 0 {
		return handoff.Committed{}, false, nil
	}
	ok, err := s.rdb.HExists(ctx, s.idsKey(ch.Conv), ch.Append[0].ID).Result()
	if err != nil || !ok {
		return handoff.Committed{}, false, err
	}
	res, err := s.write(ctx, ch.Conv, 0, nil, ch.Append, nil, false)
	return res, err == nil, err
}

// finishStale finishes the pending change of conv if it is older than pendingAfter: its
// node most likely stopped between the steps.
func (s *Store) finishStale(ctx context.Context, conv string) error {
	at, err := s.rdb.ZScore(ctx, s.q("pendingat"), conv).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the pending change of %q: %w", conv, err)
	}
	if s.now().Sub(time.UnixMilli(int64(at))) < pendingAfter {
		return nil
	}
	return s.finishPending(ctx, conv)
}

// finishPending finishes the pending change of conv, whoever began it.
func (s *Store) finishPending(ctx context.Context, conv string) error {
	vals, err := s.rdb.HMGet(ctx, s.q("pending"), conv, conv+":c").Result()
	if err != nil {
		return fmt.Errorf("reading the pending change of %q: %w", conv, err)
	}
	blob := str(vals[1])
	if str(vals[0]) == "" || blob == "" {
		return nil // finished meanwhile
	}
	var p pending
	if err := json.Unmarshal([]byte(blob), &p); err != nil {
		return fmt.Errorf("decoding the pending change of %q: %w", conv, err)
	}
	prev, err := handoff.DecodeRecord(p.Prev)
	if err != nil {
		return err
	}
	next, err := handoff.DecodeRecord(p.Next)
	if err != nil {
		return err
	}
	s.log.Info().Str("conv", conv).Msg("finishing a change a stopped node left pending")
	_, err = s.complete(ctx, p, movesOf(prev, next))
	if errors.Is(err, handoff.ErrConflict) || errors.Is(err, handoff.ErrNotFound) {
		return nil // undone
	}
	return err
}

// Recover finishes every change pending for longer than pendingAfter. Listen calls it
// from time to time; it is safe on several nodes at once.
func (s *Store) Recover(ctx context.Context) error {
	convs, err := s.rdb.ZRangeByScore(ctx, s.q("pendingat"), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + ms(s.now().Add(-pendingAfter)),
	}).Result()
	if err != nil {
		return fmt.Errorf("reading pending changes: %w", err)
	}
	var errs []error
	for _, c := range convs {
		if err := s.finishPending(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Queue implements handoff.Conversations.
func (s *Store) Queue(ctx context.Context, group handoff.Group, limit int) ([]handoff.Conversation, error) {
	ids, err := s.rdb.ZRange(ctx, s.waitKey(group), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the queue of %q: %w", group, err)
	}
	// A conversation joins its queue after its record says queued and leaves it before
	// the record says otherwise: the filter hides only a change between its steps.
	return s.loadAll(ctx, ids, func(c handoff.Conversation) bool { return c.Status == handoff.StatusQueued })
}

// loadAll reads the records of ids in one pipeline and keeps those keep accepts.
func (s *Store) loadAll(ctx context.Context, ids []string, keep func(handoff.Conversation) bool) ([]handoff.Conversation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.recKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("reading conversations: %w", err)
	}
	var out []handoff.Conversation
	for i, cmd := range cmds {
		c, err := decodeConv(ids[i], cmd.Val())
		if errors.Is(err, handoff.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Place implements handoff.Conversations.
func (s *Store) Place(ctx context.Context, group handoff.Group, id string) (int, int64, error) {
	out, err := placeScript.Run(ctx, s.rdb, []string{s.waitKey(group), s.q("ver")}, id, string(group)).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the place of %q: %w", id, err)
	}
	return int(out[0] + 1), out[1], nil
}

// Owned implements handoff.Conversations.
func (s *Store) Owned(ctx context.Context, agent string) ([]handoff.Conversation, error) {
	ids, err := s.rdb.SMembers(ctx, s.ownedKey(agent)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the chats of %q: %w", agent, err)
	}
	// A chat whose record does not say so yet is in a change between its steps.
	cs, err := s.loadAll(ctx, ids, func(c handoff.Conversation) bool {
		return c.Status == handoff.StatusActive && c.Agent == agent
	})
	slices.SortStableFunc(cs, func(a, b handoff.Conversation) int { return a.ClaimedAt.Compare(b.ClaimedAt) })
	return cs, err
}

// Loads implements handoff.Conversations.
func (s *Store) Loads(ctx context.Context, agents ...string) ([]int, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(agents))
	for i, a := range agents {
		cmds[i] = pipe.SCard(ctx, s.ownedKey(a))
	}
	if len(agents) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("reading loads: %w", err)
		}
	}
	out := make([]int, len(agents))
	for i, c := range cmds {
		out[i] = int(c.Val())
	}
	return out, nil
}

// The roster is kept on the routing side too: the agents' presences in {q}:agents and
// the recent waits in {q}:waits.

// SetPresence implements handoff.Roster.
func (s *Store) SetPresence(ctx context.Context, p handoff.Presence, old *handoff.Presence) (bool, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("encoding presence: %w", err)
	}
	cmp, was := "0", ""
	if old != nil {
		o, err := json.Marshal(*old)
		if err != nil {
			return false, err
		}
		cmp, was = "1", string(o)
	}
	n, err := swapScript.Run(ctx, s.rdb, []string{s.q("agents")}, p.Agent, b, cmp, was).Int()
	if err != nil {
		return false, fmt.Errorf("storing the presence of %q: %w", p.Agent, err)
	}
	return n == 1, nil
}

// Presences implements handoff.Roster.
func (s *Store) Presences(ctx context.Context) ([]handoff.Presence, error) {
	m, err := s.rdb.HGetAll(ctx, s.q("agents")).Result()
	if err != nil {
		return nil, fmt.Errorf("reading presences: %w", err)
	}
	out := make([]handoff.Presence, 0, len(m))
	for a, v := range m {
		var p handoff.Presence
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return nil, fmt.Errorf("decoding the presence of %q: %w", a, err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b handoff.Presence) int { return strings.Compare(a.Agent, b.Agent) })
	return out, nil
}

// Waits implements handoff.Roster.
func (s *Store) Waits(ctx context.Context) ([]time.Duration, error) {
	vals, err := s.rdb.LRange(ctx, s.q("waits"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading waits: %w", err)
	}
	out := make([]time.Duration, 0, len(vals))
	for _, v := range vals {
		n, _ := strconv.ParseInt(v, 10, 64)
		out = append(out, time.Duration(n)*time.Millisecond)
	}
	return out, nil
}
