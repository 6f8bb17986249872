"""The Lua scripts: each runs atomically inside Redis."""

# One enterprise's events of a batch, all or nothing, and nothing if any of them was
# applied before (another worker got there first: the caller reloads and retries).
# Rechecks carry no event ids: re-evaluating twice gives the same state.
# The journal keeps every event applied (to rebuild the timeline after a late one);
# the timeline is replaced from the first instant the batch re-evaluated.
# The labels log gets the batch's learning record for the trainer, if any.
# Related firms whose links it changed get a recheck, kept at the earliest time asked.
# The count of enterprises per grade follows the directory entry's grade (the entries
# are JSON written by dumps: a name cannot fake the pattern, its quotes are escaped).
# KEYS: seen, state, enterprise warnings, warnings stream, grades stream, directory,
#       timers, journal, timeline, labels log, grade counts, related rechecks
# ARGV: n_events, event_ids..., state, maxlen, uscc, directory entry, recheck score ('' = none),
#       n_warnings, warnings..., n_grade_changes, grade changes..., n_journal,
#       journal entries..., n_related, (score, uscc)..., learning record ('' = none),
#       replace-from score ('' = nothing to replace), (score, timeline entry)...
COMMIT = """
local n = tonumber(ARGV[1])
for i = 2, n + 1 do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then return 0 end
end
if n > 0 then redis.call('SADD', KEYS[1], unpack(ARGV, 2, n + 1)) end
local at = n + 2
redis.call('SET', KEYS[2], ARGV[at])
local maxlen = ARGV[at + 1]
local old = redis.call('HGET', KEYS[6], ARGV[at + 2])
local before = old and string.match(old, '"grade":"(%u)"')
local after = string.match(ARGV[at + 3], '"grade":"(%u)"')
if before ~= after then
  if before then redis.call('HINCRBY', KEYS[11], before, -1) end
  if after then redis.call('HINCRBY', KEYS[11], after, 1) end
end
redis.call('HSET', KEYS[6], ARGV[at + 2], ARGV[at + 3])
if ARGV[at + 4] == '' then
  redis.call('ZREM', KEYS[7], ARGV[at + 2])
else
  redis.call('ZADD', KEYS[7], ARGV[at + 4], ARGV[at + 2])
end
local i = at + 5
local nw = tonumber(ARGV[i])
for j = i + 1, i + nw do
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', 'data', ARGV[j])
  redis.call('LPUSH', KEYS[3], ARGV[j])
end
if nw > 0 then redis.call('LTRIM', KEYS[3], 0, 199) end
i = i + nw + 1
local ng = tonumber(ARGV[i])
for j = i + 1, i + ng do
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', maxlen, '*', 'data', ARGV[j])
end
i = i + ng + 1
local nj = tonumber(ARGV[i])
if nj > 0 then redis.call('RPUSH', KEYS[8], unpack(ARGV, i + 1, i + nj)) end
i = i + nj + 1
local nr = tonumber(ARGV[i])
for j = i + 1, i + 2 * nr, 2 do
  redis.call('ZADD', KEYS[12], 'LT', ARGV[j], ARGV[j + 1])
end
i = i + 2 * nr + 1
if ARGV[i] ~= '' then
  redis.call('XADD', KEYS[10], 'MAXLEN', '~', maxlen, '*', 'data', ARGV[i])
end
i = i + 1
if ARGV[i] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[9], ARGV[i], '+inf')
  for j = i + 1, #ARGV, 2 do
    redis.call('ZADD', KEYS[9], ARGV[j], ARGV[j + 1])
  end
end
return 1
"""

# A person's dishonest listing or removal; returns the firms linked to the person,
# whether or not the event was new, so a redelivered event fans out again: to the
# firms of its first time (kept), not to firms linked since, which would each count a
# second effect of the one event.
# KEYS: seen, listings (case -> "event_id|listed at"), removed (case -> event_id), firms,
#       fanned out (event_id -> "uscc,uscc...")
# ARGV: event_id, 'list' | 'remove', case_no, "event_id|listed at"
PERSON_LISTING = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  if ARGV[2] == 'list' then
    if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 0 then
      redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
    end
  else
    redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[3])
  end
  local firms = redis.call('HKEYS', KEYS[4])
  redis.call('HSET', KEYS[5], ARGV[1], table.concat(firms, ','))
  return firms
