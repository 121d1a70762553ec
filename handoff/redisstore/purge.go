package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
)

var _ handoff.Purger = (*Store)(nil)

// ConversationIDs implements handoff.Purger: it SCANs for the records' keys
// (PREFIX{c:ID}:rec), on every master of a Cluster. There is no index to keep up on
// every change; the retention sweep, which calls it, runs seldom.
func (s *Store) ConversationIDs(ctx context.Context) ([]string, error) {
	pattern := escapeGlob(s.prefix) + "{c:*}:rec"
	var (
		mu  sync.Mutex
		ids []string
	)
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for it.Next(ctx) {
			k := strings.TrimSuffix(strings.TrimPrefix(it.Val(), s.prefix+"{c:"), "}:rec")
			mu.Lock()
			ids = append(ids, k)
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		return nil, fmt.Errorf("listing conversations: %w", err)
	}
	return ids, nil
}

// escapeGlob escapes the characters SCAN's MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Purge implements handoff.Purger. The conversation's own keys go in one DEL (one
// slot); its entries on the routing side ({q}) and in its shopper's list follow, each
// idempotent, so a purge cut short is finished by running it again.
func (s *Store) Purge(ctx context.Context, id string) error {
	c, err := s.Conversation(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	if g, _, ok := c.Waiting(); ok {
		pipe.ZRem(ctx, s.waitKey(g), id)
	}
	if agent, ok := c.Owner(); ok {
		pipe.SRem(ctx, s.ownedKey(agent), id)
	}
	pipe.HDel(ctx, s.q("rev"), id)
	pipe.HDel(ctx, s.q("pending"), id, id+":c")
	pipe.ZRem(ctx, s.q("pendingat"), id)
	if c.Shopper != nil {
		pipe.LRem(ctx, s.shopperKey(c.Shopper.ID), 0, id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("purging conversation %q from the routing side: %w", id, err)
	}
	// The record goes last: while it is there, a purge cut short can be run again.
	keys := []string{s.logKey(id), s.idsKey(id), s.conv(id, "decisions"), s.conv(id, "notes"), s.recKey(id)}
	if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("purging conversation %q: %w", id, err)
	}
	return nil
}

// RedactTicket implements handoff.Purger: the ticket's hash and history are rewritten
// and it leaves the conversation's index, in one transaction of the {t} slot.
func (s *Store) RedactTicket(ctx context.Context, t handoff.Ticket, conv string) error {
	id := t.ID
	n, err := s.rdb.Exists(ctx, s.tkey("tk:"+id)).Result()
	if err != nil {
		return fmt.Errorf("redacting ticket %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("ticket %q: %w", id, handoff.ErrNotFound)
	}
	hist := t.History
	t.History = nil
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding ticket: %w", err)
	}
	events := make([]any, 0, len(hist))
	for _, ev := range hist {
		b, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encoding ticket event: %w", err)
		}
		events = append(events, b)
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.tkey("tk:"+id), "doc", doc, "rev", t.Rev)
	pipe.Del(ctx, s.tkey("tk:"+id+":hist"))
	if len(events) > 0 {
		pipe.RPush(ctx, s.tkey("tk:"+id+":hist"), events...)
	}
	pipe.ZRem(ctx, s.tkey("conv:"+conv), id)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redacting ticket %q: %w", id, err)
	}
	return nil
}
