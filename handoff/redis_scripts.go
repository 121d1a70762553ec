package handoff

import "github.com/redis/go-redis/v9"

// createScript stores a new conversation's meta hash unless it exists.
// KEYS[1] meta; ARGV field/value pairs.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
return 1
`)

// applyScript checks and applies a status change and appends one record to the log, all
// on one conversation's keys, so it runs atomically in one cluster slot.
//
// KEYS[1] meta hash, KEYS[2] log stream, KEYS[3] ids hash (record id -> seq).
// ARGV[1] record id, ARGV[2] record JSON (without seq), ARGV[3] allowed statuses,
// comma separated ("" = any), ARGV[4] new status ("" = keep), ARGV[5] required owner
// ("" = any), ARGV[6..] field/value pairs set with the new status.
//
// Returns {0, seq} when stored, {1, seq} when the record id was stored before (a retry:
// nothing changes), {-1} for an unknown conversation, {-2, status, agent} when the
// status or owner does not fit.
//
// The record id check comes first so that a retried call (go-redis retries a script whose
// reply was lost) answers like the first one instead of failing on its own change.
var applyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local seen = redis.call('HGET', KEYS[3], ARGV[1])
if seen then return {1, tonumber(seen)} end
local status = redis.call('HGET', KEYS[1], 'status') or ''
local agent = redis.call('HGET', KEYS[1], 'agent') or ''
if ARGV[3] ~= '' then
  local ok = false
  for s in string.gmatch(ARGV[3], '[^,]+') do
    if s == status then ok = true end
  end
  if not ok then return {-2, status, agent} end
end
if ARGV[5] ~= '' and agent ~= ARGV[5] then return {-2, status, agent} end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'status', ARGV[4])
  for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], seq .. '-1', 'm', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], seq)
return {0, seq}
`)

// The routing scripts below work on the keys of the routing state, which all carry the
// hash tag {q} and so live in one cluster slot:
//
//	route      hash  conversation → route "group|score|front|since|vip|agent|key"
//	rev        hash  conversation → routing revision (never deleted)
//	pending    hash  conversation → change "rev|kind|agent|to|enter|at", and
//	                 conversation:p / :n / :d → route before, route after, desk data
//	pendingat  zset  conversation → time of its pending change (ms)
//	wait:G     zset  conversation → queue score, group G's queue
//	owned:A    set   agent A's conversations; its size is A's load
//	groups     set   groups that have had a queue
//	agents     hash  agent → presence "group|status|cap|seen"
//	seen       zset  tracked agent → last heartbeat (ms), 0 once they said offline
//
// Every key a script touches is passed in KEYS; the caller reads the state first to name
// them (an agent's owned set, a group's queue) and the script checks that the state did
// not change. Times come from the caller's clock, not the server's.

// routeLua holds the helpers every routing script starts with.
const routeLua = `
local FRONT = 1099511627776
local function parse(s)
  if not s or s == '' then return nil end
  local g, sc, f, t, v, a, k = string.match(s, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not g then return nil end
  return {g = g, s = sc, f = f, t = t, v = v, a = a, k = k}
end
local function join(r)
  return table.concat({r.g, r.s, r.f, r.t, r.v, r.a, r.k}, '|')
end
local function qscore(r)
  if r.f == '1' then return string.format('%.0f', tonumber(r.s) - FRONT) end
  return r.s
end
local function setPending(pkey, atkey, conv, header, prev, nxt, data, at)
  redis.call('HSET', pkey, conv, header, conv .. ':p', prev, conv .. ':n', nxt, conv .. ':d', data)
  redis.call('ZADD', atkey, at, conv)
end
local function clearPending(pkey, atkey, conv)
  redis.call('HDEL', pkey, conv, conv .. ':p', conv .. ':n', conv .. ':d')
  redis.call('ZREM', atkey, conv)
end
`

