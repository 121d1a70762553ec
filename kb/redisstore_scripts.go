package kb

import "github.com/redis/go-redis/v9"

// Results of saveScript and seedScript.
const (
	saveOK    = 0 // saved, or saved before by this very call (a retry)
	saveStale = 1 // an article changed since the caller read it; nothing was written
)

// saveScript writes one version of an article, decided in Go (save.go) from the state
// the caller read, if the article has not changed since: every save appends a version,
// so an unchanged number of versions is an unchanged article. It writes the current
// entry (or deletes it), appends the version and adds the change to the feed, all in
// one step on keys of the one hash tag {kb}.
//
// KEYS[1] a:ID (entry JSON), KEYS[2] v:ID (versions), KEYS[3] ids, KEYS[4] feed, KEYS[5] op.
// ARGV[1] id, ARGV[2] the version n being saved (the caller read n-1 versions),
// ARGV[3] 1 when the version deletes the article, ARGV[4] the entry JSON, ARGV[5] the
// version JSON, ARGV[6] the call's random token, ARGV[7] the feed's MAXLEN.
//
// op holds, per article, "n token" of its latest save: when go-redis sends the script
// again because the reply was lost, the call is recognised and answered like the first
// time instead of as stale over its own write.
var saveScript = redis.NewScript(`
local n = tonumber(ARGV[2])
local op = n .. ' ' .. ARGV[6]
if redis.call('HGET', KEYS[5], ARGV[1]) == op then return 0 end
if redis.call('LLEN', KEYS[2]) ~= n - 1 then return 1 end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[3], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[4])
  redis.call('SADD', KEYS[3], ARGV[1])
end
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[5], ARGV[1], op)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'id', ARGV[1], 'version', n, 'deleted', ARGV[3])
return 0
`)

// seedScript writes a seed decided in Go (save.go): it marks ids as seeded from one
// source and creates some of them, if none of those ids was seeded and none of their
// articles changed since the caller read them; otherwise it writes nothing.
//
// KEYS[1] seeded:SOURCE, KEYS[2] ids, KEYS[3] feed, KEYS[4] op, then per id i (from 0)
// KEYS[5+2i] a:ID and KEYS[6+2i] v:ID.
// ARGV[1] the call's random token, ARGV[2] the feed's MAXLEN, then per id i
// ARGV[3+4i] id, ARGV[4+4i] the number of versions the caller read, ARGV[5+4i] the
// entry JSON of the article to create, empty to only mark the id, ARGV[6+4i] its
// version JSON. Ids are distinct.
//
// A run of this very call before (a retry, see saveScript) is recognised by the op of
// an article it created, and answered as saved.
var seedScript = redis.NewScript(`
local count = (#ARGV - 2) / 4
for i = 0, count - 1 do
  local n = tonumber(ARGV[4+4*i]) + 1
  if ARGV[5+4*i] ~= '' and redis.call('HGET', KEYS[4], ARGV[3+4*i]) == n .. ' ' .. ARGV[1] then return 0 end
end
for i = 0, count - 1 do
  if redis.call('SISMEMBER', KEYS[1], ARGV[3+4*i]) == 1
    or redis.call('LLEN', KEYS[6+2*i]) ~= tonumber(ARGV[4+4*i]) then
    return 1
  end
end
for i = 0, count - 1 do
  local id = ARGV[3+4*i]
  redis.call('SADD', KEYS[1], id)
  if ARGV[5+4*i] ~= '' then
    local n = tonumber(ARGV[4+4*i]) + 1
    redis.call('SET', KEYS[5+2*i], ARGV[5+4*i])
    redis.call('SADD', KEYS[2], id)
    redis.call('RPUSH', KEYS[6+2*i], ARGV[6+4*i])
    redis.call('HSET', KEYS[4], id, n .. ' ' .. ARGV[1])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'id', id, 'version', n, 'deleted', 0)
  end
end
return 0
`)

// addUnansweredScript records a question under the next id and drops the oldest beyond
// the limit.
//
// KEYS[1] u (id → question JSON), KEYS[2] u:order (ids scored by id), KEYS[3] u:seq.
// ARGV[1] the question JSON, ARGV[2] how many to keep. Returns the id.
var addUnansweredScript = redis.NewScript(`
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], id, ARGV[1])
redis.call('ZADD', KEYS[2], id, id)
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
if extra > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do
    redis.call('HDEL', KEYS[1], old)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
end
return id
`)
