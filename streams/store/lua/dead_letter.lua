-- A dead letter on its stream, once per identity (a redelivered one is not added again).
-- KEYS: seen identities, stream; ARGV: identity, record, maxlen
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'data', ARGV[2])
return 1