// rerouteScript is a compare-and-set of one conversation's route (Store.Reroute).
//
// KEYS[1] route, [2] rev, [3] pending, [4] pendingat, [5] the queue of the route before
// (or an unused key), [6] the owned set of the owner before, [7] the owned set of the
// owner after. ARGV[1] conversation, [2] revision read, [3] route read ("" = none),
// [4] new route ("" = none), [5] the new owner's cap, [6] change header, [7] data,
// [8] time (ms).
//
// Returns 0 when applied, -1 when the revision or route changed, -2 when another change
// is pending, -3 when the new owner is at their cap.
var rerouteScript = redis.NewScript(routeLua + `
local conv = ARGV[1]
local rev = tonumber(redis.call('HGET', KEYS[2], conv) or '0')
local cur = redis.call('HGET', KEYS[1], conv) or ''
if rev ~= tonumber(ARGV[2]) or cur ~= ARGV[3] then return -1 end
if redis.call('HEXISTS', KEYS[3], conv) == 1 then return -2 end
local prev, nxt = parse(ARGV[3]), parse(ARGV[4])
if nxt and nxt.a ~= '' and (not prev or prev.a ~= nxt.a) then
  if redis.call('SCARD', KEYS[7]) >= tonumber(ARGV[5]) then return -3 end
end
if prev then
  if prev.a == '' then redis.call('ZREM', KEYS[5], conv) else redis.call('SREM', KEYS[6], conv) end
end
if nxt then
  redis.call('HSET', KEYS[1], conv, ARGV[4])
  if nxt.a ~= '' then redis.call('SADD', KEYS[7], conv) end
else
  redis.call('HDEL', KEYS[1], conv)
end
redis.call('HINCRBY', KEYS[2], conv, 1)
setPending(KEYS[3], KEYS[4], conv, ARGV[6], ARGV[3], ARGV[4], ARGV[7], ARGV[8])
return 0
`)

// finishScript ends a pending change (Store.FinishRoute): a route that enters its queue
// joins it now.
//
// KEYS[1] route, [2] pending, [3] pendingat, [4] the queue of the route after, [5] groups.
// ARGV[1] conversation, [2] the change's revision, [3] the group of the route after.
//
// Returns 1 when finished, 0 when that change is not pending.
var finishScript = redis.NewScript(routeLua + `
local h = redis.call('HGET', KEYS[2], ARGV[1])
if not h then return 0 end
local rev, enter = string.match(h, '^([^|]*)|[^|]*|[^|]*|[^|]*|([^|]*)|')
if rev ~= ARGV[2] then return 0 end
if enter == '1' then
  local r = parse(redis.call('HGET', KEYS[1], ARGV[1]))
  if r and r.a == '' then
    if r.g ~= ARGV[3] then return redis.error_reply('route of ' .. ARGV[1] .. ' changed while pending') end
    redis.call('ZADD', KEYS[4], qscore(r), ARGV[1])
    redis.call('SADD', KEYS[5], r.g)
  end
end
clearPending(KEYS[2], KEYS[3], ARGV[1])
return 1
`)

// undoScript reverts a pending change (Store.UndoRoute).
//
// KEYS[1] route, [2] rev, [3] pending, [4] pendingat, [5] the queue of the route before,
// [6] the owned set of the owner before, [7] the owned set of the owner after, [8] groups.
// ARGV[1] conversation, [2] the change's revision.
//
// Returns 1 when reverted, 0 when that change is not pending.
var undoScript = redis.NewScript(routeLua + `
local conv = ARGV[1]
local h = redis.call('HGET', KEYS[3], conv)
if not h or string.match(h, '^([^|]*)') ~= ARGV[2] then return 0 end
local prevs = redis.call('HGET', KEYS[3], conv .. ':p') or ''
local prev, nxt = parse(prevs), parse(redis.call('HGET', KEYS[3], conv .. ':n'))
if nxt and nxt.a ~= '' then redis.call('SREM', KEYS[7], conv) end
if prev then
  redis.call('HSET', KEYS[1], conv, prevs)
  if prev.a == '' then
    redis.call('ZADD', KEYS[5], qscore(prev), conv)
    redis.call('SADD', KEYS[8], prev.g)
  else
    redis.call('SADD', KEYS[6], conv)
  end
else
  redis.call('HDEL', KEYS[1], conv)
end
redis.call('HINCRBY', KEYS[2], conv, 1)
clearPending(KEYS[3], KEYS[4], conv)
return 1
`)

