package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// shopperKey is the verified shopper's index of conversations: a list, newest first.
func (s *RedisStore) shopperKey(shopper string) string {
	return s.prefix + "{sh:" + shopper + "}:convs"
}

// decisionsKey is the list of a conversation's last bot decisions, in its slot.
func (s *RedisStore) decisionsKey(conv string) string { return s.prefix + "{c:" + conv + "}:decisions" }

// AddShopperConversation implements Store.
func (s *RedisStore) AddShopperConversation(ctx context.Context, shopper, conv string) error {
	key := s.shopperKey(shopper)
	pipe := s.rdb.TxPipeline()
	pipe.LRem(ctx, key, 0, conv)
	pipe.LPush(ctx, key, conv)
	pipe.LTrim(ctx, key, 0, maxShopperHistory-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("indexing shopper conversation: %w", err)
	}
	return nil
}

// ShopperConversations implements Store.
func (s *RedisStore) ShopperConversations(ctx context.Context, shopper string) ([]string, error) {
	ids, err := s.rdb.LRange(ctx, s.shopperKey(shopper), 0, maxShopperHistory-1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading shopper conversations: %w", err)
	}
	return ids, nil
}

// addDecisionScript appends a decision entry "key\njson" unless one with the same key is
// kept, and trims the list to the newest ARGV[3]. A check and append in one script, so a
// call that go-redis retries after a lost reply does not keep the decision twice.
//
// KEYS[1] meta, KEYS[2] decisions; ARGV[1] key, ARGV[2] entry, ARGV[3] max.
// Returns -1 for an unknown conversation, 0 when the key is kept already, 1 when added.
var addDecisionScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local p = ARGV[1] .. '\n'
for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if string.sub(e, 1, #p) == p then return 0 end
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
return 1
`)

// AddDecision implements Store.
func (s *RedisStore) AddDecision(ctx context.Context, conv string, d Decision) error {
	if strings.Contains(d.Key, "\n") {
		return fmt.Errorf("adding decision: bad key %q", d.Key)
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding decision: %w", err)
	}
	n, err := addDecisionScript.Run(ctx, s.rdb, []string{s.convKeys(conv)[0], s.decisionsKey(conv)},
		d.Key, d.Key+"\n"+string(b), maxDecisions).Int()
	if err != nil {
		return fmt.Errorf("adding decision: %w", err)
	}
	if n < 0 {
		return ErrNotFound
	}
	return nil
}

// Decisions implements Store.
func (s *RedisStore) Decisions(ctx context.Context, conv string) ([]Decision, error) {
	raw, err := s.rdb.LRange(ctx, s.decisionsKey(conv), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading decisions: %w", err)
	}
	out := make([]Decision, 0, len(raw))
	for _, e := range raw {
		_, body, _ := strings.Cut(e, "\n")
		var d Decision
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			return nil, fmt.Errorf("decoding decision of %q: %w", conv, err)
		}
		out = append(out, d)
	}
	return out, nil
}
