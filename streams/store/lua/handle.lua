-- One action of the warning workbench (assign, dispose, snooze, lift a snooze): the
-- enterprise's handling record, its handling log, the audit trail and the current
-- dispositions per rule change together, at most once per idempotency key. A
-- disposition is also handed to the rules (the firm's judgements, read by the worker
-- with its state) with a nudge to re-evaluate the firm as of its instant. An action
-- that decided from the field's value may ask that value to be unchanged: if another
-- action changed it meanwhile, nothing is written and the caller decides again.
-- KEYS: handling hash, handling log (list), audit stream, disposition counts,
--       idempotency key (its answer), judgements (hash USCC -> JSON), nudges
-- ARGV: field, value, audit record (also the log entry), answer, maxlen,
--       idempotency ttl in s (0: no key), count rule ('' = not a disposition),
--       judgement JSON ('' = none), uscc, nudge score,
--       expected ('' = any; '-' = absent; '=' .. value = exactly that value),
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
if ARGV[11] ~= '' then
  local expected = ARGV[11]
  if expected == '-' then
    if before then return {2, before} end
  elseif (not before) or ('=' .. before) ~= expected then
    return {2, before or ''}
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if string.sub(ARGV[1], 1, 2) == 'a:' and ARGV[12] then
  local function assignee(raw)
    local a = cjson.decode(raw)
    if type(a['account_id']) == 'string' then return 'a:' .. a['account_id'] end
    if type(a['unit']) == 'string' then return 'u:' .. a['unit'] end
    return nil
  end
  local was = before and assignee(before)
  if was then redis.call('ZREM', ARGV[12] .. was, ARGV[13]) end
  local who = assignee(ARGV[2])
  if who then redis.call('ZADD', ARGV[12] .. who, redis.call('TIME')[1], ARGV[13]) end
end
if ARGV[7] ~= '' then
  -- the counts hold each warning's latest disposition: a correction moves its count
  if before then
    redis.call('HINCRBY', KEYS[4], ARGV[7] .. '|' .. cjson.decode(before)['disposition'], -1)
  end
  redis.call('HINCRBY', KEYS[4], ARGV[7] .. '|' .. cjson.decode(ARGV[2])['disposition'], 1)
end
if ARGV[8] ~= '' then
  local judged = cjson.decode(ARGV[8])
  local held = redis.call('HGET', KEYS[6], ARGV[9])
  -- an empty JSON object: cjson cannot tell it from an empty array, so start with text
  local entry = '"' .. judged['warning_id'] .. '":' .. ARGV[8]
  if held and held ~= '{}' then
    local all = cjson.decode(held)
    all[judged['warning_id']] = nil
    local rest = cjson.encode(all)
    if rest ~= '{}' and rest ~= '[]' then
      entry = entry .. ',' .. string.sub(rest, 2, -2)
    end
  end
  redis.call('HSET', KEYS[6], ARGV[9], '{' .. entry .. '}')
  redis.call('ZADD', KEYS[7], ARGV[10], ARGV[9])
end
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, 999)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'data', ARGV[3])
if ARGV[6] ~= '0' then
  redis.call('SET', KEYS[5], ARGV[4], 'EX', ARGV[6])
end
return {1, ARGV[4]}
