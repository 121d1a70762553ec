package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
)

// The reports' counters live under the hash tag {st}, one slot, apart from the
// conversations (deleting a conversation keeps them):
//
//	h:HOUR        hash  group \x1f agent \x1f name → sum, the hour starting at HOUR (Unix s)
//	done:DIGEST   string  set when the tallies of a conversation's change (the digest
//	              of the conversation's id and the change's first record id) were
//	              added; it expires after doneTTL. A digest, not the ids: the markers
//	              outlive a shopper's erasure for up to a day and must not name them.
//
// A change's tallies are added after its conversation side is written, by the node that
// wrote it or by whoever finishes it (Recover): the done marker makes the addition
// happen once, so that two nodes never count a change twice.

// doneTTL is how long a change's done marker is kept: longer than any change stays
// pending.
const doneTTL = 24 * time.Hour

func (s *Store) statKey(hour int64) string { return s.prefix + "{st}:h:" + strconv.FormatInt(hour, 10) }
func (s *Store) doneKey(conv, id string) string {
	sum := sha256.Sum256([]byte(conv + "\x00" + id))
	return s.prefix + "{st}:done:" + hex.EncodeToString(sum[:16])
}

// tallyScript adds tallies once.
//
// KEYS[1] done marker, then the hour hashes. ARGV[1] the marker's time to live (ms),
// then per tally: the index of its hash in KEYS, its field, the number to add.
//
// Returns 1 when added, 0 when they were added before.
var tallyScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
end
return 1
`)

// addTallies adds tallies once for the change of conv keyed id.
func (s *Store) addTallies(ctx context.Context, conv, id string, tallies []handoff.Tally) error {
	if len(tallies) == 0 {
		return nil
	}
	keys := []string{s.doneKey(conv, id)}
	index := map[int64]int{}
	args := []any{doneTTL.Milliseconds()}
	for _, t := range tallies {
		i, ok := index[t.Hour]
		if !ok {
			keys = append(keys, s.statKey(t.Hour))
			i = len(keys)
			index[t.Hour] = i
		}
		args = append(args, i, statField(t), t.N)
	}
	if err := tallyScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("adding the counters of a change of %q: %w", conv, err)
	}
	return nil
}

func statField(t handoff.Tally) string {
	return string(t.Group) + "\x1f" + t.Agent + "\x1f" + t.Name
}

// Tallies implements handoff.Stats: one HGETALL per hour, in one pipeline.
func (s *Store) Tallies(ctx context.Context, from, to time.Time) ([]handoff.Tally, error) {
	start := from.Unix() - ((from.Unix()%3600)+3600)%3600
	var hours []int64
	for h := start; h < to.Unix(); h += 3600 {
		if h >= from.Unix() {
			hours = append(hours, h)
		}
	}
	if len(hours) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(hours))
	for i, h := range hours {
		cmds[i] = pipe.HGetAll(ctx, s.statKey(h))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("reading counters: %w", err)
	}
	var out []handoff.Tally
	for i, h := range hours {
		for field, v := range cmds[i].Val() {
			parts := strings.SplitN(field, "\x1f", 3)
			n, err := strconv.ParseInt(v, 10, 64)
			if len(parts) != 3 || err != nil {
				return nil, fmt.Errorf("reading counters: bad field %q = %q", field, v)
			}
			out = append(out, handoff.Tally{Hour: h, Group: handoff.Group(parts[0]), Agent: parts[1], Name: parts[2], N: n})
		}
	}
	return out, nil
}
