"""The Lua scripts of the Redis store: each operation is one script, so it is atomic.

Time comes from the caller (``ARGV[1]``: the store's clock, seconds since the epoch) and
is compared with expiry times kept in the data; native key expiry is garbage collection
only, set a grace period after the logical expiry and never before the server's own
clock (``gc_at``), so a clock that differs from the server's never deletes live data.

Layout under the store's prefix ``P``: ``P c:<key>`` a hash {v = value, x = expiry or
''}; ``P h:<key>`` a hash reservation id -> "amount expires_at"; ``P v:<key>`` a hash
{t = typed value, x}; ``P r:<key>`` a list and ``P rx:<key>`` its expiry; ``P ids`` the
reservation id counter; ``P s:<key>`` a hash reservation id -> "total expires_at final"
(what settles with a total added: :mod:`guard.stores._settle_totals`; apart from the
holds, so it never counts as reserved and older processes' scripts never read it).
"""

from __future__ import annotations

#: Shared helpers, prepended to every script.
_COMMON = """
local GRACE_MS = 60000
local function gc_at(key, expires_at)
  local t = redis.call('TIME')
  local server_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local at = math.max(math.floor(expires_at * 1000), server_ms) + GRACE_MS
  if redis.call('PTTL', key) == -1 then
    redis.call('PEXPIREAT', key, at)
  else
    redis.call('PEXPIREAT', key, at, 'GT')
  end
end
local function counter(key, now)
  local v = redis.call('HMGET', key, 'v', 'x')
  if not v[1] then return nil end
  if v[2] and v[2] ~= '' and tonumber(v[2]) <= now then
    redis.call('DEL', key)
    return nil
  end
  return tonumber(v[1])
end
local function add(key, amount, ttl, now)
  local value = counter(key, now)
  if value == nil then
    local x = ''
    if ttl ~= '' then x = now + tonumber(ttl) end
    redis.call('HSET', key, 'v', amount, 'x', x)
    if x ~= '' then gc_at(key, x) else redis.call('PERSIST', key) end
    return amount
  end
  return redis.call('HINCRBY', key, 'v', amount)
end
local function held(key, now, ckey)
  local all = redis.call('HGETALL', key)
  local sum, charge = 0, 0
  for i = 1, #all, 2 do
    local amount, expires = string.match(all[i + 1], '^(%S+) (%S+)$')
    if tonumber(expires) <= now then
      redis.call('HDEL', key, all[i])
      charge = charge + tonumber(amount)
    else
      sum = sum + tonumber(amount)
    end
  end
  -- Expired unsettled: charged at what it held, to the counter if its window is live.
  if charge > 0 and counter(ckey, now) ~= nil then redis.call('HINCRBY', ckey, 'v', charge) end
  return sum
end
local function gone_past_expiry(hkey, ckey, id, expires, now)
  local entry = redis.call('HGET', hkey, id)
  if entry then
    local amount, x = string.match(entry, '^(%S+) (%S+)$')
    if tonumber(x) > now then return false end
    redis.call('HDEL', hkey, id)  -- expired unsettled: charged now, at what it holds
    if counter(ckey, now) ~= nil then redis.call('HINCRBY', ckey, 'v', tonumber(amount)) end
  end
  return tonumber(expires) <= now
end
"""

#: KEYS: counter. ARGV: now, amount, ttl ('' for none).
INCR = (
    _COMMON
    + """
return add(KEYS[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[1]))
"""
)

#: KEYS: counter, holds. ARGV: now.
GET = (
    _COMMON
    + """
held(KEYS[2], tonumber(ARGV[1]), KEYS[1])  -- charges expired holds first
return counter(KEYS[1], tonumber(ARGV[1])) or 0
"""
)

#: KEYS: holds, counter. ARGV: now.
RESERVED = (
    _COMMON
    + """
return held(KEYS[1], tonumber(ARGV[1]), KEYS[2])
"""
)

#: KEYS: counter, holds, id counter. ARGV: now, amount, limit, hold seconds, ttl.
#: Returns the reservation id and its expiry (as a string), or false.
RESERVE = (
    _COMMON
    + """
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local holding = held(KEYS[2], now, KEYS[1])  -- first: charges expired holds
local used = counter(KEYS[1], now)
if used == nil then used = add(KEYS[1], 0, ARGV[5], now) end  -- a window to charge to
if used + holding + amount > tonumber(ARGV[3]) then return false end
local id = 'r' .. redis.call('INCR', KEYS[3])
local expires = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[2], id, amount .. ' ' .. string.format('%.6f', expires))
gc_at(KEYS[2], expires)
return {id, string.format('%.6f', expires)}
"""
)

