package kb

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Client is required: a single node, Sentinel or Cluster client.
	Client redis.UniversalClient
	// Prefix starts every key; empty means "kefu:".
	Prefix string
	// Logger receives what the store cannot return to a caller.
	Logger zerolog.Logger
	// Now is the clock that stamps saves and questions; nil means time.Now.
	Now func() time.Time
	// FeedLen is about how many changes the feed keeps (trimmed with XADD MAXLEN ~, so
	// Redis may keep up to a hundred more); 0 means 100000.
	FeedLen int
}

// RedisStore is the Store on Redis, shared by every node. Every key carries the hash tag
// {kb}, so each script runs on one cluster slot; the layout is in docs/knowledge.md.
type RedisStore struct {
	rdb     redis.UniversalClient
	tag     string // the prefix and the hash tag that start every key
	log     zerolog.Logger
	now     func() time.Time
	feedLen int

	// maxUnanswered is MaxUnanswered; tests lower it.
	maxUnanswered int
}

var _ Store = (*RedisStore)(nil)

const (
	defaultFeedLen = 100_000
	// changesPage bounds the changes one Changes call returns.
	changesPage = 10_000
	// maxBlock bounds one blocking read of the feed: go-redis does not end a blocked read
	// when its context is cancelled, so Changes waits in steps and checks ctx between.
	maxBlock = time.Second
	// staleRetries is how often a save or a seed reads again when an article changed
	// between its read and its script.
	staleRetries = 5
)

// NewRedisStore returns a RedisStore. It does not contact Redis; Ping does.
func NewRedisStore(cfg RedisConfig) (*RedisStore, error) {
	if cfg.Client == nil {
		return nil, errors.New("kb: RedisConfig.Client is required")
	}
	if cfg.FeedLen < 0 {
		return nil, fmt.Errorf("kb: RedisConfig.FeedLen %d is negative", cfg.FeedLen)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "kefu:"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FeedLen == 0 {
		cfg.FeedLen = defaultFeedLen
	}
	return &RedisStore{
		rdb: cfg.Client, tag: cfg.Prefix + "{kb}:", log: cfg.Logger, now: cfg.Now,
		feedLen: cfg.FeedLen, maxUnanswered: MaxUnanswered,
	}, nil
}

func (s *RedisStore) entryKey(id string) string    { return s.tag + "a:" + id }
func (s *RedisStore) versionsKey(id string) string { return s.tag + "v:" + id }
func (s *RedisStore) idsKey() string               { return s.tag + "ids" }
func (s *RedisStore) feedKey() string              { return s.tag + "feed" }
func (s *RedisStore) opKey() string                { return s.tag + "op" }
func (s *RedisStore) seededKey(src string) string  { return s.tag + "seeded:" + src }
func (s *RedisStore) questionsKey() string         { return s.tag + "u" }
func (s *RedisStore) orderKey() string             { return s.tag + "u:order" }
func (s *RedisStore) questionSeqKey() string       { return s.tag + "u:seq" }

// fail wraps err, the error of a Redis call made to do what; an error that says Redis
// cannot be reached or cannot serve also wraps ErrUnavailable.
func fail(what string, err error) error {
	if unreachable(err) {
		return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// unreachable reports whether err means that Redis is down or not serving: any error
// but a cancelled context or a reply from the server, and the replies of a server that
// is loading, failing over or read-only.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		return redis.IsLoadingError(err) || redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
			redis.IsMasterDownError(err) || redis.IsReadOnlyError(err)
	}
	return true
}

// state reads the state of article id, in one MULTI.
func (s *RedisStore) state(ctx context.Context, id string) (articleState, error) {
	pipe := s.rdb.TxPipeline()
	entry := pipe.Get(ctx, s.entryKey(id))
	n := pipe.LLen(ctx, s.versionsKey(id))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return articleState{}, fail(fmt.Sprintf("reading article %q", id), err)
	}
	st := articleState{versions: int(n.Val())}
	if raw, err := entry.Bytes(); err == nil {
		if err := json.Unmarshal(raw, &st.current); err != nil {
			return articleState{}, fmt.Errorf("decoding article %q: %w", id, err)
		}
		st.live = true
	}
	return st, nil
}

