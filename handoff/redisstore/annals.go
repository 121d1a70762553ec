package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kefu-im/kefu/handoff"
)

// keyed appends an entry keyed by id to list of conversation conv (keyedScript).
func (s *Store) keyed(ctx context.Context, conv, list, id string, v any, limit int, mode string) (string, bool, error) {
	if id == "" || strings.Contains(id, "\n") {
		return "", false, fmt.Errorf("adding to %s of %q: bad key %q", list, conv, id)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, fmt.Errorf("encoding: %w", err)
	}
	res, err := keyedScript.Run(ctx, s.rdb, []string{s.recKey(conv), s.conv(conv, list)}, id, id+"\n"+string(b), limit, mode).Slice()
	if err != nil {
		return "", false, fmt.Errorf("adding to %s of %q: %w", list, conv, err)
	}
	switch code, _ := res[0].(int64); code {
	case -1:
		return "", false, handoff.ErrNotFound
	case -2:
		return "", false, handoff.ErrNoteLimit
	case 0:
		return entryOf(str(res[1])), true, nil
	}
	return "", false, nil
}

// entries decodes conv's list.
func entries[T any](s *Store, ctx context.Context, conv, list string) ([]T, error) {
	ok, err := s.rdb.Exists(ctx, s.recKey(conv)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading %s of %q: %w", list, conv, err)
	}
	if ok == 0 {
		return nil, handoff.ErrNotFound
	}
	raw, err := s.rdb.LRange(ctx, s.conv(conv, list), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading %s of %q: %w", list, conv, err)
	}
	out := make([]T, 0, len(raw))
	for _, e := range raw {
		var v T
		if err := json.Unmarshal([]byte(entryOf(e)), &v); err != nil {
			return nil, fmt.Errorf("decoding %s of %q: %w", list, conv, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// AddDecision implements handoff.Annals.
func (s *Store) AddDecision(ctx context.Context, conv string, d handoff.Decision, keep int) error {
	_, _, err := s.keyed(ctx, conv, "decisions", d.Key, d, keep, "trim")
	return err
}

// Decisions implements handoff.Annals.
func (s *Store) Decisions(ctx context.Context, conv string) ([]handoff.Decision, error) {
	return entries[handoff.Decision](s, ctx, conv, "decisions")
}

// AddNote implements handoff.Annals.
func (s *Store) AddNote(ctx context.Context, conv string, n handoff.Note, max int) (handoff.Note, bool, error) {
	kept, dup, err := s.keyed(ctx, conv, "notes", n.ID, n, max, "cap")
	if err != nil || !dup {
		return n, false, err
	}
	var old handoff.Note
	if err := json.Unmarshal([]byte(kept), &old); err != nil {
		return handoff.Note{}, false, fmt.Errorf("decoding a note of %q: %w", conv, err)
	}
	return old, true, nil
}

// Notes implements handoff.Annals.
func (s *Store) Notes(ctx context.Context, conv string) ([]handoff.Note, error) {
	return entries[handoff.Note](s, ctx, conv, "notes")
}

// AddShopperConversation implements handoff.Annals.
func (s *Store) AddShopperConversation(ctx context.Context, shopper, conv string, keep int) error {
	key := s.shopperKey(shopper)
	pipe := s.rdb.TxPipeline()
	pipe.LRem(ctx, key, 0, conv)
	pipe.LPush(ctx, key, conv)
	pipe.LTrim(ctx, key, 0, int64(keep)-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("listing a shopper's conversation: %w", err)
	}
	return nil
}

// ShopperConversations implements handoff.Annals.
func (s *Store) ShopperConversations(ctx context.Context, shopper string) ([]string, error) {
	ids, err := s.rdb.LRange(ctx, s.shopperKey(shopper), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading a shopper's conversations: %w", err)
	}
	return ids, nil
}
