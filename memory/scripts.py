"""Lua scripts: each write, its index update and its change event happen as one atomic step.

Write scripts take KEYS = (value hash, index by name, index by expiry, event stream) and
ARGV = (scope, scope_id, key, ttl_ms (0: no expiry), stream max length, stream max age in ms,
...script arguments). Times come from the Redis clock (TIME), the one PEXPIREAT also uses.
"""

_PRELUDE = """
local scope, scope_id, key = ARGV[1], ARGV[2], ARGV[3]
local ttl_ms, max_len, max_age_ms = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fit_index_lifetime()
  local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  if #last == 0 then return end
  if last[2] == 'inf' then
    redis.call('PERSIST', KEYS[2])
    redis.call('PERSIST', KEYS[3])
  else
    redis.call('PEXPIREAT', KEYS[2], last[2])
    redis.call('PEXPIREAT', KEYS[3], last[2])
  end
end

local function emit(action, data, previous, ts)
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', max_len, '*', 'scope', scope,
             'scope_id', scope_id, 'key', key, 'action', action, 'data', data,
             'previous_data', previous, 'ts', string.format('%d', ts))
  if max_age_ms > 0 then
    redis.call('XTRIM', KEYS[4], 'MINID', '~', string.format('%d', ts - max_age_ms))
  end
end

-- store data, keep created_at, (re)set the expiry and the index; return the reply row
local function write(data, previous, ts)
  local created = redis.call('HGET', KEYS[1], 'created_at') or string.format('%d', ts)
  redis.call('HSET', KEYS[1], 'data', data, 'created_at', created,
             'updated_at', string.format('%d', ts))
  local expires = -1
  redis.call('ZADD', KEYS[2], 0, key)
  if ttl_ms > 0 then
    expires = ts + ttl_ms
    redis.call('HSET', KEYS[1], 'expires_at', string.format('%d', expires))
    redis.call('PEXPIREAT', KEYS[1], string.format('%d', expires))
    redis.call('ZADD', KEYS[3], string.format('%d', expires), key)
  else
    redis.call('HDEL', KEYS[1], 'expires_at')
    redis.call('PERSIST', KEYS[1])
    redis.call('ZADD', KEYS[3], 'inf', key)
  end
  fit_index_lifetime()
  emit('set', data, previous or 'null', ts)
  return {1, created, string.format('%d', ts), string.format('%d', expires)}
end

-- the value at key as {data, created, updated, expires (-1: none), pttl}, or nil when absent
local function value_row(value_key)
  local row = redis.call('HMGET', value_key, 'data', 'created_at', 'updated_at', 'expires_at')
  if not row[1] then return nil end
  return {row[1], row[2], row[3], row[4] or '-1', redis.call('PTTL', value_key)}
end
"""

# KEYS = the value keys to try in order. Return {position, data, created, updated, expires,
# pttl} of the first that exists, or {0}.
GET = """
for position, value_key in ipairs(KEYS) do
  local row = redis.call('HMGET', value_key, 'data', 'created_at', 'updated_at', 'expires_at')
  if row[1] then
    return {position, row[1], row[2], row[3], row[4] or '-1', redis.call('PTTL', value_key)}
  end
end
return {0}
"""

# ARGV[7] the new canonical JSON.
SET = _PRELUDE + """
return write(ARGV[7], redis.call('HGET', KEYS[1], 'data'), now_ms())
"""

DELETE = _PRELUDE + """
local previous = redis.call('HGET', KEYS[1], 'data')
redis.call('ZREM', KEYS[2], key)
redis.call('ZREM', KEYS[3], key)
fit_index_lifetime()
if not previous then return 0 end
redis.call('DEL', KEYS[1])
emit('delete', 'null', previous, now_ms())
return 1
"""

# ARGV[7] "absent" or "equal", ARGV[8] expected canonical JSON, ARGV[9] new canonical JSON.
# Canonical texts are equal byte for byte, except numbers written by increment (Lua's
# formatting): two numbers that are not both integers compare by value.
COMPARE_AND_SET = _PRELUDE + """
local current = redis.call('HGET', KEYS[1], 'data')
local matched
if ARGV[7] == 'absent' then
  matched = not current
elseif not current then
  matched = false
elseif current == ARGV[8] then
  matched = true
else
  local a, b = current, ARGV[8]
  matched = string.find(a, '^%-?%d') ~= nil and string.find(b, '^%-?%d') ~= nil
    and not (string.find(a, '^%-?%d+$') and string.find(b, '^%-?%d+$'))
    and tonumber(a) == tonumber(b)
end
if not matched then
  local row = value_row(KEYS[1])
  if not row then return {0} end
  table.insert(row, 1, 0)
  return row
end
return write(ARGV[9], current, now_ms())
"""

# ARGV[7] the amount, ARGV[8] "int" or "float". Integers add exactly (HINCRBY, 64 bits);
# anything else adds as doubles, written in the fewest digits that read back the same.
INCREMENT = _PRELUDE + """
local function format_number(x)
  if x ~= x or x == math.huge or x == -math.huge then
    return nil
  end
  if x == math.floor(x) and math.abs(x) < 9007199254740992 then
    if x == 0 then return '0' end
    return string.format('%d', x)
  end
  for _, digits in ipairs({15, 16, 17}) do
    local s = string.format('%.' .. digits .. 'g', x)
    if tonumber(s) == x then return s end
  end
  return string.format('%.17g', x)
end

local current = redis.call('HGET', KEYS[1], 'data')
local result
if not current then
  result = format_number(tonumber(ARGV[7]))
elseif not string.find(current, '^%-?%d') then
  return redis.error_reply('NOTANUMBER the stored memory value is not a number')
elseif ARGV[8] == 'int' and string.find(current, '^%-?%d+$') then
  local added = redis.pcall('HINCRBY', KEYS[1], 'data', ARGV[7])
  if type(added) == 'table' and added.err then
    return redis.error_reply('NOTANUMBER the sum leaves the 64-bit integer range')
  end
  result = redis.call('HGET', KEYS[1], 'data')
else
  result = format_number(tonumber(current) + tonumber(ARGV[7]))
end
if not result then
  return redis.error_reply('NOTANUMBER the sum is not a finite number')
end
local row = write(result, current, now_ms())
row[5] = result
return row
"""

# KEYS = (index by name, index by expiry); ARGV = (min, max, limit, "values" or "keys", value
# key prefix). Drop expired members, then return live names (or value rows) in name order.
LIST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now))
for _, name in ipairs(expired) do
  redis.call('ZREM', KEYS[1], name)
  redis.call('ZREM', KEYS[2], name)
end
local names = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
local rows = {}
for _, name in ipairs(names) do
  local value_key = ARGV[5] .. name
  if ARGV[4] == 'keys' then
    if redis.call('EXISTS', value_key) == 1 then rows[#rows + 1] = name end
  else
    local row = redis.call('HMGET', value_key, 'data', 'created_at', 'updated_at', 'expires_at')
    if row[1] then
      rows[#rows + 1] = {name, row[1], row[2], row[3], row[4] or '-1',
                         redis.call('PTTL', value_key)}
    end
  end
end
return rows
"""
