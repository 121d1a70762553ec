package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
)

// What the tests of package redisstore_test read of the engine's own layout, and the
// steps of a change one at a time, as a node that stops between them leaves it.

// PendingAfter is how old a pending change is before any node finishes it.
const PendingAfter = pendingAfter

// Pending returns the conversations with a change pending.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	return s.rdb.ZRange(ctx, s.q("pendingat"), 0, -1).Result()
}

// QueueIndex returns the conversations in group's queue as stored, whatever their
// records say.
func (s *Store) QueueIndex(ctx context.Context, group handoff.Group) ([]string, error) {
	return s.rdb.ZRange(ctx, s.waitKey(group), 0, -1).Result()
}

// OwnerIndex returns every agent's set of conversations as stored, by agent.
func (s *Store) OwnerIndex(ctx context.Context) (map[string][]string, error) {
	keys, err := s.rdb.Keys(ctx, s.ownedKey("*")).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string)
	for _, k := range keys {
		ids, err := s.rdb.SMembers(ctx, k).Result()
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			out[strings.TrimPrefix(k, s.ownedKey(""))] = ids
		}
	}
	return out, nil
}

// RoutingRev returns the revision the routing side knows of conv.
func (s *Store) RoutingRev(ctx context.Context, conv string) (int64, error) {
	v, err := s.rdb.HGet(ctx, s.q("rev"), conv).Result()
	if errors.Is(err, redis.Nil) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Reserved is a change whose first step is made.
type Reserved struct {
	p  pending
	mv moves
}

// Reserve makes the first step of ch, a change that moves the routing side, and no more:
// it is pending until Complete, or until Recover finishes it.
func (s *Store) Reserve(ctx context.Context, ch handoff.Change) (Reserved, error) {
	next := *ch.Next
	next.ID = ch.Conv
	mv := movesOf(*ch.Prev, next)
	p, err := newPending(ch, next)
	if err != nil {
		return Reserved{}, err
	}
	code, err := s.reserve(ctx, p, mv)
	if err != nil {
		return Reserved{}, err
	}
	if code != 0 {
		return Reserved{}, handoff.ErrConflict
	}
	return Reserved{p: p, mv: mv}, nil
}

// Complete makes the rest of a reserved change: the conversation side, then the end
// of the change, or its undoing when the conversation side refuses it.
func (s *Store) Complete(ctx context.Context, r Reserved) (handoff.Committed, error) {
	return s.complete(ctx, r.p, r.mv)
}
