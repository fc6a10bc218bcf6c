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
local TOKENS = {}
for i = 1, 64 do TOKENS[i] = '1' end
-- Puts n wake-up tokens (64 at most: a token per waiter to wake) on a bell, which keeps 1024 at most.
local function ring(list, n)
  redis.call('LPUSH', list, unpack(TOKENS, 1, math.min(n, 64)))
  redis.call('LTRIM', list, 0, 1023)
end
-- Rings the bell of producers waiting for room; only a queue with a maxsize has any.
local function roomFreed(meta, spaceBell, n)
  if n > 0 and tonumber(redis.call('HGET', meta, 'maxsize')) > 0 then ring(spaceBell, n) end
end
local function trimmedPush(list)
  redis.call('LPUSH', list, '1')
  redis.call('LTRIM', list, 0, 1023)
end
local function finish(meta, n)
  if redis.call('HGET', meta, 'joinable') == '1' then redis.call('HINCRBY', meta, 'finished', n or 1) end
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
 * KEYS pointer meta stream returned dead itemBell spaceBell (of the new incarnation); ARGV the incarnation
 * id, then the SETTING_FIELDS' values → {"ok"} | {"exists"}. A retry after a lost reply finds its own
 * incarnation in the pointer and answers "ok".
 */
export const CREATE = `
local current = redis.call('GET', KEYS[1])
if current then
  if current == ARGV[1] then return {'ok'} end
  return {'exists'}
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'version', ARGV[2], 'maxsize', ARGV[3], 'maxDeliveries', ARGV[4],
  'leaseTimeout', ARGV[5], 'joinable', ARGV[6], 'codec', ARGV[7], 'maxItemBytes', ARGV[8],
  'ready', 0, 'leased', 0, 'dead', 0, 'put', 0, 'finished', 0)
redis.call('XGROUP', 'CREATE', KEYS[3], 'g', '$', 'MKSTREAM')
return {'ok'}
`;

/**
 * Puts a batch of items, in order, as many as maxsize allows: KEYS meta stream itemBell spaceBell memo,
 * then the idempotency keys of the items that have one; ARGV memoTtl idempotencyTtl, then per item its
 * payload and the index in KEYS of its idempotency key (0: none) → {"ok", n} (the first n items are in,
 * or were in already under their idempotency key; the rest found the queue full) | {"gone"}.
 */
export const PUT = `${HELPERS}
local meta, stream, itemBell, spaceBell, memo = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local before = redis.call('GET', memo)
if before then return {'ok', tonumber(before)} end
if redis.call('EXISTS', meta) == 0 then return {'gone'} end
local counts = redis.call('HMGET', meta, 'maxsize', 'ready')
local maxsize, ready = tonumber(counts[1]), tonumber(counts[2])
local done, added = 0, 0
for i = 3, #ARGV, 2 do
  local key = tonumber(ARGV[i + 1])
  if key > 0 and redis.call('EXISTS', KEYS[key]) == 1 then
    done = done + 1 -- put before, within the window: not again
  else
    if maxsize > 0 and ready + added >= maxsize then break end
    if key > 0 then redis.call('SET', KEYS[key], '1', 'PX', ARGV[2]) end
    redis.call('XADD', stream, '*', 'v', ARGV[i])
    added = added + 1
    done = done + 1
  end
end
if added > 0 then
  redis.call('HINCRBY', meta, 'ready', added)
  redis.call('HINCRBY', meta, 'put', added)
  ring(itemBell, added)
end
if done * 2 < #ARGV - 2 then redis.call('DEL', spaceBell) end -- full: tokens of room taken already
redis.call('SET', memo, done, 'PX', ARGV[1])
return {'ok', done}
`;

/**
 * KEYS meta stream returned dead spaceBell memo itemBell; ARGV consumer mode("get"|"lease") memoTtl count
 * → {"ok", id, payload, deliveries, id, payload, deliveries, ...} (1 to count items) | {"empty"} | {"gone"}.
 * Takes items given back first, then ones whose lease expired (their consumer died or hung; past
 * maxDeliveries they become dead letters), then new ones. A "get" removes them at once; a "lease" leaves
 * them pending, owned by the consumer. The reply is kept in the memo (a list) for a retry.
 */
