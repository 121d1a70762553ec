package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// notesKey is the list of a conversation's notes, in its slot, apart from its log.
func (s *RedisStore) notesKey(conv string) string { return s.prefix + "{c:" + conv + "}:notes" }

// addNoteScript appends a note entry "id\njson" unless one with the same id is kept, so a
// call that go-redis retries after a lost reply keeps the note once.
//
// KEYS[1] meta, KEYS[2] notes; ARGV[1] id, ARGV[2] entry, ARGV[3] max.
// Returns {-1} for an unknown conversation, {-2} at the limit, {0, entry} when the id is
// kept already, {1} when added.
var addNoteScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local p = ARGV[1] .. '\n'
local all = redis.call('LRANGE', KEYS[2], 0, -1)
for _, e in ipairs(all) do
  if string.sub(e, 1, #p) == p then return {0, e} end
end
if #all >= tonumber(ARGV[3]) then return {-2} end
redis.call('RPUSH', KEYS[2], ARGV[2])
return {1}
`)

// AddNote implements Store.
func (s *RedisStore) AddNote(ctx context.Context, conv string, n Note) (Note, bool, error) {
	if n.ID == "" || strings.Contains(n.ID, "\n") {
		return Note{}, false, fmt.Errorf("adding note: bad id %q", n.ID)
	}
	b, err := json.Marshal(n)
	if err != nil {
		return Note{}, false, fmt.Errorf("encoding note: %w", err)
	}
	res, err := addNoteScript.Run(ctx, s.rdb, []string{s.convKeys(conv)[0], s.notesKey(conv)},
		n.ID, n.ID+"\n"+string(b), maxNotes).Slice()
	if err != nil {
		return Note{}, false, fmt.Errorf("adding note: %w", err)
	}
	code, _ := res[0].(int64)
	switch code {
	case -1:
		return Note{}, false, ErrNotFound
	case -2:
		return Note{}, false, ErrNoteLimit
	case 0:
		entry, _ := res[1].(string)
		kept, err := decodeNote(conv, entry)
		return kept, true, err
	}
	return n, false, nil
}

// Notes implements Store.
func (s *RedisStore) Notes(ctx context.Context, conv string) ([]Note, error) {
	raw, err := s.rdb.LRange(ctx, s.notesKey(conv), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading notes: %w", err)
	}
	out := make([]Note, 0, len(raw))
	for _, e := range raw {
		n, err := decodeNote(conv, e)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func decodeNote(conv, entry string) (Note, error) {
	_, body, _ := strings.Cut(entry, "\n")
	var n Note
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return Note{}, fmt.Errorf("decoding note of %q: %w", conv, err)
	}
	return n, nil
}
