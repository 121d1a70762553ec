package redisstore

import "github.com/redis/go-redis/v9"

// The scripts only compare and store: every decision was made by the desk before the
// call. Keys are passed in KEYS; a key a call does not touch is passed as the unused key
// of its slot, so that every key of a call is in one cluster slot.

// createScript stores a new conversation's record at revision 1 unless it exists.
// KEYS[1] record hash. ARGV[1] record. Returns 1 when stored, 0 when it exists.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'rev', 1, 'seq', 0)
return 1
`)

// commitScript is a change of one conversation's side, all in its slot: the record (a
// compare-and-set on its revision) and its log, announced on the event channel.
//
// KEYS[1] record hash {rec, rev, seq}, [2] log stream, [3] ids hash (record id → seq).
// ARGV[1] conversation, [2] revision read ('0': no check), [3] the record after (”:
// keep it), [4] channel, [5] n records, then each record's id and JSON (without seq).
//
// Returns {-1} for an unknown conversation; {-2, rev} when the revision moved; else
// {code, seq of each record, rev, seq, record}, code 1 when the first record was stored
// before (the change was made: nothing is stored), 0 when stored. A record stored before
// is not stored again and has its seq negated (0 when it was never stored).
var commitScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local n = tonumber(ARGV[5])
local out = {0}
if n > 0 and redis.call('HEXISTS', KEYS[3], ARGV[6]) == 1 then
  out[1] = 1
  for i = 1, n do out[i + 1] = -tonumber(redis.call('HGET', KEYS[3], ARGV[4 + 2 * i]) or '0') end
  local st = redis.call('HMGET', KEYS[1], 'rev', 'seq', 'rec')
  table.insert(out, tonumber(st[1]))
  table.insert(out, tonumber(st[2]))
  table.insert(out, st[3])
  return out
end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev'))
if ARGV[2] ~= '0' and rev ~= tonumber(ARGV[2]) then return {-2, rev} end
if ARGV[3] ~= '' then
  rev = rev + 1
  redis.call('HSET', KEYS[1], 'rec', ARGV[3], 'rev', rev)
end
local bodies, seqs = {}, {}
for i = 1, n do
  local id, body = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  local s = redis.call('HGET', KEYS[3], id)
  if s then
    out[i + 1] = -tonumber(s)
  else
    local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
    redis.call('XADD', KEYS[2], seq .. '-1', 'm', body)
    redis.call('HSET', KEYS[3], id, seq)
    out[i + 1] = seq
    table.insert(bodies, body)
    table.insert(seqs, seq)
  end
end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local rec = redis.call('HGET', KEYS[1], 'rec')
table.insert(out, rev)
table.insert(out, seq)
table.insert(out, rec)
if #bodies > 0 or ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[4], '{"type":"conversation","conversation":' .. cjson.encode(ARGV[1]) ..
    ',"rev":' .. rev .. ',"seq":' .. seq .. ',"rec":' .. rec ..
    ',"msgs":[' .. table.concat(bodies, ',') .. '],"seqs":[' .. table.concat(seqs, ',') .. ']}')
end
return out
`)

// The routing side, under the hash tag {q}:
//
//	rev        hash  conversation → the revision its last routing change made (absent: 1)
//	pending    hash  conversation → id of the change being written, conversation:c → it
//	pendingat  zset  conversation → when that change began (ms)
//	wait:G     zset  conversation → queue score, group G's queue
//	ver        hash  group → the version of its queue
//	owned:A    set   agent A's conversations; its size is A's load
//	agents     hash  agent → presence
//	waits      list  recent waits (ms), newest first, pushed by the changes that end them

// routingLua is the start of the scripts of the routing side: what they share.
//
// announce moves group's queue version on in the ver hash and publishes event, a queue
// event without its version, with the new one on channel. settle drops conversation
// conv's pending change from the pending hash and pendingat.
const routingLua = `
local function announce(ver, group, event, channel)
  local v = redis.call('HINCRBY', ver, group, 1)
  redis.call('PUBLISH', channel, event .. v .. '}')
end
local function settle(pending, pendingat, conv)
  redis.call('HDEL', pending, conv, conv .. ':c')
  redis.call('ZREM', pendingat, conv)
end
`

