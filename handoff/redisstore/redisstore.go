// Package redisstore is the desk's storage engine on Redis, for several nodes sharing
// one Redis (single, Sentinel or Cluster through go-redis' UniversalClient).
//
// Each conversation's keys share the hash tag {c:ID}: its record, its log (a Stream whose
// entry ids are the sequence numbers), its record ids, decisions and notes. The routing
// side — queues, owners, presence — shares {q}. A change of the record alone (an append,
// or a status change that moves no index) is one script in the conversation's slot. A
// change that moves the routing side spans two slots, which Redis Cluster cannot write
// atomically, so the engine writes it in three steps: it reserves the routing side (a
// compare-and-set of the revision and the load, recorded as pending), writes the
// conversation side, and finishes the routing side; a conversation side that is refused
// undoes the reservation, and a change left pending by a node that stopped is finished
// by any node's Listen. The steps are the engine's own: the desk sees one atomic Commit.
//
// The engine decides nothing: it compares what a change says to compare and keeps its
// indexes from the records (handoff.Conversation.Waiting and Owner). Every change is
// announced from inside its script, so events follow the commits' order. It passes the
// contract suite of handoff/enginetest.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// Config configures a Store.
type Config struct {
	// Client is required: a single node, Sentinel or Cluster client. The caller closes
	// it.
	Client redis.UniversalClient
	// Prefix starts every key and the event channel; empty means "kefu:".
	Prefix string
	// Now is the clock of pending changes; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Store is the Redis engine. It implements handoff.Conversations, Roster, Annals, Bus
// and TicketStore.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
	log    zerolog.Logger
}

// Engine returns the store as the desk's storage: it serves every part (and so
// implements handoff.Conversations, Roster, Annals, Bus and TicketStore).
func (s *Store) Engine() handoff.Engine {
	return handoff.Engine{Conversations: s, Roster: s, Annals: s, Bus: s, Tickets: s, Documents: s, Stats: s, Purger: s}
}

// New returns a Store. It does not contact Redis; Ping does.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisstore: Config.Client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "kefu:"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{rdb: cfg.Client, prefix: cfg.Prefix, now: cfg.Now, log: cfg.Logger}, nil
}

// Keys of a conversation's slot.
func (s *Store) conv(id, name string) string { return s.prefix + "{c:" + id + "}:" + name }
func (s *Store) recKey(id string) string     { return s.conv(id, "rec") }
func (s *Store) logKey(id string) string     { return s.conv(id, "log") }
func (s *Store) idsKey(id string) string     { return s.conv(id, "ids") }

// Keys of the routing slot.
func (s *Store) q(name string) string             { return s.prefix + "{q}:" + name }
func (s *Store) waitKey(g handoff.Group) string   { return s.q("wait:" + string(g)) }
func (s *Store) ownedKey(agent string) string     { return s.q("owned:" + agent) }
func (s *Store) unusedKey() string                { return s.q("none") }
func (s *Store) shopperKey(shopper string) string { return s.prefix + "{sh:" + shopper + "}:convs" }
func (s *Store) channel() string                  { return s.prefix + "events" }
func (s *Store) keyOr(ok bool, key func() string) string {
	if ok {
		return key()
	}
	return s.unusedKey()
}

// Ping implements handoff.Bus.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// Publish implements handoff.Bus.
func (s *Store) Publish(ctx context.Context, e handoff.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if err := s.rdb.Publish(ctx, s.channel(), b).Err(); err != nil {
		return fmt.Errorf("publishing event: %w", err)
	}
	return nil
}

// wireEvent is an event as the commit script publishes it: the record as stored and the
// new records with their sequence numbers apart.
type wireEvent struct {
	Type handoff.EventType `json:"type"`
	Conv string            `json:"conversation"`
	Rev  int64             `json:"rev"`
	Seq  int64             `json:"seq"`
	Rec  json.RawMessage   `json:"rec"`
	Msgs []handoff.Message `json:"msgs"`
	Seqs []int64           `json:"seqs"`
}

// decodeEvent reads an event off the channel.
func decodeEvent(payload string) (handoff.Event, error) {
	var w wireEvent
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		return handoff.Event{}, err
	}
	if len(w.Rec) == 0 {
		var e handoff.Event
		err := json.Unmarshal([]byte(payload), &e)
		return e, err
	}
	c, err := handoff.DecodeRecord(w.Rec)
	if err != nil {
		return handoff.Event{}, err
	}
	c.TokenHash, c.Rev, c.Seq = "", w.Rev, w.Seq
	if len(w.Seqs) != len(w.Msgs) {
		return handoff.Event{}, fmt.Errorf("event of %q with %d records and %d seqs", w.Conv, len(w.Msgs), len(w.Seqs))
	}
	for i := range w.Msgs {
		w.Msgs[i].Seq = w.Seqs[i]
	}
	return handoff.Event{Type: w.Type, Conv: w.Conv, Conversation: &c, Messages: w.Msgs}, nil
}

// Listen implements handoff.Bus: it subscribes to the event channel and hands each event
// to deliver; every (re)subscription is announced as a resync, because events published
// while the connection was down are lost. While it listens it also finishes the changes
// that a stopped node left pending.
func (s *Store) Listen(ctx context.Context, deliver func(handoff.Event)) error {
	recovered := make(chan struct{})
	go func() {
		defer close(recovered)
		s.recoverLoop(ctx)
	}()
	defer func() { <-recovered }()
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
				deliver(handoff.Event{Type: handoff.EventResync})
			}
		case *redis.Message:
			e, err := decodeEvent(m.Payload)
			if err != nil {
				s.log.Warn().Err(err).Msg("ignoring a malformed event")
				continue
			}
			deliver(e)
		}
	}
}

// recoverEvery is how often a listening node looks for changes left pending; pendingAfter
// is how old a pending change must be before a node that did not make it finishes it.
const (
	recoverEvery = 5 * time.Second
	pendingAfter = 5 * time.Second
)

// recoverLoop finishes stale pending changes until ctx ends, at jittered intervals so
// that nodes do not all look at once.
func (s *Store) recoverLoop(ctx context.Context) {
	for {
		wait := recoverEvery/2 + rand.N(recoverEvery)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := s.Recover(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("finishing pending changes")
		}
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func str(v any) string { s, _ := v.(string); return s }

// decodeConv reads a record hash {rec, rev, seq}.
func decodeConv(id string, m map[string]string) (handoff.Conversation, error) {
	if len(m) == 0 {
		return handoff.Conversation{}, handoff.ErrNotFound
	}
	c, err := handoff.DecodeRecord([]byte(m["rec"]))
	if err != nil {
		return handoff.Conversation{}, fmt.Errorf("conversation %q: %w", id, err)
	}
	c.Rev, _ = strconv.ParseInt(m["rev"], 10, 64)
	c.Seq, _ = strconv.ParseInt(m["seq"], 10, 64)
	return c, nil
}

// queueEvent is the JSON of a queue event without its version, which the script that
// moves the queue appends.
func queueEvent(g handoff.Group, k handoff.QueueKey, joined bool) string {
	side := "left"
	if joined {
		side = "joined"
	}
	key, _ := json.Marshal(k)
	group, _ := json.Marshal(g)
	return `{"type":"queue","group":` + string(group) + `,"` + side + `":` + string(key) + `,"ver":`
}

// entryOf splits an "id\njson" list entry.
func entryOf(e string) string {
	_, body, _ := strings.Cut(e, "\n")
	return body
}
