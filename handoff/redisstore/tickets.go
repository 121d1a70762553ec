package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
)

// Tickets live under the hash tag {t}, so that each script touches one cluster slot:
//
//	P{t}:seq:YYYYMMDD   string      the day's ticket counter (INCR), expires after 2 days
//	P{t}:tk:ID          hash        doc (the ticket as JSON, without history), status, rev
//	P{t}:tk:ID:hist     list        the status history, oldest first, one JSON event each
//	P{t}:all            sorted set  every ticket id, by creation time (ms)
//	P{t}:status:STATUS  sorted set  the tickets in STATUS, by creation time
//	P{t}:conv:CONV      sorted set  the tickets of conversation CONV, by creation time

func (s *Store) tkey(name string) string { return s.prefix + "{t}:" + name }

// ticketSeqScript increments a day's counter and lets it expire two days later.
// KEYS[1] counter.
var ticketSeqScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 172800)
return n
`)

// createTicketScript stores a new ticket unless its id exists.
// KEYS[1] ticket hash, KEYS[2] history, KEYS[3] all, KEYS[4] status index,
// KEYS[5] conversation index. ARGV[1] id, ARGV[2] doc, ARGV[3] status,
// ARGV[4] creation time (ms), ARGV[5] creation event.
// Returns 1 when stored, 0 when the id exists.
var createTicketScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'status', ARGV[3], 'rev', 1, 'created', ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
return 1
`)

