-- A webhook's delivery lease, renewed or released only by the process holding it.
-- KEYS: lease; ARGV: holder's token (, ttl ms)
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
