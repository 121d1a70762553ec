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
