// The Redis queue's operations, each one Lua script: Redis runs a script atomically, so a check and the
// update that depends on it (maxsize, a lease's owner) cannot race with another client. Every script
// that changes the queue records its result under the request's memo key, so a request retried after a
// reply was lost (the connection dropped) returns the first result instead of acting twice.
//
// Keys: meta (hash: settings and counters ready, leased, dead, put, finished), stream (consumer group
// "g": a leased item is pending in the group, owned by its consumer; an item given back is owned by
// "@returned" and its id is in the returned list), dead (stream of dead letters), the bells (lists of
// wake-up tokens) and the memo.

const HELPERS = `
local function payloadOf(entry)
  local f = entry[2]
  for i = 1, #f, 2 do if f[i] == 'v' then return f[i + 1] end end
  return ''
end
local function trimmedPush(list)
  redis.call('LPUSH', list, '1')
  redis.call('LTRIM', list, 0, 1023)
end
local function finish(meta)
  if redis.call('HGET', meta, 'joinable') == '1' then redis.call('HINCRBY', meta, 'finished', 1) end
end
local function deadLetter(meta, stream, dead, id, payload, deliveries)
  redis.call('XADD', dead, '*', 'v', payload, 'n', deliveries)
  redis.call('XACK', stream, 'g', id)
  redis.call('XDEL', stream, id)
  redis.call('HINCRBY', meta, 'dead', 1)
  finish(meta)
end
local function owned(stream, id, consumer, deliveries)
  local p = redis.call('XPENDING', stream, 'g', id, id, 1)
  return #p == 1 and p[1][2] == consumer and p[1][4] == tonumber(deliveries)
end
`;

/** The fields of the meta hash that hold settings, in the order SETTINGS returns them. */
export const SETTING_FIELDS = [
  "version",
  "maxsize",
  "maxDeliveries",
  "leaseTimeout",
  "joinable",
  "codec",
  "maxItemBytes",
] as const;

/**
 * KEYS meta stream returned dead itemBell spaceBell; ARGV the SETTING_FIELDS' values → {"ok"} | {"exists"}.
 * Leftovers of a queue of that name unlinked halfway are removed first.
 */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'maxsize', ARGV[2], 'maxDeliveries', ARGV[3],
  'leaseTimeout', ARGV[4], 'joinable', ARGV[5], 'codec', ARGV[6], 'maxItemBytes', ARGV[7],
  'ready', 0, 'leased', 0, 'dead', 0, 'put', 0, 'finished', 0)
redis.call('XGROUP', 'CREATE', KEYS[2], 'g', '$', 'MKSTREAM')
return {'ok'}
`;

/**
 * KEYS meta stream itemBell memo idempotency spaceBell; ARGV payload memoTtl idempotencyTtl hasIdempotencyKey
 * → {"ok", id | "dup"} | {"full"} | {"gone"}. maxsize is checked here, atomically with the add.
 */
export const PUT = `
local memo = redis.call('GET', KEYS[4])
if memo then return {'ok', memo} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local maxsize = tonumber(redis.call('HGET', KEYS[1], 'maxsize'))
if maxsize > 0 and tonumber(redis.call('HGET', KEYS[1], 'ready')) >= maxsize then
  redis.call('DEL', KEYS[6]) -- tokens of room taken already
  return {'full'}
end
if ARGV[4] == '1' and not redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[3]) then
  redis.call('SET', KEYS[4], 'dup', 'PX', ARGV[2])
  return {'ok', 'dup'}
end
local id = redis.call('XADD', KEYS[2], '*', 'v', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'ready', 1)
redis.call('HINCRBY', KEYS[1], 'put', 1)
redis.call('LPUSH', KEYS[3], '1')
redis.call('LTRIM', KEYS[3], 0, 1023)
redis.call('SET', KEYS[4], id, 'PX', ARGV[2])
return {'ok', id}
`;

/**
 * KEYS meta stream returned dead spaceBell memo itemBell; ARGV consumer mode("get"|"lease") memoTtl
 * → {"ok", id, payload, deliveries} | {"empty"} | {"gone"}. Takes an item given back first, then one
 * whose lease expired (its consumer died or hung; past maxDeliveries it becomes a dead letter), then a
 * new one. A "get" removes it at once; a "lease" leaves it pending, owned by the consumer.
 */
export const TAKE = `${HELPERS}
local meta, stream, returned, dead, spaceBell, memo, itemBell = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local consumer, mode, ttl = ARGV[1], ARGV[2], ARGV[3]
local before = redis.call('HMGET', memo, 'id', 'v', 'n')
if before[1] then return {'ok', before[1], before[2], tonumber(before[3])} end
if redis.call('EXISTS', meta) == 0 then return {'gone'} end
local function deliver(id, payload, deliveries)
  if mode == 'get' then
    redis.call('XACK', stream, 'g', id)
    redis.call('XDEL', stream, id)
    finish(meta)
    trimmedPush(spaceBell)
  else
    redis.call('HINCRBY', meta, 'leased', 1)
  end
  redis.call('HSET', memo, 'id', id, 'v', payload, 'n', deliveries)
  redis.call('PEXPIRE', memo, ttl)
  return {'ok', id, payload, deliveries}
end
while true do
  local id = redis.call('LPOP', returned)
  if not id then break end
  local p = redis.call('XPENDING', stream, 'g', id, id, 1)
  if #p == 1 and p[1][2] == '@returned' then
    redis.call('HINCRBY', meta, 'ready', -1)
    local c = redis.call('XCLAIM', stream, 'g', consumer, 0, id)
    if #c == 1 and c[1] then return deliver(id, payloadOf(c[1]), p[1][4] + 1) end
  end
