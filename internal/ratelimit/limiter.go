package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// DefaultMaxKeys bounds the memory engine when Config.MaxKeys is 0.
const DefaultMaxKeys = 100_000

// Config configures a Limiter.
type Config struct {
	// Redis, when set, keeps the limits in Redis, shared by every node; nil keeps them
	// in this process's memory.
	Redis redis.UniversalClient
	// Prefix starts every Redis key; empty means "kefu:". Keys are PREFIXrl:RULE:DIGEST,
	// DIGEST naming the subject.
	Prefix string
	// MaxKeys bounds how many subjects the memory engine remembers; 0 means
	// DefaultMaxKeys.
	MaxKeys int
	// Off lets every request through (KEFU_RATE_LIMITS=off, for load tests).
	Off bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives the errors of the Redis engine, which Allow does not refuse on.
	Log zerolog.Logger
}

// Limiter decides whether a subject may make one more request under a rule. It is
// safe for concurrent use.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	off    bool
	now    func() time.Time
	log    zerolog.Logger

	max int
	mu  sync.Mutex           // guards tat
	tat map[string]time.Time // memory engine: key → theoretical arrival time
}

// New returns a Limiter.
func New(cfg Config) *Limiter {
	if cfg.Prefix == "" {
		cfg.Prefix = "kefu:"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	return &Limiter{
		rdb: cfg.Redis, prefix: cfg.Prefix, off: cfg.Off, now: cfg.Now, log: cfg.Log,
		max: cfg.MaxKeys, tat: make(map[string]time.Time),
	}
}

// Allow takes one request of subject under rule. When the request is over the limit
// it returns false and how long until one more would be allowed. When Redis fails it
// logs the error and returns true with the error, which callers need not log again:
// a limit never refuses because it could not be checked.
func (l *Limiter) Allow(ctx context.Context, rule Rule, subject string) (ok bool, retryAfter time.Duration, err error) {
	return l.decide(ctx, rule, subject, true)
}

// Check reports whether Allow would let one more request of subject through now,
// without taking it; a sign-in check asks before it spends a password hash.
func (l *Limiter) Check(ctx context.Context, rule Rule, subject string) (ok bool, retryAfter time.Duration, err error) {
	return l.decide(ctx, rule, subject, false)
}

// Reset forgets subject under rule, as after a successful sign-in.
func (l *Limiter) Reset(ctx context.Context, rule Rule, subject string) error {
	key := l.key(rule, subject)
	if l.rdb != nil {
		if err := l.rdb.Del(ctx, key).Err(); err != nil {
			return fmt.Errorf("resetting rate limit %s: %w", rule.Name, err)
		}
		return nil
	}
	l.mu.Lock()
	delete(l.tat, key)
	l.mu.Unlock()
	return nil
}

// key is the key of subject under rule. The subject is named by a digest, so that no
// key names an address, a shopper or a conversation: an erasure leaves none behind.
func (l *Limiter) key(rule Rule, subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return l.prefix + "rl:" + rule.Name + ":" + base64.RawURLEncoding.EncodeToString(sum[:12])
}

func (l *Limiter) decide(ctx context.Context, rule Rule, subject string, take bool) (bool, time.Duration, error) {
	if l == nil || l.off || rule.Off() {
		return true, 0, nil
	}
	now := l.now()
	key := l.key(rule, subject)
	if l.rdb == nil {
		ok, wait := l.memory(key, rule, now, take)
		return ok, wait, nil
	}
	wait, err := gcraScript.Run(ctx, l.rdb, []string{key},
		now.UnixMilli(), rule.Every.Milliseconds(), rule.Burst, boolArg(take)).Int64()
	if err != nil {
		err = fmt.Errorf("checking rate limit %s: %w", rule.Name, err)
		l.log.Warn().Err(err).Str("rule", rule.Name).Msg("rate limit not checked; request let through")
		return true, 0, err
	}
	if wait > 0 {
		return false, time.Duration(wait) * time.Millisecond, nil
	}
	return true, 0, nil
}

// gcra is the decision of both engines, on times in any unit: given the subject's
// theoretical arrival time tat (zero when unknown), it returns how long to wait (0
// when allowed) and the new tat to store when the request is taken.
func gcra(tat, now, every, burst int64) (wait, newTAT int64) {
	newTAT = max(tat, now) + every
	if allowAt := newTAT - every*burst; now < allowAt {
		return allowAt - now, tat
	}
	return 0, newTAT
}

// memory decides with the in-process map.
func (l *Limiter) memory(key string, rule Rule, now time.Time, take bool) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var tat int64
	if t, ok := l.tat[key]; ok {
		tat = t.UnixNano()
	}
	wait, newTAT := gcra(tat, now.UnixNano(), int64(rule.Every), int64(rule.Burst))
	if wait > 0 {
		return false, time.Duration(wait)
	}
	if take {
		if _, ok := l.tat[key]; !ok && len(l.tat) >= l.max {
			l.evict(now)
		}
		l.tat[key] = time.Unix(0, newTAT)
	}
	return true, 0
}

// evict makes room for one key: it drops every entry whose time has passed (such a
// subject is as fresh as an unknown one), and if none has, an arbitrary one, which
// lets that subject start afresh: memory stays bounded whatever the number of
// clients.
func (l *Limiter) evict(now time.Time) {
	for k, t := range l.tat {
		if !t.After(now) {
			delete(l.tat, k)
		}
	}
	if len(l.tat) < l.max {
		return
	}
	for k := range l.tat {
		delete(l.tat, k)
		if len(l.tat) < l.max {
			return
		}
	}
}

func boolArg(b bool) int {
	if b {
		return 1
	}
	return 0
}

// gcraScript is gcra in Lua, run atomically, so that every node shares one limit.
// KEYS[1] holds the tat in milliseconds and expires when it has passed.
// ARGV: now (ms), every (ms), burst, take (1 or 0). It returns the wait in ms.
var gcraScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local every = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local newtat = math.max(tat, now) + every
local allowat = newtat - every * burst
if now < allowat then
  return allowat - now
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], newtat, 'PX', newtat - now)
end
return 0
`)
