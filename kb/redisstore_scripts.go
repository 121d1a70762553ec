package kb

import "github.com/redis/go-redis/v9"

// Results of saveScript and seedScript.
const (
	saveOK       = 0 // saved, or saved before by this very call (a retry)
	saveExists   = 1 // create: the id is in use
	saveNotFound = 2 // update, delete: no such article
	saveConflict = 3 // update, delete: the latest version is not the base
	saveStale    = 4 // create, seed: the versions moved since the caller read them; read again
)

// saveScript creates, updates or deletes one article: it checks the article's state,
// writes the current entry, appends the version and adds the change to the feed, all in
// one step on keys of the one hash tag {kb}.
//
// KEYS[1] a:ID (entry JSON), KEYS[2] v:ID (versions), KEYS[3] ids, KEYS[4] feed, KEYS[5] op.
// ARGV[1] id, ARGV[2] "create", "update" or "delete", ARGV[3] the version n being saved,
// ARGV[4] the entry JSON, ARGV[5] the version JSON, ARGV[6] the call's random token,
// ARGV[7] the feed's MAXLEN.
//
// The latest version of an article is the length of v:ID, whether it is live or deleted.
// op holds, per article, "n token" of its latest save: when go-redis sends the script
// again because the reply was lost, the call is recognised and answered like the first
// time instead of failing on its own write.
var saveScript = redis.NewScript(`
local n = tonumber(ARGV[3])
local op = n .. ' ' .. ARGV[6]
if redis.call('HGET', KEYS[5], ARGV[1]) == op then return 0 end
local exists = redis.call('EXISTS', KEYS[1]) == 1
local latest = redis.call('LLEN', KEYS[2])
if ARGV[2] == 'create' then
  if exists then return 1 end
  if latest ~= n - 1 then return 4 end
else
  if not exists then return 2 end
  if latest ~= n - 1 then return 3 end
end
local deleted = 0
if ARGV[2] == 'delete' then
  deleted = 1
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[3], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[4])
  redis.call('SADD', KEYS[3], ARGV[1])
end
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[5], ARGV[1], op)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'id', ARGV[1], 'version', n, 'deleted', deleted)
return 0
`)

// seedScript creates the entries never seeded from one source, marking each id seeded,
// in one step. An id already seeded, or in use, is only marked.
//
// KEYS[1] seeded:SOURCE, KEYS[2] ids, KEYS[3] feed, KEYS[4] op, then per entry i (from 0)
// KEYS[5+2i] a:ID and KEYS[6+2i] v:ID.
// ARGV[1] the call's random token, ARGV[2] the feed's MAXLEN, then per entry i
// ARGV[3+4i] id, ARGV[4+4i] the version n it is created at, ARGV[5+4i] entry JSON,
// ARGV[6+4i] version JSON. Ids are distinct.
//
// Returns {0, created ids...}, or {4} when an entry to create has versions the caller
// did not see (nothing is written then). Entries created by an earlier run of this very
// call (a retry, see saveScript) count as created.
var seedScript = redis.NewScript(`
local count = (#ARGV - 2) / 4
local function mine(i)
  return redis.call('HGET', KEYS[4], ARGV[3+4*i]) == ARGV[4+4*i] .. ' ' .. ARGV[1]
end
for i = 0, count - 1 do
  if not mine(i) and redis.call('SISMEMBER', KEYS[1], ARGV[3+4*i]) == 0
    and redis.call('EXISTS', KEYS[5+2*i]) == 0
    and redis.call('LLEN', KEYS[6+2*i]) ~= tonumber(ARGV[4+4*i]) - 1 then
    return {4}
  end
end
local out = {0}
for i = 0, count - 1 do
  local id = ARGV[3+4*i]
  if mine(i) then
    table.insert(out, id)
  elseif redis.call('SISMEMBER', KEYS[1], id) == 0 then
    redis.call('SADD', KEYS[1], id)
    if redis.call('EXISTS', KEYS[5+2*i]) == 0 then
      redis.call('SET', KEYS[5+2*i], ARGV[5+4*i])
      redis.call('SADD', KEYS[2], id)
      redis.call('RPUSH', KEYS[6+2*i], ARGV[6+4*i])
      redis.call('HSET', KEYS[4], id, ARGV[4+4*i] .. ' ' .. ARGV[1])
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'id', id, 'version', ARGV[4+4*i], 'deleted', 0)
      table.insert(out, id)
    end
  end
end
return out
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
