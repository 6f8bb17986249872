-- One action of the warning workbench (assign, dispose, snooze, lift a snooze): the
-- enterprise's handling record, its handling log, the audit trail and the current
-- dispositions per rule change together, at most once per idempotency key.
-- KEYS: handling hash, handling log (list), audit stream, disposition counts,
--       idempotency key (its answer)
-- ARGV: field, value, audit record (also the log entry), answer, maxlen,
--       idempotency ttl in s (0: no key), count rule ('' = not a disposition)
if ARGV[6] ~= '0' then
  local done = redis.call('GET', KEYS[5])
  if done then return {0, done} end
end
local before = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
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