end
local maxDeliveries = tonumber(redis.call('HGET', meta, 'maxDeliveries'))
local leaseTimeout = tonumber(redis.call('HGET', meta, 'leaseTimeout'))
local expired = redis.call('XPENDING', stream, 'g', 'IDLE', leaseTimeout, '-', '+', 32)
for _, e in ipairs(expired) do
  if e[2] ~= '@returned' then
    local c = redis.call('XCLAIM', stream, 'g', consumer, leaseTimeout, e[1])
    if #c == 1 and c[1] then
      redis.call('HINCRBY', meta, 'leased', -1)
      if e[4] >= maxDeliveries then
        deadLetter(meta, stream, dead, e[1], payloadOf(c[1]), e[4])
        trimmedPush(spaceBell)
      else
        return deliver(e[1], payloadOf(c[1]), e[4] + 1)
      end
    end
  end
end
local r = redis.call('XREADGROUP', 'GROUP', 'g', consumer, 'COUNT', 1, 'STREAMS', stream, '>')
if not r then
  redis.call('DEL', itemBell) -- tokens of items taken already: a waiter would wake for nothing
  return {'empty'}
end
local entry = r[1][2][1]
redis.call('HINCRBY', meta, 'ready', -1)
return deliver(entry[1], payloadOf(entry), 1)
`;

/** KEYS meta stream spaceBell memo; ARGV consumer id deliveries memoTtl → {"ok"} | {"settled"} | {"gone"} */
export const ACK = `${HELPERS}
if redis.call('GET', KEYS[4]) then return {'ok'} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
if not owned(KEYS[2], ARGV[2], ARGV[1], ARGV[3]) then return {'settled'} end
redis.call('XACK', KEYS[2], 'g', ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'leased', -1)
finish(KEYS[1])
trimmedPush(KEYS[3])
redis.call('SET', KEYS[4], 'ok', 'PX', ARGV[4])
return {'ok'}
`;

/**
 * KEYS meta stream returned dead itemBell spaceBell memo; ARGV consumer id deliveries dead memoTtl
 * → {"ok"} | {"settled"} | {"gone"}. Gives the item back (before newer items), or to the dead letters.
 */
export const NACK = `${HELPERS}
local meta, stream, returned, dead, itemBell, spaceBell, memo = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
if redis.call('GET', memo) then return {'ok'} end
if redis.call('EXISTS', meta) == 0 then return {'gone'} end
local consumer, id, deliveries = ARGV[1], ARGV[2], tonumber(ARGV[3])
if not owned(stream, id, consumer, deliveries) then return {'settled'} end
redis.call('HINCRBY', meta, 'leased', -1)
if ARGV[4] == '1' or deliveries >= tonumber(redis.call('HGET', meta, 'maxDeliveries')) then
  local entries = redis.call('XRANGE', stream, id, id)
  deadLetter(meta, stream, dead, id, entries[1] and payloadOf(entries[1]) or '', deliveries)
  trimmedPush(spaceBell)
else
  redis.call('XCLAIM', stream, 'g', '@returned', 0, id, 'JUSTID')
  redis.call('RPUSH', returned, id)
  redis.call('HINCRBY', meta, 'ready', 1)
  trimmedPush(itemBell)
end
redis.call('SET', memo, 'ok', 'PX', ARGV[5])
return {'ok'}
`;

/** KEYS stream; ARGV consumer, then pairs id deliveries → the ids no longer owned (their lease expired and moved on). */
export const RENEW = `${HELPERS}
local lost = {}
for i = 2, #ARGV, 2 do
  if owned(KEYS[1], ARGV[i], ARGV[1], ARGV[i + 1]) then
    redis.call('XCLAIM', KEYS[1], 'g', ARGV[1], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`;

/** KEYS meta; → {ready, leased, dead, put, finished} or {"gone"} */
export const COUNTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
return redis.call('HMGET', KEYS[1], 'ready', 'leased', 'dead', 'put', 'finished')
`;

/** KEYS meta dead spaceBell; ARGV max → {payload, deliveries, payload, deliveries, ...} (taken out) */
export const TAKE_DEAD = `
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', ARGV[1])
local out = {}
for _, e in ipairs(entries) do
  local f = e[2]
  local v, n = '', 0
  for i = 1, #f, 2 do
    if f[i] == 'v' then v = f[i + 1] elseif f[i] == 'n' then n = tonumber(f[i + 1]) end
  end
  out[#out + 1] = v
  out[#out + 1] = n
  redis.call('XDEL', KEYS[2], e[1])
end
if #entries > 0 then
  redis.call('HINCRBY', KEYS[1], 'dead', -#entries)
  redis.call('LPUSH', KEYS[3], '1')
  redis.call('LTRIM', KEYS[3], 0, 1023)
end
return out
`;

/** KEYS meta → the SETTING_FIELDS' values (all nil when there is no such queue). */
export const SETTINGS = `
return redis.call('HMGET', KEYS[1], 'version', 'maxsize', 'maxDeliveries', 'leaseTimeout', 'joinable', 'codec', 'maxItemBytes')
`;

/** KEYS meta stream returned dead itemBell spaceBell → 1 when a queue was there. Memos and idempotency keys expire on their own. */
export const UNLINK = `
return redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) > 0 and 1 or 0
`;