#: KEYS: counter, holds. ARGV: now, reservation id, actual, ttl, keep (0: drop the hold),
#: the hold's expiry, its amount.
SETTLE = (
    _COMMON
    + """
local now = tonumber(ARGV[1])
local kept = false
local actual = tonumber(ARGV[3])
if gone_past_expiry(KEYS[2], KEYS[1], ARGV[2], ARGV[6], now) then  -- charged at expiry
  actual = math.max(actual - tonumber(ARGV[7]), 0)
end
if tonumber(ARGV[5]) > 0 then
  local entry = redis.call('HGET', KEYS[2], ARGV[2])
  if entry then
    local expires = string.match(entry, '^%S+ (%S+)$')
    if tonumber(expires) > now then
      redis.call('HSET', KEYS[2], ARGV[2], ARGV[5] .. ' ' .. expires)
      kept = true
    end
  end
end
if not kept then redis.call('HDEL', KEYS[2], ARGV[2]) end
return add(KEYS[1], actual, ARGV[4], now)
"""
)

#: KEYS: counter, holds, records. ARGV: now, reservation id, actual, ttl, keep, spent total,
#: the hold's expiry, replay seconds, the hold's amount. The steps of
#: guard.stores._settle_totals.
SETTLE_TOTAL = (
    _COMMON
    + """
local now = tonumber(ARGV[1])
local id = ARGV[2]
local charged = 0
if gone_past_expiry(KEYS[2], KEYS[1], id, ARGV[7], now) then charged = tonumber(ARGV[9]) end
local keep = tonumber(ARGV[5])
local total = tonumber(ARGV[6])
local recorded, final = nil, false
local record = redis.call('HGET', KEYS[3], id)
if record then
  local t, x, f = string.match(record, '^(%S+) (%S+) (%S+)$')
  if tonumber(x) > now then recorded, final = tonumber(t), f == '1' end
end
if recorded ~= nil and (final or total < recorded) then
  return add(KEYS[1], 0, ARGV[4], now)  -- a replay or an older write: nothing changes
end
local expires = nil
local entry = redis.call('HGET', KEYS[2], id)
if entry then
  expires = string.match(entry, '^%S+ (%S+)$')
  if tonumber(expires) <= now then expires = nil end
end
local amount = math.max(tonumber(ARGV[3]) - charged, 0)  -- forgotten: the unconfirmed part
if recorded ~= nil then
  amount = math.max(total - recorded - charged, 0)
elseif expires then
  amount = total
end
local lasts, flag = math.max(tonumber(ARGV[7]), now), '0'
if keep == 0 then
  lasts, flag = now, '1'
  local all = redis.call('HGETALL', KEYS[3])  -- the key's expired records go with it
  for i = 1, #all, 2 do
    local x = string.match(all[i + 1], '^%S+ (%S+) %S+$')
    if tonumber(x) <= now then redis.call('HDEL', KEYS[3], all[i]) end
  end
end
lasts = lasts + tonumber(ARGV[8])
redis.call('HSET', KEYS[3], id, ARGV[6] .. ' ' .. string.format('%.6f', lasts) .. ' ' .. flag)
gc_at(KEYS[3], lasts)
if keep > 0 and expires then
  redis.call('HSET', KEYS[2], id, ARGV[5] .. ' ' .. expires)
else
  redis.call('HDEL', KEYS[2], id)
end
return add(KEYS[1], amount, ARGV[4], now)
"""
)

#: KEYS: holds. ARGV: reservation id.
RELEASE = """
redis.call('HDEL', KEYS[1], ARGV[1])
return 0
"""

#: KEYS: value. ARGV: now, typed value, ttl. Returns the stored typed value.
SET_IF_ABSENT = (
    _COMMON
    + """
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 't', 'x')
if v[1] and not (v[2] and v[2] ~= '' and tonumber(v[2]) <= now) then return v[1] end
local x = ''
if ARGV[3] ~= '' then x = now + tonumber(ARGV[3]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', ARGV[2], 'x', x)
if x ~= '' then gc_at(KEYS[1], x) end
return ARGV[2]
"""
)

#: KEYS: value. ARGV: now. Returns the typed value or false.
TAKE = """
local v = redis.call('HMGET', KEYS[1], 't', 'x')
redis.call('DEL', KEYS[1])
if not v[1] then return false end
if v[2] and v[2] ~= '' and tonumber(v[2]) <= tonumber(ARGV[1]) then return false end
return v[1]
"""

#: KEYS: list, expiry. ARGV: now, item, keep, ttl. Returns the kept items.
PUSH_RECENT = (
    _COMMON
    + """
local now = tonumber(ARGV[1])
local x = redis.call('GET', KEYS[2])
if x and x ~= '' and tonumber(x) <= now then redis.call('DEL', KEYS[1]) end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
if ARGV[4] ~= '' then
  local expires = now + tonumber(ARGV[4])
  redis.call('SET', KEYS[2], string.format('%.6f', expires))
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
  gc_at(KEYS[1], expires)
  gc_at(KEYS[2], expires)
else
  redis.call('SET', KEYS[2], '')
  redis.call('PERSIST', KEYS[1])
end
return redis.call('LRANGE', KEYS[1], 0, -1)
"""
)