// saveArticle reads the state of article id, asks decide for the version to save, and
// saves it with saveScript if the article has not changed since; if it has, it reads
// it again.
func (s *RedisStore) saveArticle(ctx context.Context, id string, decide func(articleState) (Version, error)) (Version, error) {
	token := rand.Text()
	for range staleRetries {
		st, err := s.state(ctx, id)
		if err != nil {
			return Version{}, err
		}
		v, err := decide(st)
		if err != nil {
			return Version{}, err
		}
		code, err := s.save(ctx, v, token)
		if err != nil || code == saveOK {
			return v, err
		}
		s.log.Debug().Str("article", id).Msg("article changed while saving; reading it again")
	}
	return Version{}, fmt.Errorf("saving article %q: it kept changing: %w", id, ErrConflict)
}

// save runs saveScript for version v of its article, read at version v.Version-1.
// token tells this call from every other (rand.Text).
func (s *RedisStore) save(ctx context.Context, v Version, token string) (int64, error) {
	entry, err := json.Marshal(v.Entry)
	if err != nil {
		return 0, fmt.Errorf("encoding article %q: %w", v.ID, err)
	}
	version, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encoding version %d of %q: %w", v.Version, v.ID, err)
	}
	keys := []string{s.entryKey(v.ID), s.versionsKey(v.ID), s.idsKey(), s.feedKey(), s.opKey()}
	code, err := saveScript.Run(ctx, s.rdb, keys, v.ID, v.Version, b2i(v.Deleted), entry, version, token, s.feedLen).Int64()
	if err != nil {
		return 0, fail(fmt.Sprintf("saving article %q", v.ID), err)
	}
	return code, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Create implements Store.
func (s *RedisStore) Create(ctx context.Context, e Entry, by, action string) (Entry, error) {
	v, err := s.saveArticle(ctx, e.ID, func(st articleState) (Version, error) {
		return decideCreate(st, e, by, action, s.now())
	})
	return v.Entry, err
}

// Update implements Store.
func (s *RedisStore) Update(ctx context.Context, e Entry, base int, by, action string, restoredFrom int) (Entry, error) {
	v, err := s.saveArticle(ctx, e.ID, func(st articleState) (Version, error) {
		return decideUpdate(st, e, base, by, action, restoredFrom, s.now())
	})
	return v.Entry, err
}

// Delete implements Store.
func (s *RedisStore) Delete(ctx context.Context, id string, base int, by string) error {
	_, err := s.saveArticle(ctx, id, func(st articleState) (Version, error) {
		return decideDelete(st, id, base, by, s.now())
	})
	return err
}

