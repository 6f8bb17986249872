-- One action of the warning workbench (assign, dispose, snooze, lift a snooze): the
-- enterprise's handling record, its handling log, the audit trail and the current
-- dispositions per rule change together, at most once per idempotency key.
-- KEYS: handling hash, handling log (list), audit stream, disposition counts,
--       idempotency key (its answer)
-- ARGV: field, value, audit record (also the log entry), answer, maxlen,
--       idempotency ttl in s (0: no key), count rule ('' = not a disposition),
--       the assignee indexes' key prefix, the warning's member there (USCC|WARNING_ID)
-- An assignment also moves the warning from its former assignee's index to the new
-- one's (PREFIX a:ACCOUNT or PREFIX u:UNIT, scored by the time assigned): warnings by
-- assignee without a scan (streams/store/indexes.py). Those keys are built here from
-- the prefix, as the commit's index keys are: global keys, outside the firm's slot.
if ARGV[6] ~= '0' then
  local done = redis.call('GET', KEYS[5])
  if done then return {0, done} end
end
local before = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if string.sub(ARGV[1], 1, 2) == 'a:' and ARGV[8] then
  local function assignee(raw)
    local a = cjson.decode(raw)
    if type(a['account_id']) == 'string' then return 'a:' .. a['account_id'] end
    if type(a['unit']) == 'string' then return 'u:' .. a['unit'] end
    return nil
  end
  local was = before and assignee(before)
  if was then redis.call('ZREM', ARGV[8] .. was, ARGV[9]) end
  local who = assignee(ARGV[2])
  if who then redis.call('ZADD', ARGV[8] .. who, redis.call('TIME')[1], ARGV[9]) end
end
if ARGV[7] ~= '' then
  -- the counts hold each warning's latest disposition: a correction moves its count
  if before then
    redis.call('HINCRBY', KEYS[4], ARGV[7] .. '|' .. cjson.decode(before)['disposition'], -1)
  end
  redis.call('HINCRBY', KEYS[4], ARGV[7] .. '|' .. cjson.decode(ARGV[2])['disposition'], 1)
end
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, 999)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'data', ARGV[3])
if ARGV[6] ~= '0' then
  redis.call('SET', KEYS[5], ARGV[4], 'EX', ARGV[6])
end
return {1, ARGV[4]}
