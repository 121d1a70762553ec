package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/boltdb"
	bolt "go.etcd.io/bbolt"
)

// queueKey encodes a place in a queue so that bbolt's byte order is the queue's order:
// the score with its sign bit flipped, big-endian, then the id.
func queueKey(k handoff.QueueKey) []byte {
	b := make([]byte, 8, 8+len(k.ID))
	copy(b, u64(uint64(k.Score)^(1<<63)))
	return append(b, k.ID...)
}

func decodeRecord(b []byte) (handoff.Conversation, error) { return handoff.DecodeRecord(b) }

// conversation reads the record of id in tx.
func conversation(tx *bolt.Tx, id string) (handoff.Conversation, error) {
	raw := tx.Bucket(bConvs).Get([]byte(id))
	if raw == nil {
		return handoff.Conversation{}, handoff.ErrNotFound
	}
	return decodeRecord(raw)
}

func putConversation(tx *bolt.Tx, c handoff.Conversation) error {
	b, err := handoff.EncodeRecord(c)
	if err != nil {
		return err
	}
	return tx.Bucket(bConvs).Put([]byte(c.ID), b)
}

// Create implements handoff.Conversations.
func (s *Store) Create(ctx context.Context, c handoff.Conversation) error {
	return s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		if tx.Bucket(bConvs).Get([]byte(c.ID)) != nil {
			return fmt.Errorf("creating conversation %q: %w", c.ID, handoff.ErrExists)
		}
		c.Rev, c.Seq = 1, 0
		return putConversation(tx, c)
	})
}

// Conversation implements handoff.Conversations.
func (s *Store) Conversation(ctx context.Context, id string) (c handoff.Conversation, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		c, err = conversation(tx, id)
		return err
	})
	return c, err
}

