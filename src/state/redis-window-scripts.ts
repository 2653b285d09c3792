/**
 * The Lua scripts of the shared detector windows (redis-shared-windows.ts): each runs atomically on
 * the Redis server, so replicas adding to the same window, set, run or sightings key at once merge
 * exactly. Every key they touch gets an expiry; values are hashed before they reach Redis.
 */
import { RedisScript } from './redis-script.js';

/**
 * KEYS: one window hash per entry (field = bucket start ms, value = sum); a key may repeat.
 * ARGV: now, then per key: windowMs, bucketMs, bucket start, delta. Adds each delta to its bucket,
 * drops buckets that left the window, and returns each window's sum after its own delta.
 */
export const ADD_MANY = new RedisScript(`
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local windowMs = tonumber(ARGV[i * 4 - 2])
  local bucketMs = tonumber(ARGV[i * 4 - 1])
  local delta = tonumber(ARGV[i * 4 + 1])
  if delta ~= 0 then redis.call('HINCRBYFLOAT', KEYS[i], ARGV[i * 4], delta) end
  local cutoff = now - windowMs
  local total = 0
  local all = redis.call('HGETALL', KEYS[i])
  for j = 1, #all, 2 do
    if tonumber(all[j]) + bucketMs <= cutoff then
      redis.call('HDEL', KEYS[i], all[j])
    else
      total = total + tonumber(all[j + 1])
    end
  end
  redis.call('PEXPIRE', KEYS[i], windowMs + bucketMs)
  out[i] = tostring(total)
end
return out
`);

/**
 * KEYS: one sorted set per subject (member = keyed hash of the member, score = last seen ms).
 * ARGV: now, then per key: windowMs, maxMembers, n, then n pairs (member, ms). Adds the members,
 * drops those last seen before the window and all but the newest maxMembers, returns the members.
 */
export const ADD_MEMBERS = new RedisScript(`
local now = tonumber(ARGV[1])
local p = 2
local out = {}
for i = 1, #KEYS do
  local windowMs = tonumber(ARGV[p])
  local maxMembers = tonumber(ARGV[p + 1])
  local n = tonumber(ARGV[p + 2])
  p = p + 3
  for j = 1, n do
    redis.call('ZADD', KEYS[i], tonumber(ARGV[p + 1]), ARGV[p])
    p = p + 2
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - windowMs)
  local extra = redis.call('ZCARD', KEYS[i]) - maxMembers
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[i], 0, extra - 1) end
  redis.call('PEXPIRE', KEYS[i], windowMs)
  out[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
end
return out
`);

/**
 * KEYS: one hash per subject (fields l, r, s: last value, run length, run start).
 * ARGV: per key: ttlMs, n, then n values in the order this replica saw them. Extends the run
 * exactly as `extendRun` does (larger grows, smaller restarts, equal keeps) and returns {l, r, s}.
 */
export const EXTEND_RUNS = new RedisScript(`
local p = 1
local out = {}
for i = 1, #KEYS do
  local ttl = ARGV[p]
  local n = tonumber(ARGV[p + 1])
  p = p + 2
  local cur = redis.call('HMGET', KEYS[i], 'l', 'r', 's')
  local last = tonumber(cur[1]) or -1
  local run = tonumber(cur[2]) or 0
  local start = tonumber(cur[3]) or 0
  for j = 1, n do
    local v = tonumber(ARGV[p])
    p = p + 1
    if v > last and run > 0 then run = run + 1
    elseif v < last or run == 0 then run = 1; start = v end
    last = v
  end
  redis.call('HSET', KEYS[i], 'l', last, 'r', run, 's', start)
  redis.call('PEXPIRE', KEYS[i], ttl)
  out[i] = {tostring(last), tostring(run), tostring(start)}
end
return out
`);

/**
 * KEYS: one hash per subject: field _f = first sighting ms, _e = sightings, and per member (keyed
 * hash) the ms from which it is known. ARGV: now, then per key: ttlMs, maxMembers, warmupMs,
 * warmupEvents, quarantineMs, first ms, sightings, n, then n triples (member, first ms, sightings
 * before it in this batch). A member not recorded yet is known from its sighting while the subject
 * warms up, else a quarantine later (the earliest writer decides; a later one can only move it
 * earlier). Returns per key {first ms, sightings, members known by now, then each sent member's
 * known-from ms ('' when not recorded: the subject is full)}: not the whole hash, which a busy key
 * would send back at every flush.
 */
export const SIGHT = new RedisScript(`
local now = tonumber(ARGV[1])
local p = 2
local out = {}
for i = 1, #KEYS do
  local ttl = ARGV[p]
  local maxMembers = tonumber(ARGV[p + 1])
  local warmupMs = tonumber(ARGV[p + 2])
  local warmupEvents = tonumber(ARGV[p + 3])
  local quarantineMs = tonumber(ARGV[p + 4])
  local first = tonumber(ARGV[p + 5])
  local events = tonumber(ARGV[p + 6])
  local n = tonumber(ARGV[p + 7])
  p = p + 8
  local cur = redis.call('HMGET', KEYS[i], '_f', '_e')
  local f = tonumber(cur[1])
  if f == nil or first < f then f = first; redis.call('HSET', KEYS[i], '_f', f) end
  local e = tonumber(cur[2]) or 0
  local count = redis.call('HLEN', KEYS[i]) - 1
  if cur[2] then count = count - 1 end
  local reply = {}
  for j = 1, n do
    local m = ARGV[p]
    local ms = tonumber(ARGV[p + 1])
    local before = tonumber(ARGV[p + 2])
    p = p + 3
    local from = ms
    if e + before + 1 > warmupEvents and ms - f >= warmupMs then from = ms + quarantineMs end
    local known = tonumber(redis.call('HGET', KEYS[i], m))
    if known == nil then
      if count < maxMembers then redis.call('HSET', KEYS[i], m, from); count = count + 1; known = from end
    elseif from < known then
      redis.call('HSET', KEYS[i], m, from); known = from
    end
    reply[j + 3] = known and tostring(known) or ''
  end
  e = redis.call('HINCRBY', KEYS[i], '_e', events)
  local knownNow = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[i])) do
    if tonumber(v) <= now then knownNow = knownNow + 1 end
  end
  -- _f and _e are values too, both at or before now
  reply[1] = tostring(f)
  reply[2] = tostring(e)
  reply[3] = tostring(knownNow - 2)
  redis.call('PEXPIRE', KEYS[i], ttl)
  out[i] = reply
end
return out
`);

/**
 * KEYS: the incident (SET NX: its owner alert id), its highest severity rank so far. ARGV: alert
 * id, ttl ms, severity rank. Returns {owner id, 1 when this claim raised the severity else 0}.
 */
export const CLAIM = new RedisScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  return {ARGV[1], 0}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local esc = 0
if tonumber(ARGV[3]) > (tonumber(redis.call('GET', KEYS[2])) or 0) then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  esc = 1
else
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return {redis.call('GET', KEYS[1]), esc}
`);