// reserveScript begins a change that moves the routing side: it checks that no routing
// change was made since the revision read and that the new owner's load is the one
// read, takes the conversation out of the queue it leaves, moves it between owners, and
// records the change as pending until finishScript. A change of the record alone (one
// that moves no index, such as a resolved chat going back to the bot) is written in the
// conversation's slot only and moves the record's revision past the routing side's, so
// the routing side refuses a change only when it knows a later revision than the one the
// change was decided on; whether the record itself moved is the commit script's check.
//
// KEYS[1] rev, [2] pending, [3] pendingat, [4] the queue it leaves, [5] the owner set it
// leaves, [6] the owner set it joins, [7] the owner set whose load is checked, [8] ver,
// [9] waits. ARGV[1] conversation, [2] revision read, [3] change id, [4] change, [5]
// time (ms), [6] load read ('-1': none), [7] '1' to leave the queue, [8] its group, [9]
// the left event without its version, [10] channel, [11] '1' to leave the owner, [12]
// '1' to join the owner, [13] the wait to keep (ms, '0': none), [14] how many to keep.
//
// Returns 0 when reserved, 1 when this change is pending already (a retried call), -1
// when a routing change was made since the revision read or the load moved, -2 when
// another change is pending.
var reserveScript = redis.NewScript(routingLua + `
local conv = ARGV[1]
local p = redis.call('HGET', KEYS[2], conv)
if p then
  if p == ARGV[3] then return 1 end
  return -2
end
local read = tonumber(ARGV[2])
if tonumber(redis.call('HGET', KEYS[1], conv) or '1') > read then return -1 end
if ARGV[6] ~= '-1' and redis.call('SCARD', KEYS[7]) ~= tonumber(ARGV[6]) then return -1 end
if ARGV[13] ~= '0' then
  redis.call('LPUSH', KEYS[9], ARGV[13])
  redis.call('LTRIM', KEYS[9], 0, tonumber(ARGV[14]) - 1)
end
if ARGV[7] == '1' and redis.call('ZREM', KEYS[4], conv) == 1 then
  announce(KEYS[8], ARGV[8], ARGV[9], ARGV[10])
end
if ARGV[11] == '1' then redis.call('SREM', KEYS[5], conv) end
if ARGV[12] == '1' then redis.call('SADD', KEYS[6], conv) end
redis.call('HSET', KEYS[1], conv, read + 1)
redis.call('HSET', KEYS[2], conv, ARGV[3], conv .. ':c', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], conv)
return 0
`)

// finishScript ends a pending change: the conversation joins the queue it goes to.
//
// KEYS[1] pending, [2] pendingat, [3] the queue it joins, [4] ver. ARGV[1]
// conversation, [2] change id, [3] '1' to join the queue, [4] the score, [5] its group,
// [6] the joined event without its version, [7] channel.
//
// Returns 1 when finished, 0 when the change is not pending (finished before).
var finishScript = redis.NewScript(routingLua + `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '1' and redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1]) == 1 then
  announce(KEYS[4], ARGV[5], ARGV[6], ARGV[7])
end
settle(KEYS[1], KEYS[2], ARGV[1])
return 1
`)

// undoScript reverts a pending change whose conversation side was refused.
//
// KEYS[1] rev, [2] pending, [3] pendingat, [4] the queue it left, [5] the owner set it
// left, [6] the owner set it joined, [7] ver. ARGV[1] conversation, [2] change id, [3]
// the revision the change was decided on, [4] '1' to rejoin the queue, [5] the score,
// [6] its group, [7] the joined event without its version, [8] channel, [9] '1' to
// rejoin the owner, [10] '1' to leave the new owner.
//
// Returns 1 when reverted, 0 when the change is not pending.
var undoScript = redis.NewScript(routingLua + `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[4] == '1' and redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) == 1 then
  announce(KEYS[7], ARGV[6], ARGV[7], ARGV[8])
end
if ARGV[9] == '1' then redis.call('SADD', KEYS[5], ARGV[1]) end
if ARGV[10] == '1' then redis.call('SREM', KEYS[6], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
settle(KEYS[2], KEYS[3], ARGV[1])
return 1
`)

// placeScript reads a conversation's rank in a queue and the queue's version together.
// KEYS[1] the queue, [2] ver. ARGV[1] conversation, [2] group. Returns {rank or -1, ver}.
var placeScript = redis.NewScript(`
local r = redis.call('ZRANK', KEYS[1], ARGV[1])
local v = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if not r then return {-1, v} end
return {r, v}
`)

// swapScript stores a hash field, or only if it still holds the value read.
// KEYS[1] hash. ARGV[1] field, [2] new value, [3] '1' to compare, [4] value read.
// Returns 1 when stored, 0 when the field moved.
var swapScript = redis.NewScript(`
if ARGV[3] == '1' and redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// keyedScript appends an entry "id\njson" to a conversation's list unless an entry with
// the id is kept, so that a call go-redis retries after a lost reply adds it once.
//
// KEYS[1] the conversation's record, [2] the list. ARGV[1] id, [2] entry, [3] limit,
// [4] 'trim' to keep the latest limit entries, 'cap' to refuse past limit.
//
// Returns {-1} for an unknown conversation, {-2} at the cap, {0, entry} when the id is
// kept already, {1} when added.
var keyedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local p = ARGV[1] .. '\n'
local all = redis.call('LRANGE', KEYS[2], 0, -1)
for _, e in ipairs(all) do
  if string.sub(e, 1, #p) == p then return {0, e} end
end
if ARGV[4] == 'cap' and #all >= tonumber(ARGV[3]) then return {-2} end
redis.call('RPUSH', KEYS[2], ARGV[2])
if ARGV[4] == 'trim' then redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1) end
return {1}
`)