end
local fanned = redis.call('HGET', KEYS[5], ARGV[1])
if not fanned then return redis.call('HKEYS', KEYS[4]) end
local firms = {}
for uscc in string.gmatch(fanned, '[^,]+') do firms[#firms + 1] = uscc end
return firms
"""

# KEYS: seen identities, stream; ARGV: identity, record, maxlen
DEAD_LETTER = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'data', ARGV[2])
return 1
"""

# Timers handed out: remove each only if it was not moved meanwhile (a commit may have
# set a new time after we read it). KEYS: timers; ARGV: member, score, member, score...
CLEAR_TIMERS = """
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
"""

# Approve or withdraw an address and, if that changed anything, ask every firm there
# to be looked at again now (a nudge at score 0: as of the firm's own clock).
# KEYS: allow-list, address firms, nudges
# ARGV: normalized address, 'add' | 'remove'
ALLOW_ADDRESS = """
local changed
if ARGV[2] == 'add' then
  changed = redis.call('SADD', KEYS[1], ARGV[1])
else
  changed = redis.call('SREM', KEYS[1], ARGV[1])
end
if changed == 1 then
  for _, uscc in ipairs(redis.call('HKEYS', KEYS[2])) do
    redis.call('ZADD', KEYS[3], 0, uscc)
  end
end
return changed
"""

# The related-party indexes a batch needs, in one call: a crowd smaller than the floor
# cannot make any rule fire, so only its size matters and it comes back empty.
# KEYS: allow-list, person firms x N, person listings x N, address firms x M
# ARGV: N, M, person floor, address floor, normalized address x M
RELATED = """
local n, m = tonumber(ARGV[1]), tonumber(ARGV[2])
local person_floor, address_floor = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 2, n + 1 do
  if redis.call('HLEN', KEYS[i]) >= person_floor then
    out[#out + 1] = redis.call('HGETALL', KEYS[i])
  else
    out[#out + 1] = {}
  end
end
for i = n + 2, 2 * n + 1 do
  out[#out + 1] = redis.call('HVALS', KEYS[i])
end
for i = 2 * n + 2, 2 * n + m + 1 do
  if redis.call('HLEN', KEYS[i]) >= address_floor then
    out[#out + 1] = redis.call('HGETALL', KEYS[i])
  else
    out[#out + 1] = {}
  end
end
local allowed = {}
for i = 5, m + 4 do
  allowed[#allowed + 1] = redis.call('SISMEMBER', KEYS[1], ARGV[i])
end
out[#out + 1] = allowed
return out
"""

# A regulator's grade override set or lifted: the override itself, an audit record,
# and a nudge so the enterprise is re-evaluated at once (as of the moment it was set).
# KEYS: overrides, audit stream, nudges
# ARGV: uscc, override JSON ('' = lift), audit record, nudge score, maxlen
OVERRIDE = """
if ARGV[2] == '' then
  if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'data', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 1
"""

# The caller of a request in one round trip: the key's record, its account, and the
# count of the key's requests in the current rate window (incremented here).
# KEYS: keys hash, accounts hash, rate counter; ARGV: key hash, window seconds
AUTHENTICATE = """
local key = redis.call('HGET', KEYS[1], ARGV[1])
if not key then return {false, false, 0} end
local record = cjson.decode(key)
local account = redis.call('HGET', KEYS[2], record['account_id'])
local used = redis.call('INCR', KEYS[3])
if used == 1 then redis.call('EXPIRE', KEYS[3], ARGV[2] * 2) end
return {key, account, used}
"""

# A webhook's delivery state and log entry (streams/store/webhooks.py), written only while
# the webhook exists: one deleted mid-delivery is not brought back as a stray cursor.
# KEYS: def, state, deliveries; ARGV: log entry ('' = none), log maxlen, field, value...
WEBHOOK_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
if ARGV[1] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[1])
end
return 1
"""
# A webhook's delivery lease, renewed or released only by the process holding it.
# KEYS: lease; ARGV: holder's token (, ttl ms)
LEASE_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
LEASE_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