// assignScript gives the first conversation of a queue to the least loaded candidate
// agent who is online in the group, has a recent heartbeat and is below their cap
// (Store.Assign).
//
// KEYS[1] the group's queue, [2] route, [3] rev, [4] pending, [5] pendingat, [6] agents,
// [7] seen, [8...] the owned set of each candidate. ARGV[1] group, [2] heartbeat cutoff
// (ms), [3] time (ms), [4...] the candidates, in the order of their KEYS.
//
// Returns {1, conversation, rev, route before, route after} when assigned, {0} when there
// is no conversation or no agent, {-1} when the first entry of the queue was left over
// (removed: try again), {-2} when it has a pending change.
var assignScript = redis.NewScript(routeLua + `
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if #head == 0 then return {0} end
local conv = head[1]
if redis.call('HEXISTS', KEYS[4], conv) == 1 then return {-2} end
local prevs = redis.call('HGET', KEYS[2], conv)
local r = parse(prevs)
if not r or r.a ~= '' or r.g ~= ARGV[1] then
  redis.call('ZREM', KEYS[1], conv)
  return {-1}
end
local best, bestLoad, bestKey = nil, 0, nil
for i = 4, #ARGV do
  local a = ARGV[i]
  local p = redis.call('HGET', KEYS[6], a)
  local seen = redis.call('ZSCORE', KEYS[7], a)
  if p and seen and tonumber(seen) >= tonumber(ARGV[2]) then
    local g, st, cap = string.match(p, '^([^|]*)|([^|]*)|([^|]*)|')
    if g == ARGV[1] and st == 'online' then
      local key = KEYS[i + 4]
      local n = redis.call('SCARD', key)
      if n < tonumber(cap) and (best == nil or n < bestLoad) then
        best, bestLoad, bestKey = a, n, key
      end
    end
  end
end
if not best then return {0} end
r.a = best
local nxt = join(r)
redis.call('ZREM', KEYS[1], conv)
redis.call('HSET', KEYS[2], conv, nxt)
redis.call('SADD', bestKey, conv)
local rev = redis.call('HINCRBY', KEYS[3], conv, 1)
setPending(KEYS[4], KEYS[5], conv, rev .. '|assign|' .. best .. '|' .. best .. '|0|' .. ARGV[3], prevs, nxt, '', ARGV[3])
return {1, conv, rev, prevs, nxt}
`)

// expireScript takes back the conversations of an agent who went offline (Store.Expire):
// each becomes a pending requeue to the front of its queue, and the agent is marked
// offline. Conversations with another pending change stay, and so does the agent's
// entry in seen, for the next sweep.
//
// KEYS[1] agents, [2] seen, [3] the agent's owned set, [4] route, [5] rev, [6] pending,
// [7] pendingat. ARGV[1] agent, [2] heartbeat cutoff (ms), [3] time (ms).
//
// Returns {conversation, rev, route before, route after, ...} for each requeued one.
var expireScript = redis.NewScript(routeLua + `
local a = ARGV[1]
local p = redis.call('HGET', KEYS[1], a)
local seen = redis.call('ZSCORE', KEYS[2], a)
if not p or not seen then
  redis.call('ZREM', KEYS[2], a)
  return {}
end
local g, st, cap, t = string.match(p, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
if st ~= 'offline' and tonumber(seen) >= tonumber(ARGV[2]) then return {} end
local out, left = {}, 0
for _, conv in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('HEXISTS', KEYS[6], conv) == 1 then
    left = left + 1
  else
    local prevs = redis.call('HGET', KEYS[4], conv)
    local r = parse(prevs)
    redis.call('SREM', KEYS[3], conv)
    if r and r.a == a then
      r.a, r.f, r.t = '', '1', ARGV[3]
      local nxt = join(r)
      redis.call('HSET', KEYS[4], conv, nxt)
      local rev = redis.call('HINCRBY', KEYS[5], conv, 1)
      setPending(KEYS[6], KEYS[7], conv, rev .. '|requeue|' .. a .. '||1|' .. ARGV[3], prevs, nxt, '', ARGV[3])
      table.insert(out, conv)
      table.insert(out, rev)
      table.insert(out, prevs)
      table.insert(out, nxt)
    end
  end
end
redis.call('HSET', KEYS[1], a, g .. '|offline|' .. cap .. '|' .. t)
if left == 0 then redis.call('ZREM', KEYS[2], a) end
return out
`)
