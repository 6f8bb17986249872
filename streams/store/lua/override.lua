-- A regulator's grade override set or lifted: the override itself, an audit record,
-- and a nudge so the enterprise is re-evaluated at once (as of the moment it was set).
-- KEYS: overrides, audit stream, nudges
-- ARGV: uscc, override JSON ('' = lift), audit record, nudge score, maxlen
if ARGV[2] == '' then
  if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'data', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 1
