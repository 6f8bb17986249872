-- A webhook's delivery lease, released only by the process holding it.
-- KEYS: lease; ARGV: holder's token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