// Get implements Store.
func (s *RedisStore) Get(ctx context.Context, id string) (Entry, error) {
	raw, err := s.rdb.Get(ctx, s.entryKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Entry{}, fmt.Errorf("article %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fail(fmt.Sprintf("reading article %q", id), err)
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Entry{}, fmt.Errorf("decoding article %q: %w", id, err)
	}
	return e, nil
}

// listBatch bounds the keys of one MGET in List.
const listBatch = 500

// List implements Store. It reads the ids, then the entries in batches: an article
// deleted in between is left out.
func (s *RedisStore) List(ctx context.Context) ([]Entry, error) {
	ids, err := s.rdb.SMembers(ctx, s.idsKey()).Result()
	if err != nil {
		return nil, fail("listing articles", err)
	}
	slices.Sort(ids)
	out := make([]Entry, 0, len(ids))
	for chunk := range slices.Chunk(ids, listBatch) {
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = s.entryKey(id)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fail("listing articles", err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue
			}
			var e Entry
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				return nil, fmt.Errorf("decoding article %q: %w", chunk[i], err)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// Versions implements Store.
func (s *RedisStore) Versions(ctx context.Context, id string) ([]Version, error) {
	raws, err := s.rdb.LRange(ctx, s.versionsKey(id), 0, -1).Result()
	if err != nil {
		return nil, fail(fmt.Sprintf("reading versions of %q", id), err)
	}
	if len(raws) == 0 {
		return nil, fmt.Errorf("article %q: %w", id, ErrNotFound)
	}
	out := make([]Version, len(raws))
	for i, raw := range raws {
		v := &out[len(raws)-1-i]
		if err := json.Unmarshal([]byte(raw), v); err != nil {
			return nil, fmt.Errorf("decoding version %d of %q: %w", i+1, id, err)
		}
	}
	return out, nil
}

// Version implements Store.
func (s *RedisStore) Version(ctx context.Context, id string, n int) (Version, error) {
	if n < 1 {
		return Version{}, fmt.Errorf("article %q version %d: %w", id, n, ErrNotFound)
	}
	raw, err := s.rdb.LIndex(ctx, s.versionsKey(id), int64(n-1)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Version{}, fmt.Errorf("article %q version %d: %w", id, n, ErrNotFound)
	}
	if err != nil {
		return Version{}, fail(fmt.Sprintf("reading version %d of %q", n, id), err)
	}
	var v Version
	if err := json.Unmarshal(raw, &v); err != nil {
		return Version{}, fmt.Errorf("decoding version %d of %q: %w", n, id, err)
	}
	return v, nil
}

// seedChunk is the most articles one step of a Seed reads and writes. Redis runs a
// script, and a MULTI, alone: one step for 50,000 articles held every other client
// (every node's shoppers) for 2.2 s; a step of this many takes about 10 ms (some 45 µs
// an article), which leaves room under 50 ms on a busy machine.
const seedChunk = 200

// Seed implements Store. It seeds es in steps of seedChunk articles, each atomic (read,
// decided in Go, written by a script if nothing changed since): a seed cut short, by a
// crash or a lost connection, leaves its first steps done, and the next start seeds the
// rest, since an id once seeded is never seeded again.
func (s *RedisStore) Seed(ctx context.Context, source string, es []Entry, by string) ([]string, error) {
	es = seedIDs(es)
	token := rand.Text()
	var created []string
	for start := 0; start < len(es); start += seedChunk {
		c, err := s.seedStep(ctx, source, es[start:min(start+seedChunk, len(es))], by, token)
		if err != nil {
			return nil, err
		}
		created = append(created, c...)
	}
	return created, nil
}

// seedStep seeds es (distinct ids) in one step.
func (s *RedisStore) seedStep(ctx context.Context, source string, es []Entry, by, token string) ([]string, error) {
	for range staleRetries {
		// Read whether each id was seeded, and its state, in one MULTI.
		pipe := s.rdb.TxPipeline()
		seeded := make([]*redis.BoolCmd, len(es))
		entries := make([]*redis.StringCmd, len(es))
		lens := make([]*redis.IntCmd, len(es))
		for i, e := range es {
			seeded[i] = pipe.SIsMember(ctx, s.seededKey(source), e.ID)
			entries[i] = pipe.Get(ctx, s.entryKey(e.ID))
			lens[i] = pipe.LLen(ctx, s.versionsKey(e.ID))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fail(fmt.Sprintf("seeding from %q", source), err)
		}
		at := make(map[string]int, len(es))
		for i, e := range es {
			at[e.ID] = i
		}
		p := decideSeed(es,
			func(id string) bool { return seeded[at[id]].Val() },
			func(id string) articleState {
				i := at[id]
				// Only whether the id is live matters to a seed, not the entry.
				return articleState{versions: int(lens[i].Val()), live: entries[i].Err() == nil}
			}, by, s.now())
		if len(p.marks) == 0 {
			return nil, nil
		}
		creates := make(map[string]Version, len(p.creates))
		for _, v := range p.creates {
			creates[v.ID] = v
		}
		keys := []string{s.seededKey(source), s.idsKey(), s.feedKey(), s.opKey()}
		args := []any{token, s.feedLen}
		for _, id := range p.marks {
			var entry, version []byte
			if v, ok := creates[id]; ok {
				var err error
				if entry, err = json.Marshal(v.Entry); err != nil {
					return nil, fmt.Errorf("encoding article %q: %w", id, err)
				}
				if version, err = json.Marshal(v); err != nil {
					return nil, fmt.Errorf("encoding version %d of %q: %w", v.Version, id, err)
				}
			}
			keys = append(keys, s.entryKey(id), s.versionsKey(id))
			args = append(args, id, lens[at[id]].Val(), entry, version)
		}
		code, err := seedScript.Run(ctx, s.rdb, keys, args...).Int64()
		if err != nil {
			return nil, fail(fmt.Sprintf("seeding from %q", source), err)
		}
		if code == saveOK {
			var created []string
			for _, v := range p.creates {
				created = append(created, v.ID)
			}
			return created, nil
		}
		s.log.Debug().Str("source", source).Msg("articles changed while seeding; reading them again")
	}
	return nil, fmt.Errorf("seeding from %q: articles kept changing: %w", source, ErrConflict)
}

// AddUnanswered implements Store.
func (s *RedisStore) AddUnanswered(ctx context.Context, u Unanswered) error {
	u.ID = "" // the hash field is the id
	if u.At.IsZero() {
		u.At = s.now().UTC()
	}
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encoding question: %w", err)
	}
	keys := []string{s.questionsKey(), s.orderKey(), s.questionSeqKey()}
	if err := addUnansweredScript.Run(ctx, s.rdb, keys, b, s.maxUnanswered).Err(); err != nil {
		return fail("recording question", err)
	}
	return nil
}

// Unanswered implements Store.
func (s *RedisStore) Unanswered(ctx context.Context, limit int) ([]Unanswered, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := s.rdb.ZRevRange(ctx, s.orderKey(), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fail("reading questions", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.questionsKey(), ids...).Result()
	if err != nil {
		return nil, fail("reading questions", err)
	}
	var out []Unanswered
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // dismissed in between
		}
		var u Unanswered
		if err := json.Unmarshal([]byte(raw), &u); err != nil {
			return nil, fmt.Errorf("decoding question %s: %w", ids[i], err)
		}
		u.ID = ids[i]
		out = append(out, u)
	}
	return out, nil
}

// DismissUnanswered implements Store.
func (s *RedisStore) DismissUnanswered(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	pipe := s.rdb.TxPipeline()
	pipe.HDel(ctx, s.questionsKey(), ids...)
	pipe.ZRem(ctx, s.orderKey(), members...)
	if _, err := pipe.Exec(ctx); err != nil {
		return fail("dismissing questions", err)
	}
	return nil
}

// Ping implements Store.
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fail("pinging redis", err)
	}
	return nil
}

