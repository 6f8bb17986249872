-- A webhook's delivery state and log entry (streams/store/webhooks.py), written only while
-- the webhook exists: one deleted mid-delivery is not brought back as a stray cursor.
-- KEYS: def, state, deliveries; ARGV: log entry ('' = none), log maxlen, field, value...
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
if ARGV[1] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[1])
end
return 1
