// Package boltstore is the desk's embedded storage engine: conversations, their logs,
// the queues, presence, decisions, notes and tickets in the bbolt file of the data
// directory (internal/boltdb), for one node. Every change is one bbolt update
// transaction, committed with fsync before the caller hears of it, so nothing
// acknowledged is lost to a crash. Events go to this process's listeners, in the order
// of the commits.
//
// The engine decides nothing: it compares what a change says to compare (a revision, a
// load), keeps its indexes from the records it stores (handoff.Conversation.Waiting and
// Owner), and passes the contract suite of handoff/enginetest.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/kefu-im/kefu/handoff"
	bolt "go.etcd.io/bbolt"
)

// Top-level buckets. Per-conversation and per-group data lives in nested buckets named
// by the conversation, group or agent.
var (
	bConvs     = []byte("desk.conversations")  // id → record
	bLogs      = []byte("desk.logs")           // id → {seq → message}
	bIDs       = []byte("desk.ids")            // id → {message id → seq}
	bQueues    = []byte("desk.queues")         // group → {queue key → id}
	bVersions  = []byte("desk.queue_versions") // group → version
	bOwned     = []byte("desk.owned")          // agent → {id → ""}
	bPresence  = []byte("desk.presence")       // agent → presence
	bWaits     = []byte("desk.waits")          // sequence → wait (ms)
	bDecisions = []byte("desk.decisions")      // id → {sequence → decision}
	bNotes     = []byte("desk.notes")          // id → {sequence → note}
	bShoppers  = []byte("desk.shoppers")       // shopper → [id…]
	bTickets   = []byte("desk.tickets")        // ticket id → ticket
	bTicketSeq = []byte("desk.ticket_days")    // day → counter
)

var buckets = [][]byte{bConvs, bLogs, bIDs, bQueues, bVersions, bOwned, bPresence, bWaits, bDecisions, bNotes, bShoppers, bTickets, bTicketSeq, bDocs, bStats}

// Config configures a Store.
type Config struct {
	// DB is the open database; required. The caller closes it.
	DB *bolt.DB
}

// Store is the embedded engine. It implements handoff.Conversations, Roster, Annals,
// Bus and TicketStore.
type Store struct {
	db *bolt.DB

	// pub is held from a commit to the delivery of its events, so that listeners hear
	// of commits in the order they were made.
	pub       sync.Mutex
	listeners map[int]func(handoff.Event) // guarded by pub
	nextID    int                         // guarded by pub
}

// Engine returns the store as the desk's storage: it serves every part (and so
// implements handoff.Conversations, Roster, Annals, Bus and TicketStore).
func (s *Store) Engine() handoff.Engine {
	return handoff.Engine{Conversations: s, Roster: s, Annals: s, Bus: s, Tickets: s, Documents: s, Stats: s, Purger: s}
}

// New returns a Store on cfg.DB, creating its buckets.
func New(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("boltstore: Config.DB is required")
	}
	err := cfg.DB.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: creating buckets: %w", err)
	}
	return &Store{db: cfg.DB, listeners: make(map[int]func(handoff.Event))}, nil
}

// update runs fn in an update transaction and then hands the events it made to the
// listeners, in commit order. fn's events are dropped when the transaction fails.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx, emit func(handoff.Event)) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.pub.Lock()
	defer s.pub.Unlock()
	var events []handoff.Event
	err := s.db.Update(func(tx *bolt.Tx) error {
		events = events[:0]
		return fn(tx, func(e handoff.Event) { events = append(events, e) })
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		for _, l := range s.listeners {
			l(e)
		}
	}
	return nil
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// Publish implements handoff.Bus.
func (s *Store) Publish(ctx context.Context, e handoff.Event) error {
	s.pub.Lock()
	defer s.pub.Unlock()
	for _, l := range s.listeners {
		l(e)
	}
	return nil
}

// Listen implements handoff.Bus: events are this process's own, so none is lost.
func (s *Store) Listen(ctx context.Context, deliver func(handoff.Event)) error {
	s.pub.Lock()
	id := s.nextID
	s.nextID++
	s.listeners[id] = deliver
	s.pub.Unlock()
	<-ctx.Done()
	s.pub.Lock()
	delete(s.listeners, id)
	s.pub.Unlock()
	return nil
}

// Ping implements handoff.Bus.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(tx *bolt.Tx) error { return nil })
}

// u64 and fromU64 write and read big-endian counters and sequence numbers, which sort
// in numeric order as bbolt keys.
func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func fromU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// nested returns the bucket name of top, creating it when create is set; nil when it
// does not exist.
func nested(tx *bolt.Tx, top []byte, name string, create bool) (*bolt.Bucket, error) {
	parent := tx.Bucket(top)
	if !create {
		return parent.Bucket([]byte(name)), nil
	}
	return parent.CreateBucketIfNotExists([]byte(name))
}

// convBucket returns conversation conv's nested bucket of top, creating it when create is
// set; without create it is nil while the conversation has none. An unknown conversation
// is handoff.ErrNotFound.
func convBucket(tx *bolt.Tx, top []byte, conv string, create bool) (*bolt.Bucket, error) {
	if tx.Bucket(bConvs).Get([]byte(conv)) == nil {
		return nil, handoff.ErrNotFound
	}
	return nested(tx, top, conv, create)
}

// nextSeq returns the next sequence number of bucket b, for lists kept in order.
func nextSeq(b *bolt.Bucket) ([]byte, error) {
	n, err := b.NextSequence()
	if err != nil {
		return nil, err
	}
	return u64(n), nil
}