// streamID is a Redis stream entry id, ms-seq.
type streamID struct{ ms, seq uint64 }

// parseStreamID reads "ms-seq"; "" and "0" are 0-0.
func parseStreamID(s string) (streamID, bool) {
	if s == "" || s == "0" {
		return streamID{}, true
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, false
	}
	return streamID{ms, seq}, true
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// Changes implements Store. The feed is a stream and a cursor is the id of one of its
// entries; "" and "0" are its start. Each read checks the cursor in the same MULTI
// (readFeed): a cursor that is not an entry the stream holds gives ErrFeedGap, and so
// does the start once the stream has been trimmed.
func (s *RedisStore) Changes(ctx context.Context, cursor string, wait time.Duration) ([]Change, string, error) {
	from, ok := parseStreamID(cursor)
	if !ok {
		return nil, cursor, fmt.Errorf("reading changes after %q: not a cursor of this feed: %w", cursor, ErrFeedGap)
	}
	deadline := time.Now().Add(wait)
	for {
		out, err := s.readFeed(ctx, cursor, from)
		if err != nil {
			return nil, cursor, err
		}
		if len(out) > 0 {
			return out, out[len(out)-1].Cursor, nil
		}
		block := min(time.Until(deadline), maxBlock)
		if d, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(d))
		}
		if block <= 0 {
			return nil, cursor, ctx.Err()
		}
		// The blocking read only waits for the next entry; the loop reads it again with
		// the checks.
		err = s.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.feedKey(), from.String()},
			Count:   1,
			Block:   block.Truncate(time.Millisecond) + time.Millisecond,
		}).Err()
		if ctx.Err() != nil {
			return nil, cursor, ctx.Err()
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, cursor, fail("waiting for changes", err)
		}
	}
}