export const TAKE = `${HELPERS}
local meta, stream, returned, dead, spaceBell, memo, itemBell = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local consumer, mode, ttl, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', memo) == 1 then
  local out = redis.call('LRANGE', memo, 0, -1)
  for i = 1, #out, 3 do
    out[i + 2] = tonumber(out[i + 2])
    if mode == 'lease' then -- the memo has no payloads: the items are still in the stream
      local entries = redis.call('XRANGE', stream, out[i], out[i])
      out[i + 1] = entries[1] and payloadOf(entries[1]) or ''
    end
  end
  table.insert(out, 1, 'ok')
  return out
end
if redis.call('EXISTS', meta) == 0 then return {'gone'} end
local out, memoised = {}, {}
local taken = 0
local function deliver(id, payload, deliveries)
  if mode == 'get' then
    redis.call('XACK', stream, 'g', id)
    redis.call('XDEL', stream, id)
  end
  out[#out + 1] = id
  out[#out + 1] = payload
  out[#out + 1] = deliveries
  memoised[#memoised + 1] = id
  memoised[#memoised + 1] = mode == 'get' and payload or ''
  memoised[#memoised + 1] = deliveries
  taken = taken + 1
end
while taken < count do
  local id = redis.call('LPOP', returned)
  if not id then break end
  local p = redis.call('XPENDING', stream, 'g', id, id, 1)
  if #p == 1 and p[1][2] == '@returned' then
    redis.call('HINCRBY', meta, 'ready', -1)
    local c = redis.call('XCLAIM', stream, 'g', consumer, 0, id)
    if #c == 1 and c[1] then deliver(id, payloadOf(c[1]), p[1][4] + 1) end
  end
end
if taken < count then
  local settings = redis.call('HMGET', meta, 'maxDeliveries', 'leaseTimeout', 'scanAt')
  local maxDeliveries, leaseTimeout = tonumber(settings[1]), tonumber(settings[2])
  -- Expired leases are looked for at most every quarter of leaseTimeout (the scan walks the pending list).
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if now >= (tonumber(settings[3]) or 0) then
    local expired = redis.call('XPENDING', stream, 'g', 'IDLE', leaseTimeout, '-', '+', 32)
    local rescan = #expired == 32
    for _, e in ipairs(expired) do
      if e[2] ~= '@returned' then
        if taken >= count then rescan = true break end
        local c = redis.call('XCLAIM', stream, 'g', consumer, leaseTimeout, e[1])
        if #c == 1 and c[1] then
          redis.call('HINCRBY', meta, 'leased', -1)
          if e[4] >= maxDeliveries then
            deadLetter(meta, stream, dead, e[1], payloadOf(c[1]), e[4])
            trimmedPush(spaceBell)
          else
            deliver(e[1], payloadOf(c[1]), e[4] + 1)
          end
        end
      end
    end
    -- When more may have expired, the next take looks again.
    redis.call('HSET', meta, 'scanAt', rescan and 0 or now + math.max(20, math.floor(leaseTimeout / 4)))
  end
end
if taken < count then
  local r = redis.call('XREADGROUP', 'GROUP', 'g', consumer, 'COUNT', count - taken, 'STREAMS', stream, '>')
  if r then
    local entries = r[1][2]
    redis.call('HINCRBY', meta, 'ready', -#entries)
    for _, entry in ipairs(entries) do deliver(entry[1], payloadOf(entry), 1) end
  end
end
if taken == 0 then
  redis.call('DEL', itemBell) -- tokens of items taken already: a waiter would wake for nothing
  return {'empty'}
end
if mode == 'get' then
  finish(meta, taken)
else
  redis.call('HINCRBY', meta, 'leased', taken)
end
roomFreed(meta, spaceBell, taken)
redis.call('RPUSH', memo, unpack(memoised))
redis.call('PEXPIRE', memo, ttl)
table.insert(out, 1, 'ok')
return out
`;

/**
 * KEYS meta stream spaceBell memo; ARGV consumer memoTtl, then pairs id deliveries → {"ok", flags}
 * (flags: one "1" per item acked, "0" per item this consumer no longer held) | {"gone"}.
 */
export const ACK = `${HELPERS}
local meta, stream, spaceBell, memo = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local before = redis.call('GET', memo)
if before then return {'ok', before} end
if redis.call('EXISTS', meta) == 0 then return {'gone'} end
local flags, acked = {}, 0
for i = 3, #ARGV, 2 do
  if owned(stream, ARGV[i], ARGV[1], ARGV[i + 1]) then
    redis.call('XACK', stream, 'g', ARGV[i])
    redis.call('XDEL', stream, ARGV[i])
    acked = acked + 1
    flags[#flags + 1] = '1'
  else
    flags[#flags + 1] = '0'
  end
end
if acked > 0 then
  redis.call('HINCRBY', meta, 'leased', -acked)
  finish(meta, acked) -- an acked item was not counted as ready: no room freed
end
local result = table.concat(flags)
redis.call('SET', memo, result, 'PX', ARGV[2])
return {'ok', result}
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

/** KEYS meta dead spaceBell; ARGV max → {"ok", payload, deliveries, payload, deliveries, ...} (taken out) | {"gone"} */
export const TAKE_DEAD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
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
table.insert(out, 1, 'ok')
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

/**
 * KEYS pointer meta stream returned dead itemBell spaceBell (of one incarnation); ARGV its id → 1 when it
 * was the name's current queue and is removed now, 0 otherwise. Its memos and idempotency keys expire on
 * their own (no later queue of the name reads them).
 */
export const UNLINK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
return 1
`;

/**
 * KEYS stream; ARGV consumer → 1 when this end's consumer was removed from the group (it held nothing), 0
 * when it still holds entries (they stay, and expire to other consumers).
 */
export const FORGET_CONSUMER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local summary = redis.call('XPENDING', KEYS[1], 'g', '-', '+', 1, ARGV[1])
if #summary > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'g', ARGV[1])
return 1
`;
