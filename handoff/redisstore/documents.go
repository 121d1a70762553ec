package redisstore

import (
	"context"

	"fmt"
	"strconv"

	"github.com/kefu-im/kefu/handoff"
	"github.com/redis/go-redis/v9"
)

// putDocScript stores a document if its revision is still the one read.
// KEYS[1] document hash {doc, rev}. ARGV[1] revision read ('0': never stored), [2] doc.
// Returns the new revision, or -1 when the revision moved.
var putDocScript = redis.NewScript(`
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'rev', rev + 1)
return rev + 1
`)

// docKey is the hash of a named document.
func (s *Store) docKey(name string) string { return s.prefix + "doc:" + name }

// Document implements handoff.Documents.
func (s *Store) Document(ctx context.Context, name string) ([]byte, int64, error) {
	m, err := s.rdb.HGetAll(ctx, s.docKey(name)).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("reading document %q: %w", name, err)
	}
	if len(m) == 0 {
		return nil, 0, nil
	}
	rev, err := strconv.ParseInt(m["rev"], 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("document %q: bad revision %q", name, m["rev"])
	}
	return []byte(m["doc"]), rev, nil
}

// PutDocument implements handoff.Documents.
func (s *Store) PutDocument(ctx context.Context, name string, doc []byte, rev int64) (int64, error) {
	next, err := putDocScript.Run(ctx, s.rdb, []string{s.docKey(name)}, rev, doc).Int64()
	if err != nil {
		return 0, fmt.Errorf("storing document %q: %w", name, err)
	}
	if next < 0 {
		return 0, fmt.Errorf("document %q: %w", name, handoff.ErrConflict)
	}
	return next, nil
}