// Messages implements handoff.Conversations.
func (s *Store) Messages(ctx context.Context, id string, after int64, limit int) ([]handoff.Message, error) {
	var out []handoff.Message
	err := s.view(ctx, func(tx *bolt.Tx) error {
		logs, err := convBucket(tx, bLogs, id, false)
		if err != nil || logs == nil {
			return err
		}
		cur := logs.Cursor()
		for k, v := cur.Seek(u64(uint64(max(after, 0) + 1))); k != nil; k, v = cur.Next() {
			var m handoff.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decoding record %d of %q: %w", fromU64(k), id, err)
			}
			out = append(out, m)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// stored returns the record with message id mid of the conversation, if any.
func stored(logs, ids *bolt.Bucket, mid string) (handoff.Message, bool, error) {
	seq := ids.Get([]byte(mid))
	if seq == nil {
		return handoff.Message{}, false, nil
	}
	var m handoff.Message
	if err := json.Unmarshal(logs.Get(seq), &m); err != nil {
		return handoff.Message{}, false, fmt.Errorf("decoding record %q: %w", mid, err)
	}
	return m, true, nil
}

// Commit implements handoff.Conversations.
func (s *Store) Commit(ctx context.Context, ch handoff.Change) (handoff.Committed, error) {
	var res handoff.Committed
	err := s.update(ctx, func(tx *bolt.Tx, emit func(handoff.Event)) error {
		res = handoff.Committed{}
		cur, err := conversation(tx, ch.Conv)
		if err != nil {
			return err
		}
		logs, err := nested(tx, bLogs, ch.Conv, true)
		if err != nil {
			return err
		}
		ids, err := nested(tx, bIDs, ch.Conv, true)
		if err != nil {
			return err
		}
		if len(ch.Append) > 0 {
			if _, ok, err := stored(logs, ids, ch.Append[0].ID); err != nil || ok {
				res.Dup, res.Conversation = ok, cur
				for _, m := range ch.Append {
					if old, ok, err := stored(logs, ids, m.ID); err != nil {
						return err
					} else if ok {
						m = old
					}
					res.Messages = append(res.Messages, m)
				}
				return err
			}
		}
		if ch.Rev != 0 && cur.Rev != ch.Rev {
			return handoff.ErrConflict
		}
		if ch.Owner != "" && load(tx, ch.Owner) != ch.Load {
			return handoff.ErrConflict
		}
		if ch.Waited > 0 {
			if err := addWait(tx, ch.Waited, ch.KeepWaits); err != nil {
				return err
			}
		}
		next := cur
		if ch.Next != nil {
			next = *ch.Next
			next.ID, next.Rev, next.Seq = cur.ID, cur.Rev+1, cur.Seq
			if err := reindex(tx, cur, next, emit); err != nil {
				return err
			}
		}
		var added []handoff.Message
		for _, m := range ch.Append {
			old, ok, err := stored(logs, ids, m.ID)
			if err != nil {
				return err
			}
			if ok {
				res.Messages = append(res.Messages, old)
				continue
			}
			next.Seq++
			m.Seq = next.Seq
			if err := boltdb.Put(logs, u64(uint64(m.Seq)), m); err != nil {
				return err
			}
			if err := ids.Put([]byte(m.ID), u64(uint64(m.Seq))); err != nil {
				return err
			}
			res.Messages = append(res.Messages, m)
			added = append(added, m)
		}
		if err := putConversation(tx, next); err != nil {
			return err
		}
		if err := addTallies(tx, ch.Tallies); err != nil {
			return err
		}
		res.Conversation = next
		public := next
		public.TokenHash = ""
		emit(handoff.Event{Type: handoff.EventConversation, Conv: next.ID, Conversation: &public, Messages: added})
		return nil
	})
	return res, err
}

// reindex moves conversation prev's entries in the queues and owner sets to where next
// belongs, and announces each queue it changed with the queue's new version.
func reindex(tx *bolt.Tx, prev, next handoff.Conversation, emit func(handoff.Event)) error {
	g0, k0, wasQueued := prev.Waiting()
	g1, k1, isQueued := next.Waiting()
	if wasQueued && isQueued && g0 == g1 && k0 == k1 {
		wasQueued, isQueued = false, false // it keeps its place
	}
	moves := map[handoff.Group]*handoff.Event{}
	move := func(g handoff.Group) *handoff.Event {
		if moves[g] == nil {
			moves[g] = &handoff.Event{Type: handoff.EventQueue, Group: g}
		}
		return moves[g]
	}
	if wasQueued {
		q, err := nested(tx, bQueues, string(g0), true)
		if err != nil {
			return err
		}
		if err := q.Delete(queueKey(k0)); err != nil {
			return err
		}
		move(g0).Left = &k0
	}
	if isQueued {
		q, err := nested(tx, bQueues, string(g1), true)
		if err != nil {
			return err
		}
		if err := q.Put(queueKey(k1), []byte(next.ID)); err != nil {
			return err
		}
		move(g1).Joined = &k1
	}
	for _, g := range []handoff.Group{g0, g1} {
		e := moves[g]
		if e == nil {
			continue
		}
		delete(moves, g)
		vers := tx.Bucket(bVersions)
		e.Ver = int64(fromU64(vers.Get([]byte(g)))) + 1
		if err := vers.Put([]byte(g), u64(uint64(e.Ver))); err != nil {
			return err
		}
		emit(*e)
	}
	a0, owned0 := prev.Owner()
	a1, owned1 := next.Owner()
	if owned0 && (!owned1 || a0 != a1) {
		if b, _ := nested(tx, bOwned, a0, false); b != nil {
			if err := b.Delete([]byte(prev.ID)); err != nil {
				return err
			}
		}
	}
	if owned1 && (!owned0 || a0 != a1) {
		b, err := nested(tx, bOwned, a1, true)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(next.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// load counts the conversations agent owns.
func load(tx *bolt.Tx, agent string) int {
	b, _ := nested(tx, bOwned, agent, false)
	if b == nil {
		return 0
	}
	n := 0
	b.ForEach(func(k, v []byte) error { n++; return nil })
	return n
}

// Queue implements handoff.Conversations.
func (s *Store) Queue(ctx context.Context, group handoff.Group, limit int) ([]handoff.Conversation, error) {
	var out []handoff.Conversation
	err := s.view(ctx, func(tx *bolt.Tx) error {
		q, _ := nested(tx, bQueues, string(group), false)
		if q == nil {
			return nil
		}
		cur := q.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			c, err := conversation(tx, string(v))
			if err != nil {
				return fmt.Errorf("reading waiting conversation %q: %w", v, err)
			}
			out = append(out, c)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Place implements handoff.Conversations. It counts the places ahead, so it costs the
// position; a waiting shopper reads it once and then follows the queue's events.
func (s *Store) Place(ctx context.Context, group handoff.Group, id string) (pos int, ver int64, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		ver = int64(fromU64(tx.Bucket(bVersions).Get([]byte(group))))
		c, err := conversation(tx, id)
		if errors.Is(err, handoff.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		g, k, ok := c.Waiting()
		q, _ := nested(tx, bQueues, string(group), false)
		if !ok || g != group || q == nil || q.Get(queueKey(k)) == nil {
			return nil
		}
		key := queueKey(k)
		cur := q.Cursor()
		for k, _ := cur.First(); k != nil && bytes.Compare(k, key) <= 0; k, _ = cur.Next() {
			pos++
		}
		return nil
	})
	return pos, ver, err
}

// Owned implements handoff.Conversations.
func (s *Store) Owned(ctx context.Context, agent string) ([]handoff.Conversation, error) {
	var out []handoff.Conversation
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, _ := nested(tx, bOwned, agent, false)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			c, err := conversation(tx, string(k))
			if err != nil {
				return fmt.Errorf("reading owned conversation %q: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b handoff.Conversation) int { return a.ClaimedAt.Compare(b.ClaimedAt) })
	return out, err
}

// Loads implements handoff.Conversations.
func (s *Store) Loads(ctx context.Context, agents ...string) ([]int, error) {
	out := make([]int, len(agents))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		for i, a := range agents {
			out[i] = load(tx, a)
		}
		return nil
	})
	return out, err
}

// addWait keeps d among the latest keep waits.
func addWait(tx *bolt.Tx, d time.Duration, keep int) error {
	b := tx.Bucket(bWaits)
	seq, err := nextSeq(b)
	if err != nil {
		return err
	}
	if err := b.Put(seq, u64(uint64(d.Milliseconds()))); err != nil {
		return err
	}
	return trim(b, keep)
}