// updateTicketScript is the compare-and-set of a ticket's status.
// KEYS[1] ticket hash, KEYS[2] history, KEYS[3] index of the status before,
// KEYS[4] index of the new status. ARGV[1] id, ARGV[2] status before, ARGV[3] rev
// read, ARGV[4] new status, ARGV[5] new doc, ARGV[6] event.
//
// Returns {rev} when stored; {-1} for an unknown ticket; {-2} when the status or rev
// changed.
var updateTicketScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev'))
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] or rev ~= tonumber(ARGV[3]) then return {-2} end
local created = redis.call('HGET', KEYS[1], 'created')
redis.call('HSET', KEYS[1], 'doc', ARGV[5], 'status', ARGV[4], 'rev', rev + 1)
redis.call('RPUSH', KEYS[2], ARGV[6])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], created, ARGV[1])
return {rev + 1}
`)

// encodeTicket encodes t without its history, which is kept apart, and the event ev
// that makes it, as the ticket scripts store them.
func encodeTicket(t handoff.Ticket, ev handoff.TicketEvent) (doc, event []byte, err error) {
	t.History = nil
	if doc, err = json.Marshal(t); err != nil {
		return nil, nil, fmt.Errorf("encoding ticket: %w", err)
	}
	if event, err = json.Marshal(ev); err != nil {
		return nil, nil, fmt.Errorf("encoding ticket event: %w", err)
	}
	return doc, event, nil
}

// CreateTicket implements handoff.TicketStore.
func (s *Store) CreateTicket(ctx context.Context, day string, t handoff.Ticket, created handoff.TicketEvent) (handoff.Ticket, error) {
	// A counter value that is taken and then not stored (the create failed) is a gap in
	// the day's ids, never a duplicate.
	n, err := ticketSeqScript.Run(ctx, s.rdb, []string{s.tkey("seq:" + day)}).Int64()
	if err != nil {
		return handoff.Ticket{}, fmt.Errorf("counting tickets of %s: %w", day, err)
	}
	id, err := handoff.TicketID(day, n)
	if err != nil {
		return handoff.Ticket{}, err
	}
	t.ID, t.Rev = id, 1
	doc, ev, err := encodeTicket(t, created)
	if err != nil {
		return handoff.Ticket{}, err
	}
	keys := []string{s.tkey("tk:" + id), s.tkey("tk:" + id + ":hist"), s.tkey("all"), s.tkey("status:" + t.Status), s.tkey("conv:" + t.Conversation)}
	ok, err := createTicketScript.Run(ctx, s.rdb, keys, id, doc, t.Status, t.CreatedAt.UnixMilli(), ev).Int()
	if err != nil {
		return handoff.Ticket{}, fmt.Errorf("storing ticket %s: %w", id, err)
	}
	if ok == 0 {
		return handoff.Ticket{}, fmt.Errorf("ticket %s exists already", id)
	}
	t.History = []handoff.TicketEvent{created}
	return t, nil
}

// handoff.Ticket implements handoff.TicketStore.
func (s *Store) Ticket(ctx context.Context, id string) (handoff.Ticket, error) {
	var fields *redis.SliceCmd
	var hist *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fields = p.HMGet(ctx, s.tkey("tk:"+id), "doc", "status", "rev")
		hist = p.LRange(ctx, s.tkey("tk:"+id+":hist"), 0, -1)
		return nil
	})
	if err != nil {
		return handoff.Ticket{}, fmt.Errorf("reading ticket %q: %w", id, err)
	}
	t, err := decodeTicket(id, fields.Val())
	if err != nil {
		return handoff.Ticket{}, err
	}
	for _, h := range hist.Val() {
		var ev handoff.TicketEvent
		if err := json.Unmarshal([]byte(h), &ev); err != nil {
			return handoff.Ticket{}, fmt.Errorf("decoding history of ticket %s: %w", id, err)
		}
		t.History = append(t.History, ev)
	}
	return t, nil
}

// decodeTicket builds a ticket from the fields doc, status and rev of its hash.
func decodeTicket(id string, vals []any) (handoff.Ticket, error) {
	doc, _ := vals[0].(string)
	if doc == "" {
		return handoff.Ticket{}, fmt.Errorf("ticket %q: %w", id, handoff.ErrNotFound)
	}
	var t handoff.Ticket
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		return handoff.Ticket{}, fmt.Errorf("decoding ticket %s: %w", id, err)
	}
	t.Status, _ = vals[1].(string)
	rev, _ := vals[2].(string)
	n, err := strconv.ParseInt(rev, 10, 64)
	if err != nil {
		return handoff.Ticket{}, fmt.Errorf("ticket %s has rev %q", id, rev)
	}
	t.Rev = n
	return t, nil
}

// Tickets implements handoff.TicketStore. The narrowest index is read (conversation, else
// status, else all), and the other filters are applied to what it names.
func (s *Store) Tickets(ctx context.Context, f handoff.TicketFilter) ([]handoff.Ticket, error) {
	index := s.tkey("all")
	switch {
	case f.Conversation != "":
		index = s.tkey("conv:" + f.Conversation)
	case f.Status != "":
		index = s.tkey("status:" + f.Status)
	}
	limit := int64(f.Limit) - 1
	if f.Conversation != "" && f.Status != "" || f.Type != "" || f.Group != "" {
		// Filtered after reading: read the whole index (a conversation has few
		// tickets; a status, few that are not final; all, what a type or group asks).
		limit = -1
	}
	ids, err := s.rdb.ZRevRange(ctx, index, 0, limit).Result()
	if err != nil {
		return nil, fmt.Errorf("listing tickets: %w", err)
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.tkey("tk:"+id), "doc", "status", "rev")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading tickets: %w", err)
	}
	out := []handoff.Ticket{}
	for i, id := range ids {
		t, err := decodeTicket(id, cmds[i].Val())
		if errors.Is(err, handoff.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.Match(t) {
			out = append(out, t)
		}
	}
	return f.Listed(out), nil
}

// UpdateTicket implements handoff.TicketStore.
func (s *Store) UpdateTicket(ctx context.Context, next handoff.Ticket, ev handoff.TicketEvent) (handoff.Ticket, error) {
	doc, evb, err := encodeTicket(next, ev)
	if err != nil {
		return handoff.Ticket{}, err
	}
	id := next.ID
	keys := []string{s.tkey("tk:" + id), s.tkey("tk:" + id + ":hist"), s.tkey("status:" + ev.From), s.tkey("status:" + next.Status)}
	res, err := updateTicketScript.Run(ctx, s.rdb, keys, id, ev.From, next.Rev, next.Status, doc, evb).Int64Slice()
	if err != nil {
		return handoff.Ticket{}, fmt.Errorf("changing ticket %s: %w", id, err)
	}
	switch res[0] {
	case -1:
		return handoff.Ticket{}, fmt.Errorf("ticket %q: %w", id, handoff.ErrNotFound)
	case -2:
		return handoff.Ticket{}, handoff.ErrTicketStale
	}
	return s.Ticket(ctx, id)
}