// readFeed returns the changes after from without waiting, or ErrFeedGap.
//
// Entries leave the stream only by trimming, oldest first (no XDEL), so the changes after
// a cursor are all there exactly when the cursor is still there (or is the start and
// nothing was trimmed: entries-added equals the length). A cursor trimmed a moment ago
// as the last of its batch is refused too, though nothing after it is lost: the stream
// does not say which id it trimmed last, and a needless rebuild is better than a missed
// change. The same rule refuses a cursor of a feed that was lost with its Redis data, or
// that never was one.
func (s *RedisStore) readFeed(ctx context.Context, cursor string, from streamID) ([]Change, error) {
	key := s.feedKey()
	pipe := s.rdb.TxPipeline()
	at := pipe.XRangeN(ctx, key, from.String(), from.String(), 1)
	read := pipe.XRead(ctx, &redis.XReadArgs{Streams: []string{key, from.String()}, Count: changesPage, Block: -1})
	info := pipe.XInfoStream(ctx, key)
	_, _ = pipe.Exec(ctx) // each command's error is looked at below
	if err := at.Err(); err != nil {
		return nil, fail("reading changes", err)
	}
	if err := read.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fail("reading changes", err)
	}
	zero := from == streamID{}
	if err := info.Err(); err != nil {
		if !strings.Contains(err.Error(), "no such key") {
			return nil, fail("reading changes", err)
		}
		if !zero {
			return nil, fmt.Errorf("reading changes after %q: the feed is empty: %w", cursor, ErrFeedGap)
		}
		return nil, nil
	}
	switch in := info.Val(); {
	case zero && in.EntriesAdded > in.Length:
		return nil, fmt.Errorf("reading changes from the start: %d of %d trimmed: %w", in.EntriesAdded-in.Length, in.EntriesAdded, ErrFeedGap)
	case !zero && len(at.Val()) == 0:
		return nil, fmt.Errorf("reading changes after %q (oldest kept %s): %w", cursor, in.FirstEntry.ID, ErrFeedGap)
	}
	var out []Change
	for _, st := range read.Val() {
		for _, x := range st.Messages {
			id, _ := x.Values["id"].(string)
			n, _ := x.Values["version"].(string)
			del, _ := x.Values["deleted"].(string)
			version, err := strconv.Atoi(n)
			if err != nil {
				return nil, fmt.Errorf("decoding change %s: version %q", x.ID, n)
			}
			out = append(out, Change{ID: id, Version: version, Deleted: del == "1", Cursor: x.ID})
		}
	}
	return out, nil
}

// Head implements Store.
func (s *RedisStore) Head(ctx context.Context) (string, error) {
	xs, err := s.rdb.XRevRangeN(ctx, s.feedKey(), "+", "-", 1).Result()
	if err != nil {
		return "", fail("reading the feed's head", err)
	}
	if len(xs) == 0 {
		return "", nil
	}
	return xs[0].ID, nil
}
